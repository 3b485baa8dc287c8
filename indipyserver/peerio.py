"""Byte plumbing shared by executable drivers and remote servers: asyncio protocols, no tasks.

Reading: every chunk goes straight through a ``Framer`` to the router (``data_received``), so a
BLOB of many megabytes is never copied into a line buffer. Writing: ``pump`` moves batches from
the connection's bounded queue (``DriverConnection.send``/``outgoing``) to the transport, waiting
while the transport is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipydriver.protocol.errors import ProtocolError
from indipydriver.protocol.framing import Frame, Framer

if TYPE_CHECKING:
    from .driverconn import DriverConnection

__all__ = ["InboundProtocol", "OutboundProtocol", "StreamProtocol", "WriteGate", "pump"]

logger = logging.getLogger(__name__)


class WriteGate:
    """Transport flow control as something to await: closed while the transport is paused."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()

    def pause(self) -> None:
        self._writable.clear()

    def resume(self) -> None:
        self._writable.set()

    async def wait(self) -> None:
        await self._writable.wait()


async def pump(conn: DriverConnection, transport: asyncio.WriteTransport, gate: WriteGate) -> None:
    """Move the connection's queued bytes to the transport, one batch per wake-up.

    Only one batch sits in the transport's buffer at a time (the gate waits for it to drain
    below the high-water mark); the rest stays in the connection's bounded queue.
    """
    while not transport.is_closing():
        data = await conn.outgoing()
        if transport.is_closing():
            return
        transport.write(data)
        await gate.wait()


class InboundProtocol(asyncio.Protocol):
    """Frames a byte stream and hands each batch of complete elements to ``on_frames``."""

    def __init__(self, on_frames: Callable[[list[Frame]], None], label: str) -> None:
        self._on_frames = on_frames
        self._label = label
        self._framer = Framer()
        self._transport: asyncio.ReadTransport | None = None
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Nothing is read until start(): data arriving before the owner has told the router
        # the peer is ready would reach the router for a connection it does not know yet.
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport
        transport.pause_reading()

    def start(self) -> None:
        """Begin reading (call after ``router.driver_ready``)."""
        if self._transport is not None:
            self._transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        frames: list[Frame] = []
        for item in self._framer.feed(data):
            if isinstance(item, ProtocolError):
                # INDI 1.7 p.3: ignore what is malformed; indiserver closes the peer instead.
                logger.warning("%s sent malformed XML, ignored: %s", self._label, item)
            else:
                frames.append(item)
        if frames:
            self._on_frames(frames)

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            logger.info("%s: connection lost: %s", self._label, exc)
        self.closed.set()


class OutboundProtocol(asyncio.BaseProtocol):
    """The write pipe's protocol: passes flow control to a ``WriteGate``."""

    def __init__(self, gate: WriteGate) -> None:
        self._gate = gate

    def pause_writing(self) -> None:
        self._gate.pause()

    def resume_writing(self) -> None:
        self._gate.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gate.resume()  # wake the pump, which then sees the closed transport


class StreamProtocol(InboundProtocol):
    """Both directions over one socket (a remote INDI server)."""

    def __init__(self, on_frames: Callable[[list[Frame]], None], label: str, gate: WriteGate) -> None:
        super().__init__(on_frames, label)
        self._gate = gate

    def pause_writing(self) -> None:
        self._gate.pause()

    def resume_writing(self) -> None:
        self._gate.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        self._gate.resume()
        super().connection_lost(exc)
