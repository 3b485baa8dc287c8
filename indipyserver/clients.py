"""One TCP client connection: an asyncio Protocol between a socket and the router.

A Protocol rather than streams: reads are framed and routed in the same callback, and writes go
straight to the transport, batched once per event-loop turn (one `write` for every element
queued in that turn), so there is no per-message await or task on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from indipydriver.protocol.errors import ProtocolError
from indipydriver.protocol.framing import Frame, Framer

from .clientqueue import ClientQueue
from .router import message_frame

if TYPE_CHECKING:
    from .router import Router

logger = logging.getLogger(__name__)

#: Default `-m`: bytes queued to one client before it is disconnected, as indiserver.
DEFAULT_MAX_CLIENT_QUEUE = 128 * 1024 * 1024

#: Protocol errors in a row (no good element between) before a client is dropped.
MAX_BAD_IN_A_ROW = 10


class ClientConnection(asyncio.Protocol):
    """One client; registered with the router while connected."""

    #: Transport buffer limits: past HIGH_WATER the rest waits in our queue, where it can be
    #: coalesced. Large elements are written CHUNK bytes at a time.
    HIGH_WATER = 1024 * 1024
    LOW_WATER = 256 * 1024
    CHUNK = 256 * 1024

    def __init__(
        self,
        router: Router,
        connections: set[ClientConnection],
        *,
        maxconnections: int = 100,
        max_queue_bytes: int = DEFAULT_MAX_CLIENT_QUEUE,
    ) -> None:
        self.router = router
        self.connections = connections
        self.maxconnections = maxconnections
        self.max_queue_bytes = max_queue_bytes
        self.label = "client"
        self._queue = ClientQueue()
        self._framer = Framer()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._paused = False
        self._flush_pending = False
        self._closing = False
        self._eof = False
        self._bad = 0
        self._registered = False
        # Below this the queue cannot be over the limit, whatever the transport holds.
        self._check_from = max_queue_bytes - self.HIGH_WATER - self.CHUNK
        self.closed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<ClientConnection {self.label}>"

    @property
    def queued_bytes(self) -> int:
        """Bytes held for this client: our queue plus the transport's buffer."""
        buffered = self._transport.get_write_buffer_size() if self._transport else 0
        return self._queue.nbytes + buffered

    @property
    def dropped(self) -> int:
        """Superseded elements dropped because the client was behind."""
        return self._queue.dropped

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.label = f"{peer[0]}:{peer[1]}"
        if len(self.connections) >= self.maxconnections:
            logger.warning(
                "refused client %s: already %d connections (maxconnections)",
                self.label,
                len(self.connections),
            )
            text = f"Connection refused: the server already has {self.maxconnections} clients"
            transport.write(message_frame(text).data)
            self._closing = True
            transport.close()
            return
        transport.set_write_buffer_limits(high=self.HIGH_WATER, low=self.LOW_WATER)
        self.connections.add(self)
        self._registered = True
        self.router.add_client(self)
        logger.info("client %s connected", self.label)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._queue.clear()
        if self._registered:
            self._registered = False
            self.connections.discard(self)
            self.router.client_lost(self)
            logger.info("client %s disconnected%s", self.label, f": {exc}" if exc else "")
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        good: list[Frame] = []
        for item in self._framer.feed(data):
            if isinstance(item, ProtocolError):
                self._bad += 1
                logger.warning("client %s sent malformed XML: %s", self.label, item)
                if "larger than" in str(item):
                    self._bad = MAX_BAD_IN_A_ROW
            else:
                self._bad = 0
                good.append(item)
        if good:
            self.router.client_frames(self, good)
        if self._bad >= MAX_BAD_IN_A_ROW:
            logger.error("client %s keeps sending malformed XML: disconnected", self.label)
            self.close()

    def eof_received(self) -> bool:
        # indiserver still handles what a half-closed client sent (indi_setprop does this);
        # everything has been routed already, so send what is queued, then close.
        self._eof = True
        if not self._queue:
            return False
        self._schedule_flush()
        return True

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._flush()

    # -- the router's side -----------------------------------------------------------------

    def send_frame(self, frame: Frame) -> None:
        """Queue one element; never blocks. Coalesces while the client is behind."""
        if self._closing:
            return
        queue = self._queue
        queue.put(frame, self._paused)
        if queue.nbytes > self._check_from and self.queued_bytes > self.max_queue_bytes:
            logger.warning(
                "client %s disconnected: more than %d bytes queued (it is not reading)",
                self.label,
                self.max_queue_bytes,
            )
            self.abort()
            return
        if not self._paused:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write everything queued this turn as few writes as possible, until paused."""
        self._flush_pending = False
        transport = self._transport
        if transport is None or self._closing:
            return
        queue = self._queue
        while queue and not self._paused:
            transport.write(queue.take(self.CHUNK))
        if self._eof and not queue:
            self.close()

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close after the transport's buffer is written."""
        self._closing = True
        self._queue.clear()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping whatever is buffered."""
        self._closing = True
        self._queue.clear()
        if self._transport is not None:
            self._transport.abort()
