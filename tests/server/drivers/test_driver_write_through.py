"""A client's request written through to a driver's stdin (``DriverConnection.write_through``)
by the server's own pipe transport (``drivers.pipewriter.PipeWriter``).

Real pipes and processes: a full pipe takes part of a request, and the rest waits in the
transport, with the requests after it, in order; a driver that stops reading holds at most the
transport's high-water mark and one request in the transport and its connection's bounded
queue beside it, while the loop goes on; a driver that dies ends the transport with a clear
error (BrokenPipeError, to ``connection_lost``), never an exception in the shortcut nor one
reported to the loop; and on a socket with a tiny buffer, requests of any sizes, written
through or queued, arrive whole and in order.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from serverkit import LoopTicks
from waiting import until

from indipycore.writehalf import HIGH_WATER
from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.outbound import OutboundProtocol
from indipyserver.drivers.outbound import WriteGate
from indipyserver.drivers.outbound import pump
from indipyserver.drivers.pipewriter import PipeWriter
from indipyserver.loop import eventloop
from indipyserver.routing.ports import DriverSide

Runner = Callable[[Coroutine[object, object, None]], None]

#: asyncio's loop and the server's own (``loop.eventloop``, its `InlineSelector`).
RUNNERS = pytest.mark.parametrize("run_on", [asyncio.run, eventloop.run], ids=["asyncio", "inline"])

#: A driver that never reads its stdin (the pipe's reader, alive until killed).
DEAF = [sys.executable, "-c", "import time; time.sleep(60)"]


class PipeDriver(DriverConnection):
    """A driver connection whose peer is the read end of a pipe the test holds."""

    async def run(self, router: DriverSide) -> None:
        await asyncio.Event().wait()


class LostProtocol(OutboundProtocol):
    """The executable's protocol, remembering how its transport ended."""

    def __init__(self, gate: WriteGate) -> None:
        super().__init__(gate)
        self.lost: list[Exception | None] = []

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)
        super().connection_lost(exc)


@dataclass
class Wired:
    """A `PipeDriver` pumped into a `PipeWriter` (as ``drivers.executable`` wires them)."""

    driver: PipeDriver
    transport: PipeWriter
    protocol: LostProtocol
    errors: list[dict[str, object]] = field(default_factory=list)


@asynccontextmanager
async def wired(fd: int, max_queue_bytes: int = 1 << 20) -> AsyncIterator[Wired]:
    """`fd` (a pipe's write end or a socket) as a driver's stdin, its pump running, and what
    reaches the loop's exception handler kept."""
    loop = asyncio.get_running_loop()
    gate = WriteGate()
    protocol = LostProtocol(gate)
    w = Wired(PipeDriver("pipe", max_queue_bytes=max_queue_bytes),
              PipeWriter(loop, os.fdopen(fd, "wb", buffering=0), protocol), protocol)
    loop.set_exception_handler(lambda _loop, ctx: w.errors.append(ctx))
    pumping = asyncio.create_task(pump(w.driver, w.transport, gate))
    await asyncio.sleep(0)  # attached
    try:
        yield w
    finally:
        w.transport.abort()
        await asyncio.sleep(0)
        await asyncio.wait_for(pumping, 3)


def drain(fd: int) -> bytes:
    out = bytearray()
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return bytes(out)
        if not chunk:
            return bytes(out)
        out += chunk


@RUNNERS
def test_a_request_to_a_full_pipe_keeps_its_rest_and_the_order(run_on: Runner) -> None:
    async def run() -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        async with wired(write_fd) as w:
            driver, transport = w.driver, w.transport
            # (The bytes of two requests: the connection passes them on unread.)
            big = b"a" * (1 << 20)  # past the pipe's 64 KiB
            small = b"b" * 60
            assert driver.write_through(big)
            assert transport.get_write_buffer_size() > 0  # the rest is the transport's
            # Past the transport's high-water mark: paused, so the router's path, after it.
            assert not driver.write_through(small)
            driver.send(small)
            got = bytearray()
            for _ in range(500):
                got += drain(read_fd)
                if len(got) >= len(big) + len(small):
                    break
                await asyncio.sleep(0.01)
            assert bytes(got) == big + small
            assert transport.get_write_buffer_size() == 0
            assert driver.write_through(small)  # the buffer empty again: straight to the pipe
            assert drain(read_fd) == small
        os.close(read_fd)
        assert w.errors == []

    run_on(run())


