"""Why an attempt to connect failed, as the client library says it (``failure_reason``), and
that a real refusal and an unknown host name set ``Connection.last_failure`` while the client
keeps retrying (issue 43 item 6: the terminal's status line shows it)."""

from __future__ import annotations

import socket

import pytest
from waiting import until

import indipyclient
from indipyclient.session.connection import CONNECT_TIMEOUT
from indipyclient.session.connection import failure_reason


def test_failure_reasons_are_the_systems_words() -> None:
    """asyncio's "Connect call failed" becomes the errno's text; a resolver error keeps its
    own; one attempt timing out says after how long; several addresses failing alike (as
    ``localhost`` on ::1 and 127.0.0.1) give one reason."""
    assert failure_reason(ConnectionRefusedError(111, "Connect call failed ('h', 1)")) == (
        "Connection refused")
    assert failure_reason(socket.gaierror(-2, "Name or service not known")) == (
        "Name or service not known")
    assert failure_reason(TimeoutError()) == f"timed out after {CONNECT_TIMEOUT:g} s"
    both = OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 1, 0, 0), "
                   "[Errno 111] Connect call failed ('127.0.0.1', 1)")
    assert failure_reason(both) == "Connection refused"


@pytest.mark.parametrize(("host", "refused"), [("127.0.0.1", True),
                                               ("no-such-host.invalid", False)])
async def test_last_failure_says_why_while_the_client_keeps_trying(
        host: str, refused: bool, free_port: int) -> None:
    """Nothing listening, or a name that does not resolve: ``last_failure`` gives the reason
    and the client goes on trying (the attempts count grows)."""
    client = indipyclient.Client(host, free_port, connect_timeout=None,
                                 retry=indipyclient.Retry(indipyclient.ConstantBackoff(0.05)))
    await client.start()
    try:
        await until(lambda: client.connection.attempts >= 3, 10, "three attempts")
        reason = client.connection.last_failure
        if refused:
            assert reason == "Connection refused"
        else:
            assert reason and reason != "Connection refused"
    finally:
        await client.close()


async def test_each_failed_attempt_is_handed_to_on_connect_failure_at_once(
        free_port: int) -> None:
    """``on_connect_failure`` gets the reason of each failed attempt as it fails (before the
    retry's delay), so a tool can say it at once; the reason is "Connection refused" for a
    port nothing listens on."""
    reasons: list[str] = []
    client = indipyclient.Client("127.0.0.1", free_port, connect_timeout=None,
                                 retry=indipyclient.Retry(indipyclient.ConstantBackoff(60)),
                                 on_connect_failure=reasons.append)
    await client.start()
    try:
        await until(lambda: reasons, 10, "the first failure handed over")
        assert reasons == ["Connection refused"]  # one: the next attempt is a minute away
    finally:
        await client.close()


async def test_first_failure_ends_the_wait_with_the_reason(free_port: int) -> None:
    """With ``first_failure_ends`` a refused connection ends ``start()`` at the first attempt,
    long before ``connect_timeout``, with "cannot connect to HOST:PORT: Connection refused";
    without it the wait lasts ``connect_timeout`` and its error names the last reason too."""
    import time

    started = time.monotonic()
    with pytest.raises(ConnectionError) as raised:
        await indipyclient.Client("127.0.0.1", free_port, connect_timeout=120,
                                  first_failure_ends=True).start()
    assert str(raised.value) == f"cannot connect to 127.0.0.1:{free_port}: Connection refused"
    assert time.monotonic() - started < 60
    with pytest.raises(ConnectionError) as raised:
        await indipyclient.Client("127.0.0.1", free_port, connect_timeout=0.5).start()
    assert str(raised.value) == (f"could not connect to 127.0.0.1:{free_port} within 0.5 s "
                                 "(Connection refused)")
