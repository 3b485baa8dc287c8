"""A client's request written through to a driver's pipe (``DriverConnection.write_through``).

The shortcut writes a request to asyncio's pipe transport's descriptor itself while the
transport's buffer is empty. Real pipes: one that is full takes part of a request, and the rest
goes to the transport's buffer, with the requests after it, in order; a pipe whose reader is
gone is the transport's error to report, not an exception in the shortcut.
"""

from __future__ import annotations

import asyncio
import os

from indipyserver.drivers.driverconnection import DriverConnection
from indipyserver.drivers.driverconnection import _pipe_fd
from indipyserver.drivers.outbound import OutboundProtocol
from indipyserver.drivers.outbound import WriteGate
from indipyserver.routing.ports import DriverSide


class PipeDriver(DriverConnection):
    """A driver connection whose peer is the read end of a pipe the test holds."""

    async def run(self, router: DriverSide) -> None:
        await asyncio.Event().wait()


async def on_a_pipe() -> tuple[PipeDriver, asyncio.WriteTransport, int]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    transport, _ = await asyncio.get_running_loop().connect_write_pipe(
        lambda: OutboundProtocol(WriteGate()), os.fdopen(write_fd, "wb", buffering=0))
    driver = PipeDriver("pipe")
    driver.attach_writer(transport)
    return driver, transport, read_fd


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


def test_a_request_to_a_full_pipe_keeps_its_rest_and_the_order() -> None:
    async def run() -> None:
        driver, transport, read_fd = await on_a_pipe()
        try:
            assert _pipe_fd(transport) >= 0  # asyncio's pipe: written to directly
            # (The bytes of two requests: the connection passes them on unread.)
            big = b"a" * (1 << 20)  # past the pipe's 64 KiB
            small = b"b" * 60
            assert driver.write_through(big)
            assert transport.get_write_buffer_size() > 0  # the rest is the transport's
            assert driver.write_through(small)  # after it, through the transport's buffer
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
        finally:
            transport.close()
            os.close(read_fd)

    asyncio.run(run())


def test_a_request_to_a_pipe_nobody_reads_is_the_transports_error() -> None:
    async def run() -> None:
        driver, transport, read_fd = await on_a_pipe()
        errors: list[dict[str, object]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        os.close(read_fd)  # the driver is gone
        assert driver.write_through(b"c" * 60)  # no exception here...
        await asyncio.sleep(0)
        assert transport.is_closing()  # ...the transport met EPIPE and closed itself
        assert not driver.write_through(b"c" * 60)  # then: the general path's
        transport.close()

    asyncio.run(run())
