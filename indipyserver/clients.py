"""One TCP client connection: an asyncio Protocol between a socket and the router.

A Protocol rather than streams: reads are framed and routed in the same callback, and writes go
straight to the transport, batched per read (``flowcontrol.LoopFlow``): everything routed from
one read of a peer leaves in one ``write`` per receiver at the end of that same callback, so
there is no per-message await, task or extra event-loop turn on the hot path.

Falling behind has three stages (all bounded): *paused* (the transport is above its high-water
mark; elements wait in our queue), *congested* (our queue passed ``soft_bytes`` while the client
is still reading: driver reads are paused until it catches up, nothing is dropped), *slow* (no
progress for ``SLOW_AFTER`` seconds: superseded sets and BLOBs are dropped for it until it has
caught up completely, and it no longer holds the drivers up). Past ``max_queue_bytes`` it is
disconnected, as indiserver does.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from indipydriver.protocol.errors import ProtocolError
from indipydriver.protocol.framing import Frame, Framer

from .clientqueue import ClientQueue, Parts
from .flowcontrol import flow_for
from .peerio import READ_SIZE, SMALL_READ_SIZE, adapt_read_size
from .serverframes import message_frame

if TYPE_CHECKING:
    from .router import Router

logger = logging.getLogger(__name__)

#: Default `-m`: bytes queued to one client before it is disconnected, as indiserver.
DEFAULT_MAX_CLIENT_QUEUE = 128 * 1024 * 1024

#: Queue bytes past which a client that still reads holds the drivers up (see module doc).
SOFT_QUEUE_BYTES = 4 * 1024 * 1024

#: A congested client that sends nothing to its socket for this long is slow (seconds).
SLOW_AFTER = 0.05

#: A client already paused this long without a single resume when it passes the soft limit
#: is slow at once: it never showed it reads, so it must not stall the others even briefly.
NEVER_RESUMED_SLOW_AFTER = 0.02

#: Protocol errors in a row (no good element between) before a client is dropped.
MAX_BAD_IN_A_ROW = 10


class ClientConnection(asyncio.Protocol):
    """One client; registered with the router while connected."""

    #: Transport buffer limits: past HIGH_WATER the rest waits in our queue, where it can be
    #: coalesced. Large elements are written CHUNK bytes at a time.
    HIGH_WATER = 1024 * 1024
    LOW_WATER = 256 * 1024
    CHUNK = 256 * 1024

    #: Direct writes (`_write_direct`): bytes per write(2), and the most of an unsent rest
    #: handed to the transport so that it tells us (pause/resume) when the socket drains.
    DIRECT_CHUNK = 1024 * 1024
    HANDOFF = 64 * 1024

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
        self._read_size = 0  # adapted per read (peerio.adapt_read_size); 0: not ours
        self._loop = asyncio.get_running_loop()
        self._flow = flow_for(self._loop)
        self._paused = False
        self._paused_at = 0.0
        self._resumed_since_pause = True
        self._marked = False  # a flush is pending in the LoopFlow
        self._closing = False
        self._eof = False
        self._bad = 0
        self._registered = False
        # Below this the queue cannot be over the limit, whatever the transport holds.
        self._check_from = max_queue_bytes - self.HIGH_WATER - self.CHUNK
        # Behind: congested (holds drivers) or slow (coalesces), see the module doc.
        self.soft_bytes = min(SOFT_QUEUE_BYTES, max_queue_bytes // 4)
        self._coalesce_from = max_queue_bytes // 2  # a safety net even when not slow
        # Elements up to this size may be written through (`send_frame`): alone in the queue
        # they can reach neither the limits checked by `_queued` nor a second write chunk.
        self._write_through_max = min(self._check_from, self.soft_bytes, self.CHUNK,
                                      self.DIRECT_CHUNK)
        self._congested = False
        self._slow = False
        self._written = 0  # bytes handed to the transport
        self._progress_mark = 0
        self._progress_at = 0.0
        self._paused_sent = 0  # _sent() when the transport last paused
        self._timer: asyncio.TimerHandle | None = None
        # Direct writes: the socket's descriptor (-1: write through the transport only) and
        # the unsent rest of the last bytes taken from the queue.
        self._fd = -1
        self._tail: bytes | memoryview | None = None
        self.closed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<ClientConnection {self.label}>"

    @property
    def queued_bytes(self) -> int:
        """Bytes held for this client: our queue plus the transport's buffer."""
        buffered = self._transport.get_write_buffer_size() if self._transport else 0
        tail = self._tail
        return self._queue.nbytes + buffered + (len(tail) if tail is not None else 0)

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
        self._fd = _direct_fd(transport)
        if self._fd >= 0:
            # The transport holds at most one HANDOFF piece: paused as soon as it holds
            # anything, resumed once it is empty (see _write_direct).
            transport.set_write_buffer_limits(high=0, low=0)
        else:
            transport.set_write_buffer_limits(high=self.HIGH_WATER, low=self.LOW_WATER)
        if isinstance(getattr(transport, "max_size", None), int):
            # Small reads while the client sends little (peerio.SMALL_READ_SIZE).
            transport.max_size = SMALL_READ_SIZE  # type: ignore[attr-defined]
            self._read_size = SMALL_READ_SIZE
        self.connections.add(self)
        self._registered = True
        self.router.add_client(self)
        logger.info("client %s connected", self.label)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._tail = None
        self._queue.clear()
        self._not_behind()
        if self._registered:
            self._registered = False
            self.connections.discard(self)
            self.router.client_lost(self)
            logger.info("client %s disconnected%s", self.label, f": {exc}" if exc else "")
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        size = self._read_size
        if size and (len(data) >= size or size > SMALL_READ_SIZE > len(data)):
            self._read_size = adapt_read_size(self._transport, len(data), size, READ_SIZE)
        items = self._framer.feed(data)
        good: list[Frame]
        if len(items) == 1 and type(items[0]) is Frame:  # the usual read: one whole element
            self._bad = 0
            good = items  # type: ignore[assignment]
        else:
            good = []
            for item in items:
                if type(item) is Frame:
                    self._bad = 0
                    good.append(item)
                else:
                    assert isinstance(item, ProtocolError)
                    self._bad += 1
                    logger.warning("client %s sent malformed XML: %s", self.label, item)
                    if "larger than" in str(item):
                        self._bad = MAX_BAD_IN_A_ROW
        if good:
            # Whatever this read makes the router send leaves before the callback returns.
            flow = self._flow
            flow.begin(good[0].data if len(good) == 1 else None)
            try:
                self.router.client_frames(self, good)
            finally:
                flow.end()
        if self._bad >= MAX_BAD_IN_A_ROW:
            logger.error("client %s keeps sending malformed XML: disconnected", self.label)
            self.close()

    def eof_received(self) -> bool:
        # indiserver still handles what a half-closed client sent (indi_setprop does this);
        # everything has been routed already, so send what is queued, then close.
        self._eof = True
        queue = self._queue
        if not queue and not queue.streaming and self._tail is None:  # never cut a BLOB
            return False
        self._schedule_flush()
        return True

    def pause_writing(self) -> None:
        self._paused = True
        self._paused_at = self._loop.time()
        self._paused_sent = self._sent()
        self._resumed_since_pause = False

    def resume_writing(self) -> None:
        self._paused = False
        self._resumed_since_pause = True
        self._flush()

    # -- the router's side -----------------------------------------------------------------

    def send_frame(self, frame: Frame) -> None:
        """Queue one element; never blocks. Coalesces only once the client is slow."""
        if self._closing:
            return
        queue = self._queue
        if (
            frame.data is self._flow.through
            and not queue.nbytes  # nothing queued (at most dropped placeholders)
            and self._tail is None
            and len(frame.data) <= self._write_through_max
            and not (queue.streaming or self._paused or self._slow or self._congested or self._eof)
        ):
            # The one element of this batch, and nothing queued for us: `_queued` could only
            # mark us, and the batch's end would flush this alone. Write it now instead, as
            # `_flush` would, without the queue's round trip (put, then take it back).
            transport = self._transport
            assert transport is not None  # set before the router knows us
            if self._fd >= 0:
                self._tail = frame.data
                self._write_direct(transport)
            else:
                self._write_queue(transport, frame.data)
            return
        queue.put(frame, self._slow or queue.nbytes > self._coalesce_from)
        self._queued()

    def send_parts(self, element: Parts) -> None:
        """`send_frame` for a whole element held as the pieces it arrived in (no copy)."""
        if self._closing:
            return
        queue = self._queue
        queue.put_parts(element, self._slow or queue.nbytes > self._coalesce_from)
        self._queued()

    # Cut-through (cutthrough.BlobForwarder): one element in pieces as the driver sends it.

    def stream_begin(self) -> bool:
        """Take the element that is starting to arrive in pieces? Decided once, for all of it:
        False for a client that is slow (superseded BLOBs are dropped for it: it is given the
        element whole at its end with `send_frame` instead, which coalesces) or that is
        already receiving another streamed element. Once begun, every piece is sent, even if
        the client turns slow meanwhile: an element is never cut in half (-m still holds)."""
        queue = self._queue
        if self._closing or self._slow or queue.streaming or queue.nbytes > self._coalesce_from:
            return False
        queue.open_stream()
        return True

    def stream_late(self, device: str, name: str) -> None:
        """A BLOB of (device, name) this client did not `stream_begin` is arriving and will be
        given to it whole: if the client is slow, its queued older one is stale already
        (dropped now rather than at the end, so both are never held at once)."""
        if self._slow and not self._closing:
            self._queue.drop_superseded(device, name)

    def stream_piece(self, data: bytes | memoryview) -> None:
        """The next bytes of the element begun with `stream_begin`."""
        if self._closing:
            return
        self._queue.put_piece(data)
        self._queued()

    def stream_end(self, data: bytes | memoryview) -> None:
        """The last bytes of the streamed element; elements put meanwhile follow it."""
        if self._closing:
            return
        queue = self._queue
        if data:
            queue.put_piece(data)
        queue.close_stream()
        self._queued()

    def _queued(self) -> None:
        """After adding to the queue: limits, falling behind, and a flush at the batch end."""
        queue = self._queue
        nbytes = queue.nbytes
        if nbytes > self._check_from and self.queued_bytes > self.max_queue_bytes:
            logger.warning(
                "client %s disconnected: more than %d bytes queued (it is not reading)",
                self.label,
                self.max_queue_bytes,
            )
            self.abort()
            return
        if (
            nbytes > self.soft_bytes
            and not (self._congested or self._slow)
            and queue.waiting_bytes > self.soft_bytes
        ):
            self._fell_behind()
        if not (self._paused or self._marked):
            self._marked = True
            self._flow.mark(self)

    def _schedule_flush(self) -> None:
        if not self._marked:
            self._marked = True
            self._flow.mark(self)

    def flush_marked(self) -> None:
        """The LoopFlow's call: write what is queued."""
        self._marked = False
        self._flush()

    def _flush(self) -> None:
        """Write everything queued as few writes as possible, until paused."""
        transport = self._transport
        if transport is None or self._closing:
            return
        queue = self._queue
        if self._fd >= 0:
            self._write_direct(transport)
            if self._closing:
                return
        else:
            self._write_queue(transport, None)
        if self._congested and queue.waiting_bytes <= self.soft_bytes // 2:
            self._not_behind()
        elif self._slow and not queue:
            self._slow = False
            logger.info("client %s caught up", self.label)
        if self._eof and not queue and not queue.streaming and self._tail is None:
            self.close()

    def _write_queue(self, transport: asyncio.Transport, data: bytes | memoryview | None) -> None:
        """Write `data` (if any), then the queue, through the transport until it pauses us."""
        queue = self._queue
        chunk = self.CHUNK
        while not self._paused:
            if data is None:
                data = queue.take(chunk)
                if not data:
                    break
            self._written += len(data)
            transport.write(data)
            data = None
            if not queue.nbytes:  # all written: spare the call that would find nothing
                break

    def _write_direct(self, transport: asyncio.Transport) -> None:
        """Write the queue with write(2) on the socket itself, without the transport's copy.

        asyncio's socket transport (3.11) copies into its own buffer whatever the socket does
        not take at once; a client reading as fast as it can keeps its socket full, so nearly
        every byte of a BLOB was copied once more. Here the queue's bytes are written
        straight from where they are, and only the unsent rest is kept (a view, no copy).
        Then at most HANDOFF bytes of it go to the transport: it pauses us while it holds
        them and resumes us (``resume_writing``, buffer limits 0/0) once the socket has
        taken them, which is when the socket has room again. The transport's buffer is
        always empty when we write ourselves, so the order of bytes is kept.
        """
        queue = self._queue
        tail = self._tail
        fd = self._fd
        while not self._paused:
            if tail is None:
                tail = queue.take(self.DIRECT_CHUNK)
                if not tail:
                    tail = None
                    break
            try:
                n = os.write(fd, tail)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                self._tail = None
                logger.info("client %s: write failed: %s", self.label, exc)
                self.abort()
                return
            self._written += n
            if n == len(tail):
                tail = None
                if not queue.nbytes:  # all written: spare the call that would find nothing
                    break
                continue
            rest = memoryview(tail)[n:]
            piece = rest[: self.HANDOFF]
            tail = rest[len(piece) :] if len(rest) > len(piece) else None
            self._written += len(piece)
            transport.write(piece)  # pauses us unless the socket took it at once
        self._tail = tail

    # -- falling behind --------------------------------------------------------------------

    def _sent(self) -> int:
        """Bytes the kernel has taken from us so far (progress of the client's reading)."""
        transport = self._transport
        return self._written - (transport.get_write_buffer_size() if transport else 0)

    def _fell_behind(self) -> None:
        if (
            self._paused
            and not self._resumed_since_pause
            and self._loop.time() - self._paused_at > NEVER_RESUMED_SLOW_AFTER
        ):
            self._become_slow()
            return
        self._congested = True
        self._progress_mark = self._sent()
        self._progress_at = self._loop.time()
        self._flow.congest(self)
        self._arm_progress_check(self._progress_at)

    def _arm_progress_check(self, now: float) -> None:
        """Check again when SLOW_AFTER has passed without progress -- or sooner, when the
        client will have been paused NEVER_RESUMED_SLOW_AFTER without taking a single byte:
        the drivers are held up meanwhile, so a client that has stopped reading is let go as
        soon as that is known rather than after the full SLOW_AFTER."""
        delay = self._progress_at + SLOW_AFTER - now
        if self._paused and not self._resumed_since_pause and self._sent() == self._paused_sent:
            delay = min(delay, self._paused_at + NEVER_RESUMED_SLOW_AFTER - now)
        self._timer = self._loop.call_later(max(delay, 0.001), self._check_progress)

    def _check_progress(self) -> None:
        self._timer = None
        if not self._congested or self._closing:
            return
        now = self._loop.time()
        sent = self._sent()
        if (
            self._paused
            and not self._resumed_since_pause
            and sent == self._paused_sent
            and now - self._paused_at >= NEVER_RESUMED_SLOW_AFTER
        ):
            self._become_slow()  # not a byte taken since it was paused
        elif sent > self._progress_mark:
            self._progress_mark = sent
            self._progress_at = now
            self._arm_progress_check(now)
        elif now - self._progress_at >= SLOW_AFTER * 0.99:
            self._become_slow()
        else:
            self._arm_progress_check(now)

    def _become_slow(self) -> None:
        self._not_behind()
        self._slow = True
        logger.info(
            "client %s is not reading: superseded elements are dropped for it", self.label
        )

    def _not_behind(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._congested:
            self._congested = False
            self._flow.decongest(self)

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close after the transport's buffer is written."""
        self._closing = True
        self._queue.clear()
        self._tail = None
        self._not_behind()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, dropping whatever is buffered."""
        self._closing = True
        self._queue.clear()
        self._tail = None
        self._not_behind()
        if self._transport is not None:
            self._transport.abort()


def _direct_fd(transport: asyncio.BaseTransport) -> int:
    """The descriptor of a plain socket transport that `ClientConnection` may write to
    itself, or -1 (TLS, not POSIX, or not a socket: write through the transport)."""
    if os.name != "posix" or transport.get_extra_info("sslcontext") is not None:
        return -1
    sock = transport.get_extra_info("socket")
    if sock is None:
        return -1
    try:
        fd = sock.fileno()
    except (AttributeError, OSError):
        return -1
    return fd if isinstance(fd, int) and fd >= 0 else -1
