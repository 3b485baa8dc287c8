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
