"""Reading from executable drivers and remote servers: asyncio protocols, no tasks.

Every chunk goes straight through a ``Framer`` to the router (``data_received``), so a BLOB of
many megabytes is never copied into a line buffer; what the router sends because of one read is
written at the end of that read (``loop.flowcontrol.LoopFlow.batch``). Reading pauses while a client
of the same server is congested (``loop.flowcontrol.Congestion``), so a fast driver waits in its own
pipe. Writing to them is ``drivers.outbound``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import cast

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameChunk
from indipycore.protocol.framing import FrameEnd
from indipycore.protocol.framing import FrameHead
from indipycore.protocol.framing import Framer
from indipycore.protocol.framing import FrameRun
from indipycore.readbuffers import ReadBufferPool
from indipyserver.blobs.cutthrough import STREAM_TAGS
from indipyserver.blobs.stalled import StallWatch
from indipyserver.blobs.stalled import unread_bytes
from indipyserver.drivers.outbound import WriteGate
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import LoopFlow
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.loop.readsizes import BLOB_READ_SIZE
from indipyserver.loop.readsizes import BLOB_TAIL_PROBE
from indipyserver.loop.readsizes import POOLED_READS
from indipyserver.loop.readsizes import READ_SIZE
from indipyserver.loop.readsizes import SHRINK_AFTER
from indipyserver.loop.readsizes import SMALL_READ_SIZE
from indipyserver.loop.readsizes import adapt_read_size
from indipyserver.routing.serverelements import RUN_TAGS

if TYPE_CHECKING:
    from indipyserver.loop.eventloop import InlineSelector

__all__ = ["InboundProtocol", "PieceStream", "StreamProtocol"]

logger = logging.getLogger("indipyserver.peerio")  # the name users' logs know


_STRAY_TEXT = "text outside any element"  # the framer's words for bytes between elements

def _fileno(transport: asyncio.BaseTransport) -> int:
    """The descriptor a transport reads (its socket or pipe), or -1."""
    for key in ("socket", "pipe"):
        source = transport.get_extra_info(key)
        if source is not None:
            try:
                return int(source.fileno())
            except (AttributeError, OSError, ValueError):
                return -1
    return -1


class PieceStream(Protocol):
    """Where the pieces of a streamed element go (``blobs.cutthrough.BlobForwarder``). A C
    driver's socket is framed with ``split_attached``, and its stream (``blobs.attached.
    AttachedBlobs``) takes `FrameAttached` pieces too."""

    @property
    def active(self) -> bool:
        """An element is being passed on (a stall or the connection's end aborts it)."""
        ...

    def handle(self, item: FrameHead | FrameChunk | FrameEnd) -> None: ...

    def abort(self, tail: bytes | None) -> None: ...


class InboundProtocol(asyncio.Protocol):
    """Frames a byte stream and hands each batch of complete elements to ``on_frames``."""

    def __init__(
        self,
        on_frames: Callable[[list[Frame]], None],
        label: str,
        forwarder: PieceStream | None = None,
        congestion: Congestion | None = None,
        split_attached: bool = False,
    ) -> None:
        """`congestion`: the server's, whose congested clients pause this reader (the owning
        connection's ``DriverConnection.congestion``); alone, its own, which never does.
        `split_attached`: the peer is a driver's stdout socket (``Framer(split_attached=True)``; its
        `forwarder` takes `FrameAttached` pieces)."""
        self._on_frames = on_frames
        self._label = label
        #: Appended to a "text outside any element" warning (an executable driver's says why
        #: that happens: a print() to its stdout).
        self.stray_text_hint = ""
        # With a forwarder, BLOBs are passed on while they arrive (cutthrough.py).
        self._forwarder = forwarder
        # A burst of one property's sets comes out as one FrameRun (``protocol.runs``).
        self._framer = (Framer(stream_tags=STREAM_TAGS, known_tags=INDI_TAGS, run_tags=RUN_TAGS,
                               split_attached=split_attached)
                        if forwarder is not None
                        else Framer(known_tags=INDI_TAGS, run_tags=RUN_TAGS))
        self._transport: asyncio.ReadTransport | None = None
        self._read_size = 0  # 0: the transport's read size is not ours to adapt
        self._started = False
        self._throttled = False
        self._held = False
        self._flow = flow_for()
        self._congestion = congestion if congestion is not None else Congestion()
        self._pool = ReadBufferPool(BLOB_READ_SIZE, POOLED_READS)  # reads while a BLOB streams
        self._big = ReadBufferPool(READ_SIZE, 2)  # other large reads (one may begin a BLOB)
        self._lent: bytearray | None = None  # the buffer of the read under way
        self._lent_at = 0.0  # loop time of the last read lent to the framer
        self._shrink_timer: asyncio.TimerHandle | None = None
        self._small: bytearray | None = None  # for small buffered reads (StreamProtocol)
        self._reads = 0  # reads of the peer so far, for the stall watch
        self._peer_fd = -1  # what the transport reads, to ask how much waits unread
        self._stall = None if forwarder is None else StallWatch(
            label, streaming=lambda: forwarder.active, reads=lambda: self._reads,
            paused=self._holding_peer, cut=self._cut_stalled)
        self._warnings = WarningBudget()  # about what the peer sent: bounded
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Nothing is read until start(): data arriving before the owner has told the router
        # the peer is ready would reach the router for a connection it does not know yet.
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport
        self._peer_fd = _fileno(transport)
        if isinstance(getattr(transport, "max_size", None), int):
            transport.max_size = SMALL_READ_SIZE  # type: ignore[attr-defined]
            self._read_size = SMALL_READ_SIZE
        transport.pause_reading()

    def start(self) -> None:
        """Begin reading (call after ``router.driver_ready``)."""
        self._started = True
        self._congestion.add_reader(self)
        self._apply()

    def throttle(self, paused: bool) -> None:
        """Pause/resume reading while clients of the server are congested (``Congestion``)."""
        if paused == self._throttled:
            return
        self._throttled = paused
        self._apply()

    def hold(self, held: bool) -> None:
        """Pause/resume reading for the frame handler's own reasons, independently of
        `throttle`: ``blobs.attached`` holds the reader while it converts a BLOB over several
        loop iterations when what the driver sends next must wait in its socket, in order."""
        if held == self._held:
            return
        self._held = held
        self._apply()

    def _holding_peer(self) -> bool:
        """Our pause is why the peer sends nothing (``blobs.stalled``): the reader is held, or
        paused for congested clients with the peer's bytes waiting unread (or no way to tell)."""
        if self._held:
            return True
        if not self._throttled:
            return False
        waiting = unread_bytes(self._peer_fd)
        return waiting is None or waiting > 0

    def _apply(self) -> None:
        transport = self._transport
        if transport is None or not self._started or transport.is_closing():
            return
        if self._throttled or self._held:
            transport.pause_reading()
        else:
            transport.resume_reading()

    #: Set by the owner to route a read that is one whole element without framing it first
    #: (``fastpath.shortcut.Shortcut.route_set``); returns False when it leaves the read to `_handle`.
    shortcut_route: Callable[[bytes, LoopFlow], bool] | None = None

    def data_received(self, data: bytes) -> None:
        self._reads += 1
        size = self._read_size
        if size and (len(data) >= size or size > SMALL_READ_SIZE > len(data)):
            self._adapt(len(data), size)
        route = self.shortcut_route
        framer = self._framer
        # (`framer.idle_for(data)` written out: a call less a read.)
        if (route is not None and framer.scanner.idle and type(data) is bytes
                and len(data) <= framer.max_element_size and route(data, self._flow)):
            framer.scanner.offset += len(data)  # (`skipped`)
            return
        self._handle(framer.feed(data))

    # Reads into our buffers (the BufferedProtocol calls): a `PipeReader`'s large reads, and
    # every read of a remote server's socket (`StreamProtocol`).

    def get_buffer(self, sizehint: int) -> bytearray:
        if self._read_size > SMALL_READ_SIZE:
            # A read that never came (EAGAIN) left its buffer here: not in use, so no reason for
            # the pool to pass it over.
            self._lent = None
            # Large: pooled, may be lent to the framer (BLOB_READ_SIZE while a BLOB streams).
            pool = self._pool if self._framer.streaming else self._big
            self._lent = buf = pool.get()
            return buf
        small = self._small
        if small is None:
            small = self._small = bytearray(SMALL_READ_SIZE)
        self._lent = small  # small: always copied out, so it is free again at once
        return small

    def buffer_updated(self, nbytes: int) -> None:
        buf = self._lent
        assert buf is not None
        self._lent = None
        self._reads += 1
        if nbytes == len(buf) and buf is not self._small and (
            self._framer.streaming
            or (self._forwarder is not None and buf.find(b"<", nbytes - BLOB_TAIL_PROBE) < 0)
        ):
            # A full read in the middle of a BLOB, or one that begins a BLOB: its pieces are
            # views of `buf`, which is not read into again while any of them is queued
            # (readbuffers).
            size = self._read_size
            if size and nbytes >= size:
                self._adapt(nbytes, size)
            if self._shrink_timer is not None:
                self._lent_at = asyncio.get_running_loop().time()
            items = self._framer.feed_lent(buf)
            del buf
            self._handle(items)
            return
        if self._framer.streaming:
            # The rest of a BLOB (its last, partial read, or a small read): copied once, into
            # a buffer of its own size lent to the framer, so that the piece is a view of that
            # copy and not a second copy of it (the framer's slice of a `bytes`): two copies,
            # about half a read each a BLOB, would go to fresh memory and fault it in.
            part = bytearray(memoryview(buf)[:nbytes])
            del buf
            size = self._read_size
            if size and (nbytes >= size or size > SMALL_READ_SIZE > nbytes):
                self._adapt(nbytes, size)  # as `data_received` would
            self._handle(self._framer.feed_lent(part))
            return
        # Anything else is copied, and `buf` is free again. Taken as `data_received` takes a
        # read, so that a remote server's set vector alone in a read has the shortcut too.
        data = bytes(memoryview(buf)[:nbytes])
        del buf
        self.data_received(data)

    def _adapt(self, got: int, size: int) -> None:
        self._read_size = new = adapt_read_size(self._transport, got, size, READ_SIZE)
        if new < size and self._shrink_timer is None:
            # Back to small reads: keep one buffer, not a BLOB's worth, once no read has been
            # lent for SHRINK_AFTER (the next BLOB would allocate them all again).
            loop = asyncio.get_running_loop()
            self._lent_at = loop.time()
            self._shrink_timer = loop.call_later(SHRINK_AFTER, self._shrink_if_idle)

    def _shrink_if_idle(self) -> None:
        loop = asyncio.get_running_loop()
        due = self._lent_at + SHRINK_AFTER
        if due > loop.time():
            self._shrink_timer = loop.call_at(due, self._shrink_if_idle)
            return
        self._shrink_timer = None
        self._pool.shrink()
        self._big.shrink()

    def _handle(self, items: list[Any]) -> None:
        frames: list[Frame]
        errors = False
        if len(items) == 1 and type(items[0]) is Frame:  # the usual read: one whole element
            frames = items
        else:
            frames = []
            for item in items:
                if type(item) is Frame or type(item) is FrameRun:
                    frames.append(item)
                elif isinstance(item, ProtocolError):
                    errors = True
                else:
                    self._route_in_order(items)  # pieces of a streamed element in this read
                    return
        if errors:
            for item in items:
                if isinstance(item, ProtocolError):
                    # INDI 1.7 p.3: ignore what is malformed; indiserver closes the peer.
                    self._malformed(item)
        if frames:
            flow = self._flow
            flow.begin(frames[0].data if len(frames) == 1 else None)
            try:
                self._on_frames(frames)
            finally:
                flow.end()

    def _malformed(self, error: ProtocolError) -> None:
        """Log what the framer refused, within the budget: a peer sending garbage in a loop
        must not fill the disk with warnings."""
        if (note := self._warnings.take()) is not None:
            text = clip(str(error))
            if self.stray_text_hint and text.startswith(_STRAY_TEXT):
                text += self.stray_text_hint
            logger.warning("%s sent malformed XML, ignored: %s%s", self._label, text, note)

    def _route_in_order(self, items: list) -> None:  # type: ignore[type-arg]
        """A read holding pieces of a streamed element: frames and pieces go out in order."""
        forwarder = self._forwarder
        assert forwarder is not None
        flow = self._flow
        flow.begin()
        try:
            frames: list[Frame] = []
            for item in items:
                if type(item) is Frame or type(item) is FrameRun:
                    frames.append(item)
                elif isinstance(item, ProtocolError):
                    self._malformed(item)
                else:
                    if frames:
                        self._on_frames(frames)
                        frames = []
                    forwarder.handle(item)
            if frames:
                self._on_frames(frames)
        finally:
            flow.end()
        if forwarder.active and self._stall is not None:
            self._stall.watch()

    def _cut_stalled(self) -> None:
        """The peer stalled in the middle of a BLOB (``blobs.stalled``): end it for its
        receivers; the framer drops the rest of it when it comes."""
        forwarder = self._forwarder
        assert forwarder is not None
        tail = self._framer.abandon_stream()
        flow = self._flow
        flow.begin()
        try:
            forwarder.abort(tail)
        finally:
            flow.end()

    def eof_received(self) -> bool | None:
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            logger.info("%s: connection lost: %s", self._label, exc)
        forwarder = self._forwarder
        if forwarder is not None and forwarder.active:
            logger.warning("%s: connection lost in the middle of a BLOB", self._label)
            flow = self._flow
            flow.begin()
            try:
                forwarder.abort(self._framer.stream_tail())
            finally:
                flow.end()
        self._framer.release()  # a partial element: its memory now, not when the GC runs
        if self._shrink_timer is not None:
            self._shrink_timer.cancel()
            self._shrink_timer = None
        if self._stall is not None:
            self._stall.stop()
        self._congestion.remove_reader(self)
        self.closed.set()


class StreamProtocol(InboundProtocol, asyncio.BufferedProtocol):
    """Both directions over one socket (a remote INDI server).

    A BufferedProtocol: asyncio's socket transport reads into our buffers (`get_buffer`), so a
    chained server's BLOB is passed on from reused memory as an executable driver's is. On the
    server's own loop the selector reads the socket instead (`read_inline`), as it reads
    clients' sockets and drivers' stdout (``loop.eventloop``); the transport then only writes.
    """

    _inline: InlineSelector | None = None  # reading the socket for us (read_inline)
    _fd = -1
    _watching = False

    def __init__(
        self,
        on_frames: Callable[[list[Frame]], None],
        label: str,
        gate: WriteGate,
        forwarder: PieceStream | None = None,
        congestion: Congestion | None = None,
        tls: bool = False,
    ) -> None:
        """`tls`: the transport is asyncio's TLS transport (see below)."""
        super().__init__(on_frames, label, forwarder, congestion)
        self._gate = gate
        if tls:
            # asyncio's TLS transport (3.11) reads the rest of a record into ``buf[offset:]``,
            # a copy when `buf` is a bytearray: those bytes never reached our buffer, which
            # was handed on with what it held before. A view of the buffer slices as a view.
            self.get_buffer = self._buffer_view  # type: ignore[method-assign,assignment]

    def _buffer_view(self, sizehint: int) -> memoryview:
        return memoryview(InboundProtocol.get_buffer(self, sizehint))

    def pause_writing(self) -> None:
        self._gate.pause()

    def resume_writing(self) -> None:
        self._gate.resume()

    def read_inline(self, selector: InlineSelector, fd: int) -> None:
        """Have `selector` read socket `fd` from inside ``select`` from now on.

        Through asyncio's transport every read of a chained server costs a handle in the ready
        queue and the transport's read method, on each hop of a round trip through chained
        servers.
        """
        self._inline = selector
        self._fd = fd
        transport = self._transport
        if transport is not None:
            transport.pause_reading()  # for good: the selector reads, the transport writes
        self._apply()

    def _apply(self) -> None:
        selector = self._inline
        if selector is None:
            super()._apply()
            return
        transport = self._transport
        on = (
            transport is not None
            and self._started
            and not transport.is_closing()
            and not (self._throttled or self._held)
        )
        if on and not self._watching:
            selector.add_inline(self._fd, self._read_inline)
        elif not on and self._watching:
            selector.remove_inline(self._fd)
        self._watching = on

    def _read_inline(self) -> bool:
        """The socket is readable (called by the `InlineSelector`): as the transport would.
        False when it held nothing yet (the read would block)."""
        transport = self._transport
        if transport is None or transport.is_closing():  # as asyncio's: no reads once closing
            self._stop_inline()
            return True
        fd = self._fd
        large = self._read_size > SMALL_READ_SIZE
        data = b""
        try:
            if large:
                n = os.readv(fd, [self.get_buffer(-1)])
            else:
                data = os.read(fd, SMALL_READ_SIZE)
                n = len(data)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:  # reset by the peer...
            self._stop_inline()
            logger.info("%s: connection lost: %s", self._label, exc)
            cast(asyncio.Transport, transport).abort()  # connection_lost follows, without the error
            return True
        if not n:
            self._stop_inline()  # end of file: the remote server closed the connection
            if not self.eof_received():
                transport.close()
            return True
        try:
            if large:
                self.buffer_updated(n)
            else:
                self.data_received(data)
        except Exception:
            # As asyncio's transport does when its protocol fails on a read: the connection is
            # closed (and reconnected with backoff), not left reading with a framer or a BLOB
            # forwarder stopped half-way.
            logger.exception("%s: handling what it sent failed: connection closed", self._label)
            self._stop_inline()
            cast(asyncio.Transport, transport).abort()
        return True

    def read_now(self) -> bool:
        """Read at once what the remote has already sent, if anything, as the selector would
        (``DriverConnection.read_now``); nothing unless the selector reads the socket now.
        False only when the socket held nothing yet."""
        return self._read_inline() if self._watching else True

    def _stop_inline(self) -> None:
        if self._inline is not None:
            if self._watching:
                self._inline.remove_inline(self._fd)
            self._watching = False
            self._inline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_inline()  # before the transport closes the socket
        self._gate.close()
        super().connection_lost(exc)
