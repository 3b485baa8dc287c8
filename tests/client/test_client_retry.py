"""The client library (and so the terminal and the web client) reconnects as the ``retry`` it
is given says: a real refused connection on a free loopback port is retried after exactly the
delays the injected backoff gave, and a connection that worked resets its count."""

from __future__ import annotations

import asyncio

import pytest
import retrykit as rk
from waiting import until

import indipyclient
from indipyclient import ConnectionLost
from indipyclient import NotConnected
from indipyclient import Retry
from indipyclient.model.tree import Model
from indipyclient.session.connection import Connection


async def test_the_client_waits_the_delays_its_retry_gives_and_resets_after_a_connection(
        free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused three times: the client slept 0.031, 0.032 and 0.033 s as its backoff said;
    then a server accepts and drops it, and the next failure counts from 1 again."""
    backoff, slept = rk.recorded(monkeypatch, 0.031, 0.032, 0.033)
    client = indipyclient.connect("127.0.0.1", free_port, retry=Retry(backoff),
                                  connect_timeout=None)
    async with client, client.events() as stream:
        await until(lambda: len(backoff.asked) >= 3, what="three refusals")
        async with rk.dropping_server(free_port) as received:
            async for event in stream:
                if isinstance(event, ConnectionLost):
                    break
            await until(lambda: rk.counted_then_reset(backoff.asked, 3), what="a reset")
    assert b"getProperties" in received[0]
    assert rk.slept_in_order(slept, [0.031, 0.032, 0.033])


async def test_a_retry_with_a_limit_ends_the_connection_with_not_connected(
        free_port: int) -> None:
    """retries=2: refused three times, the connection gives up (NotConnected says so), and a
    client waiting for its first connection is told at once, not at its timeout."""
    backoff = rk.RecordingBackoff(0.01)
    connection = Connection("127.0.0.1", free_port, Model(), None,
                            retry=Retry(backoff, retries=2))
    with pytest.raises(NotConnected, match="gave up .* after 2 failures"):
        await connection.run()
    assert backoff.asked == [1, 2]
    # The guard is a third of connect_timeout: waiting for that timeout fails the test.
    with pytest.raises(ConnectionError, match="could not connect"):
        async with asyncio.timeout(20), indipyclient.connect(
                "127.0.0.1", free_port, connect_timeout=60,
                retry=Retry(rk.RecordingBackoff(0.01), retries=1)):
            pass


async def test_a_client_whose_retry_gives_up_ends_its_event_streams(
        free_port: int, caplog: pytest.LogCaptureFixture) -> None:
    """Not waiting for a first connection, a program reading events() is not left waiting
    for ever: the stream ends and the log says why."""
    client = indipyclient.connect("127.0.0.1", free_port, connect_timeout=None,
                                  retry=Retry(rk.RecordingBackoff(0.01), retries=2))
    async with client:
        async with client.events() as stream:
            assert [event async for event in stream] == []
        assert "gave up on 127.0.0.1" in caplog.text
        async with client.events() as late:  # made after it gave up: ends at once too
            assert [event async for event in late] == []


async def test_backoff_alone_keeps_the_clients_stable_run(free_port: int) -> None:
    """The old parameters still work: ``backoff=`` replaces the delays only, ``stable_after``
    still decides when a connection counts as a success."""
    backoff = rk.RecordingBackoff(0.02)
    connection = Connection("127.0.0.1", free_port, Model(), None, backoff=backoff,
                            stable_after=7.0)
    assert connection.retry.backoff is backoff and connection.retry.stable_after == 7.0
    assert connection.retry.retries is None


async def test_a_start_given_up_by_its_caller_leaves_no_connection_going(
        free_port: int) -> None:
    """A program's own timeout ends ``async with connect(...)`` before the first connection:
    the client's connection is cancelled with it, not left retrying (and, once the server is
    up, connected) with nobody to close it; the client may be started again."""
    backoff = rk.RecordingBackoff(0.01)
    client = indipyclient.connect("127.0.0.1", free_port, connect_timeout=60,
                                  retry=Retry(backoff))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3), client:
            pass
    await asyncio.sleep(0.05)  # the cancelled connection's last turn
    asked = len(backoff.asked)
    assert asked > 0
    await asyncio.sleep(0.2)
    assert len(backoff.asked) == asked  # no longer retrying
    assert not [task for task in asyncio.all_tasks()
                if task.get_name().startswith("indipyclient") and not task.done()]
    async with rk.dropping_server(free_port) as received, asyncio.timeout(20), client:
        await until(lambda: received, what="the second start's connection (started again)")
