"""The server's remotes and executable drivers follow the policy they are given
(``retry=``): a refused remote is retried after the injected backoff's delays and a connection
that worked resets the count; a dying driver is restarted after its delays and given up after
its limit."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
import retrykit as rk
from serverdoubles import RecordingDriverSide
from waiting import until

from indipycore.retrypolicy import Retry
from indipyserver.drivers.executable import ExDriverConnection
from indipyserver.drivers.remote import RemoteConnection


async def test_a_remote_reconnects_with_its_injected_retry(
        free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    backoff, slept = rk.recorded(monkeypatch, 0.061, 0.062, 0.063)
    conn = RemoteConnection("127.0.0.1", free_port, retry=Retry(backoff))
    router = RecordingDriverSide(b'<getProperties version="1.7" device="*"/>')
    task = asyncio.create_task(conn.run(router))  # type: ignore[arg-type]
    try:
        await until(lambda: len(backoff.asked) >= 3, what="three refusals")
        async with rk.dropping_server(free_port):
            await until(lambda: rk.counted_then_reset(backoff.asked, 3), what="a reset")
        assert router.count("ready") >= 1 and router.count("lost") >= 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert rk.slept_in_order(slept, [0.061, 0.062, 0.063])


async def test_a_remote_whose_retry_gives_up_is_logged_not_raised(
        free_port: int, caplog: pytest.LogCaptureFixture) -> None:
    conn = RemoteConnection("127.0.0.1", free_port, retry=Retry(rk.RecordingBackoff(0.01), 2))
    async with asyncio.timeout(10):
        await conn.run(RecordingDriverSide(b""))  # type: ignore[arg-type]
    assert "gave up on remote 127.0.0.1" in caplog.text and "after 2 failures" in caplog.text


async def test_a_dying_driver_is_restarted_after_its_injected_delays(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Each death asks the backoff (1, 2, 3); the wait is the delay it gave (logged with it);
    the limit of the retry ends it (its runs are shorter than its stable_after, so a spawn
    alone does not reset the count)."""
    driver = tmp_path / "dies.py"
    driver.write_text("import sys; sys.exit(3)\n")
    backoff = rk.RecordingBackoff(0.1, 0.2, 0.3)
    conn = ExDriverConnection(sys.executable, str(driver), 
                               retry=Retry(backoff, retries=3, stable_after=60))
    with caplog.at_level(logging.WARNING):
        async with asyncio.timeout(20):
            await conn.run(RecordingDriverSide(b""))  # type: ignore[arg-type]
    assert backoff.asked == [1, 2, 3]
    waits = [r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records
             if r.getMessage().startswith("restarting driver")]
    assert waits == ["0.1 s", "0.2 s", "0.3 s"]
    assert conn.exited_for_good and "exited for good after 3 restarts" in caplog.text


async def test_a_remote_cancelled_as_its_connection_completes_still_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's Ctrl-C cancels each remote once. One cancelled in the very turn its
    connection is made must end all the same: Python 3.11's ``wait_for`` returned the
    connection and dropped that cancellation, and the remote then stayed connected (and kept
    reconnecting) for ever, so a chain of servers sharing a loop did not stop (seen once in a
    fresh-clone CI run of tests/examples/test_chain_ctrl_c.py)."""
    held: list[asyncio.StreamWriter] = []

    async def keep(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(keep, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    connect = loop.create_connection
    task: asyncio.Task[None] | None = None

    async def connected_then_cancelled(*args: object, **kwargs: object) -> object:
        made = await connect(*args, **kwargs)  # type: ignore[arg-type]
        assert task is not None
        task.cancel()  # the cancellation arrives as the connection completes
        return made

    monkeypatch.setattr(loop, "create_connection", connected_then_cancelled)
    conn = RemoteConnection("127.0.0.1", port, retry=Retry(rk.RecordingBackoff(0.01)))
    task = asyncio.create_task(conn.run(RecordingDriverSide(b"")))  # type: ignore[arg-type]
    try:
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, "the remote went on after its cancellation"
        assert task.cancelled()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
