"""Writing to executable drivers and remote servers: the transport's flow control, no tasks
per message.

``pump`` attaches a transport to its connection, which then writes its bounded queue
(``DriverConnection.send``) straight to it once per batch, and keeps it in the queue while the
transport is above its high-water mark (`WriteGate`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indipyserver.drivers.driverconnection import DriverConnection

__all__ = ["OutboundProtocol", "WriteGate", "pump"]


class WriteGate:
    """Transport flow control: tells the attached connection, and can be awaited."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()
        self._closed = asyncio.Event()
        self.conn: DriverConnection | None = None

    def pause(self) -> None:
        self._writable.clear()
        if self.conn is not None:
            self.conn.writer_paused(True)

    def resume(self) -> None:
        self._writable.set()
        if self.conn is not None:
            self.conn.writer_paused(False)

    def close(self) -> None:
        """The transport is gone (its protocol's connection_lost)."""
        self._closed.set()
        self.resume()

    @property
    def writable(self) -> bool:
        return self._writable.is_set()

    async def wait(self) -> None:
        await self._writable.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()


async def pump(conn: DriverConnection, transport: asyncio.WriteTransport, gate: WriteGate) -> None:
    """Connect the connection's queue to the transport until the transport closes.

    The connection then writes its queued bytes itself, once per read batch, and stops while
    the transport is above its high-water mark, so only about one batch sits in the
    transport's buffer; the rest stays in the connection's bounded queue. No task wakes per
    message (that would cost an event-loop turn of latency on every request).
    """
    gate.conn = conn
    conn.attach_writer(transport)
    if not gate.writable:
        conn.writer_paused(True)
    try:
        while not transport.is_closing():
            try:
                # Wakes now and then to notice a transport closed without connection_lost.
                async with asyncio.timeout(1.0):  # (wait_for can lose a cancellation)
                    await gate.wait_closed()
            except TimeoutError:
                pass
    finally:
        gate.conn = None
        conn.detach_writer()


class OutboundProtocol(asyncio.BaseProtocol):
    """The write pipe's protocol: passes flow control to a ``WriteGate``."""

    def __init__(self, gate: WriteGate) -> None:
        self._gate = gate

    def pause_writing(self) -> None:
        self._gate.pause()

    def resume_writing(self) -> None:
        self._gate.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gate.close()  # ends the pump
