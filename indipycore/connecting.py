"""How every INDI connection is opened: bounded by one timeout.

A host that drops the packets (a firewall, a machine switched off on the LAN) answers nothing,
and the operating system retries the SYN for minutes: the retry loop would sit in one attempt
all that time. So the client library's connection, the bridges' INDI link and the server's
remotes all open their connection through ``connect_within``, bounded by ``CONNECT_TIMEOUT``
(each takes a ``connect_timeout`` to override it); a connection that times out is a failure
like a refusal, and the loop retries it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["CONNECT_TIMEOUT", "connect_within"]

T = TypeVar("T")

#: Seconds one attempt to connect to an INDI server may take.
CONNECT_TIMEOUT = 10.0


async def connect_within(opening: Awaitable[T], timeout: float | None = CONNECT_TIMEOUT) -> T:
    """Await ``opening`` (``loop.create_connection(...)`` or the like) for at most ``timeout``
    seconds (None: unbounded); past it, ``TimeoutError("timed out after N s")``.

    ``asyncio.timeout``, not ``wait_for``: Python 3.11's ``wait_for`` returns the connection and
    drops a cancellation that arrives as it completes, and the loop around it then never ends
    (50efc13)."""
    bound = asyncio.timeout(timeout)
    try:
        async with bound:
            return await opening
    except TimeoutError:
        if bound.expired():
            raise TimeoutError(f"timed out after {timeout:g} s") from None
        raise  # the operating system's own (ETIMEDOUT), not ours
