"""The bridges' INDI link bounds each connect with the one connect timeout of every INDI
connection (``indipycore.connecting``): pointed at an address that never answers, it gives up
each attempt within its timeout and tries again, where it used to sit in one connect for the
two minutes the kernel retries a SYN (issue 57 item 4).

The address that never answers is on loopback: a listener with a backlog of 0 whose accept
queue is filled with a connection never accepted, after which Linux drops every further SYN,
so a connect hangs as it does to a host whose firewall drops the packets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
import retrykit as rk
from waiting import until

from indipycore.connecting import CONNECT_TIMEOUT
from indipycore.retrypolicy import Retry
from indiredis.indilink import IndiLink


async def _nothing(*args: object) -> None:
    return None


@contextlib.asynccontextmanager
async def silent_address() -> AsyncIterator[tuple[str, int]]:
    """A loopback address whose connects hang: the listener's accept queue is full (it never
    accepts), so its SYNs are dropped. Filled until a connect is seen hanging."""
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held = [listener]
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            held.append(filler)
            try:
                async with asyncio.timeout(0.2):
                    await loop.sock_connect(filler, address)
            except TimeoutError:
                break  # this one hangs: the queue is full
        else:
            pytest.fail("every connect to the listener completed: its queue never filled")
        yield address
    finally:
        for sock in held:
            sock.close()


async def test_the_indi_link_gives_up_a_connect_that_never_answers_and_retries(
        caplog: pytest.LogCaptureFixture) -> None:
    """A 0.2 s connect timeout: two attempts took at least 0.4 s and far less than one SYN
    retry cycle, each logged as timed out, and the link never connected."""
    timeout = 0.2
    backoff = rk.RecordingBackoff(0.01)
    async with silent_address() as (host, port):
        link = IndiLink(host, port, _nothing, retry=Retry(backoff), connect_timeout=timeout)
        with caplog.at_level(logging.INFO, logger="indiredis"):
            started = time.monotonic()
            task = asyncio.create_task(link.run())
            try:
                await until(lambda: len(backoff.asked) >= 2, timeout=10,
                            what="two attempts given up")
                elapsed = time.monotonic() - started
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    assert backoff.asked[:2] == [1, 2]
    assert 2 * timeout * 0.95 <= elapsed < 3.0, elapsed
    timed_out = [r.getMessage() for r in caplog.records
                 if f"timed out after {timeout:g} s" in r.getMessage()]
    assert len(timed_out) >= 2 and all("retrying in" in m for m in timed_out), timed_out
    assert not link.connected.is_set()


def test_the_link_has_the_one_connect_timeout_by_default() -> None:
    """The bridges, the client library and the server's remotes share ``CONNECT_TIMEOUT``."""
    assert IndiLink("127.0.0.1", 7624, _nothing).connect_timeout == CONNECT_TIMEOUT