def test_a_request_to_a_pipe_nobody_reads_ends_the_transport_with_its_error() -> None:
    async def run() -> None:
        read_fd, write_fd = os.pipe()
        async with wired(write_fd) as w:
            os.close(read_fd)  # the driver is gone
            # No exception here, whether the write or the watch on the pipe sees it first...
            w.driver.write_through(b"c" * 60)
            await until(lambda: w.protocol.lost, 2, "the transport's end")
            assert w.transport.is_closing()  # ...the transport ended itself
            assert not w.driver.write_through(b"c" * 60)  # then: the general path's
        assert w.errors == []  # not a crash for the loop to report

    asyncio.run(run())


async def _deaf_child() -> tuple[asyncio.subprocess.Process, int]:
    """A real process on a pipe's read end that never reads it; our write end."""
    child_in, write_fd = os.pipe()
    process = await asyncio.create_subprocess_exec(*DEAF, stdin=child_in)
    os.close(child_in)
    return process, write_fd


async def test_a_driver_that_stops_reading_holds_a_bounded_amount_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """10 MB of requests to a driver that never reads: the pipe takes its 64 KiB, the transport
    keeps at most its high-water mark and one request, the connection's queue its limit and
    drops the rest with a log line; meanwhile another task keeps running on the loop."""
    process, write_fd = await _deaf_child()
    limit = 256 * 1024
    request = b"r" * 10_000
    ticks = LoopTicks()
    ticks.start()
    try:
        async with wired(write_fd, max_queue_bytes=limit) as w:
            driver, transport = w.driver, w.transport
            peak_buffer = peak_queue = 0
            for _ in range(1000):
                if not driver.write_through(request):
                    driver.send(request)  # the router's path when the shortcut declines
                peak_buffer = max(peak_buffer, transport.get_write_buffer_size())
                peak_queue = max(peak_queue, driver.queued_bytes)
                await asyncio.sleep(0)
            assert 0 < peak_buffer <= HIGH_WATER + len(request)
            assert 0 < peak_queue <= limit
            assert ticks.count >= 1000  # the loop was never held up
            assert "is not reading its input" in caplog.text
            # It dies with bytes waiting for it: the transport ends with BrokenPipeError.
            process.kill()
            await process.wait()
            await until(lambda: w.protocol.lost, 2, "the transport's end")
            assert isinstance(w.protocol.lost[0], BrokenPipeError)
            assert transport.get_write_buffer_size() == 0
            await until(lambda: not driver.write_through(request), 2, "the writer detached")
        assert w.errors == []
    finally:
        ticks.stop()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_driver_that_dies_with_nothing_waiting_ends_the_transport_quietly() -> None:
    """A driver's death with nothing written to it is seen on its stdin at once (as asyncio's
    pipe transport sees it): the transport ends without an error, the pump with it."""
    process, write_fd = await _deaf_child()
    async with wired(write_fd) as w:
        assert w.driver.write_through(b"x" * 100)  # the pipe takes it: nothing waits
        process.kill()
        await process.wait()
        await until(lambda: w.protocol.lost, 2, "the transport's end")
        assert w.protocol.lost == [None]
        assert not w.driver.write_through(b"x" * 100)
    assert w.errors == []


@RUNNERS
@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 40_000), min_size=1, max_size=25),
       reads=st.lists(st.integers(1, 9_000), min_size=1, max_size=8))
def test_requests_to_a_tiny_socket_arrive_whole_and_in_order(
    run_on: Runner, sizes: list[int], reads: list[int]
) -> None:
    """A socket with a few KiB of room, read in small pieces of random sizes: each request
    written through if the shortcut may (partly taken, the rest buffered), else queued as the
    router queues it; the driver's end reads them all, whole and in order."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2048)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        theirs.setblocking(False)
        expected = bytearray()
        async with wired(ours.detach()) as w:
            for i, size in enumerate(sizes):
                request = bytes([i % 251 + 1]) * size
                expected += request
                if not w.driver.write_through(request):
                    w.driver.send(request)
            got = bytearray()
            k = 0
            while len(got) < len(expected):
                chunk = await asyncio.wait_for(loop.sock_recv(theirs, reads[k % len(reads)]), 10)
                assert chunk, "the writer ended early"
                got += chunk
                k += 1
            assert bytes(got) == bytes(expected)
        theirs.close()
        assert w.errors == []

    run_on(run())
