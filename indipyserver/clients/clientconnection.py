"""One TCP client connection: an asyncio Protocol between a socket and the router.

A Protocol rather than streams: reads are framed and routed in the same callback, and writes go
straight to the socket, batched per read (``loop.flowcontrol.LoopFlow``): everything routed from
one read of a peer leaves in one ``write`` per receiver at the end of that same callback, so
there is no per-message await, task or extra event-loop turn on the hot path.

Writing the queue to the socket (``clients.writer.ClientWriter``) and tracking a client that
falls behind (paused, congested, slow: ``clients.fallingbehind``) are objects the connection
holds. The flags that every message checks (``_paused``, ``congested``, ``slow``) are plain
attributes of the connection, which the writer reads through `WritingClient`. Past ``max_queue_bytes`` a client is disconnected,
as indiserver does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import TYPE_CHECKING

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.clients.fallingbehind import FallingBehind
from indipyserver.clients.identity import ANONYMOUS
from indipyserver.clients.identity import peer_and_identity
from indipyserver.clients.queue import ClientQueue
from indipyserver.clients.writer import ClientWriter
from indipyserver.fastpath.localpeer import is_local_peer
from indipyserver.loop.eventloop import InlineSelector
from indipyserver.loop.eventloop import inline_selector
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import KeepingUp
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.loop.readsizes import READ_SIZE
from indipyserver.loop.readsizes import SMALL_READ_SIZE
from indipyserver.loop.readsizes import adapt_read_size
from indipyserver.routing.ports import Attached
from indipyserver.routing.ports import ClientSide
from indipyserver.routing.ports import Parts
from indipyserver.routing.serverelements import message_frame

if TYPE_CHECKING:
    from indipyserver.fastpath.shortcut import Shortcut

logger = logging.getLogger("indipyserver.clients")  # the name users' logs know

#: Default `-m`: bytes queued to one client before it is disconnected, as indiserver.
DEFAULT_MAX_CLIENT_QUEUE = 128 * 1024 * 1024

#: Queue bytes past which a client that still reads holds the drivers up (``clients.fallingbehind``).
SOFT_QUEUE_BYTES = 4 * 1024 * 1024

#: What a client that has gone may have sent before it went, read after a failed write
#: (`ClientConnection._keep_last_words`): a socket's receive buffer on loopback.
LAST_WORDS_BYTES = 4 * 1024 * 1024

#: How a TLS connection begins (a handshake record, TLS 1.x): never how INDI does.
TLS_HANDSHAKE_RECORD = b"\x16\x03"

#: Protocol errors in a row (no good element between) before a client is dropped.
MAX_BAD_IN_A_ROW = 10
#: At maxconnections, a client that has sent no whole element in this long since it
#: connected gives its place to a new one (`ClientConnection._make_room`). Every INDI client
#: sends getProperties at once; a few bytes or a partial element do not make a client.
SILENT_SECONDS = 3.0
#: Shared by all clients: one that reconnects after each burst of garbage gets no budget of
#: its own.
_malformed_warnings = WarningBudget()

#: Bytes all clients' unfinished elements may hold together (a BLOB upload is assembled
#: before it is routed; one client may send up to the framer's 256 MB). Checked only once a
#: client holds more than PARTIAL_CHECK_BYTES, so the usual read pays one comparison.
MAX_PARTIAL_BYTES = 512 * 1024 * 1024
PARTIAL_CHECK_BYTES = 16 * 1024 * 1024

#: Seconds before an element with descriptors is tried again on a full Unix socket
#: (`ClientConnection._write_later`), doubled while nothing moves, up to the most.
RETRY_ATTACHED = 0.002
RETRY_ATTACHED_MOST = 0.064


class ClientConnection(asyncio.Protocol):
    """One client; registered with the router while connected."""

    def __init__(
        self,
        router: ClientSide,
        connections: set[ClientConnection],
        *,
        maxconnections: int = 100,
        max_queue_bytes: int = DEFAULT_MAX_CLIENT_QUEUE,
        keeping_up: KeepingUp | None = None,
        congestion: Congestion | None = None,
        shortcut: Shortcut | None = None,
        attach_on_unix: bool = True,
    ) -> None:
        """`keeping_up`: shared by the clients of one server (``clients.fallingbehind``); alone,
        a client has nobody to compare with and holds the drivers when it is behind.
        `congestion`: the server's (``loop.flowcontrol.Congestion``), so that a congested client
        holds up the drivers of its own server, not those of another one in the same loop;
        alone, a client gets its own, which holds up no reader. `shortcut`: the server's
        (``fastpath.shortcut``), which routes a new vector alone in a read before it is framed.
        `attach_on_unix`: a client on the Unix socket gets the BLOBs drivers attach as memory
        files as they are (`send_attached`), as indiserver's; False: inline base64."""
        self.router = router
        # A new vector alone in a read goes to its driver before it is framed (``fastpath.shortcut``).
        self._shortcut_route = shortcut.route_new if shortcut is not None else None
        self.connections = connections
        self.maxconnections = maxconnections
        self.max_queue_bytes = max_queue_bytes
        self.label = "client"
        # Who it is and where from (``clients.identity``; a TLS listener sets the CN), set
        # when it is accepted: the access rules and the audit trail read them.
        self.identity = ANONYMOUS
        self.peer = ""
        # The client runs on this machine: a write wakes it here (``fastpath.shortcut`` hands it the CPU).
        self.local = False
        self._attach_on_unix = attach_on_unix
        self.shares_blobs = False  # set once connected: a Unix socket written directly
        self._retry: asyncio.TimerHandle | None = None  # `_write_later`
        self._retry_delay = RETRY_ATTACHED
        self._queue = ClientQueue()
        self._framer = Framer(known_tags=INDI_TAGS, check_nesting=True)
        self._transport: asyncio.Transport | None = None
        self._read_size = 0  # adapted per read (loop.readsizes.adapt_read_size); 0: not ours
        loop = asyncio.get_running_loop()
        self._flow = flow_for(loop)
        self._paused = False  # the transport paused us (pause_writing)
        self._marked = False  # a flush is pending in the LoopFlow
        self._closing = False
        self._eof = False
        self._bad = 0
        self._since = time.monotonic()
        self._heard = False  # a whole element read from it yet (`_make_room`)
        self._registered = False
        self._inline: InlineSelector | None = None  # reading the socket for us (eventloop)
        self._read_error: OSError | None = None
        # Below this the queue cannot be over the limit, whatever the transport holds.
        self._check_from = max_queue_bytes - ClientWriter.HIGH_WATER - ClientWriter.CHUNK
        # Behind: congested (holds drivers) or slow (coalesces), see fallingbehind.
        self.soft_bytes = min(SOFT_QUEUE_BYTES, max_queue_bytes // 4)
        self._coalesce_from = max_queue_bytes // 2  # a safety net even when not slow
        # Elements up to this size may be written through (`send_frame`): alone in the queue
        # they can reach neither the limits checked by `_queued` nor a second write chunk.
        self._write_through_max = min(self._check_from, self.soft_bytes, ClientWriter.CHUNK,
                                      ClientWriter.DIRECT_CHUNK)
        # The stage of falling behind, set by `_behind` only and read here per message.
        self.congested = False
        self.slow = False
        self._keeping_up = keeping_up if keeping_up is not None else KeepingUp()
        # Writes the queue to the socket (``clients.writer``); its descriptor, once chosen,
        # is kept here too (-1: the transport writes).
        self._writer = ClientWriter(self, self._queue, self._keeping_up)
        self._fd = -1
        self._behind = FallingBehind(
            self, congestion if congestion is not None else Congestion(), loop
        )
        self.closed = asyncio.Event()

    # -- what `FallingBehind` reads (``clients.fallingbehind.JudgedClient``) ---------------

    @property
    def writing_paused(self) -> bool:
        return self._paused

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def others_progress(self) -> int:
        return self._keeping_up.count

    #: The writer's (tests and benchmarks read them here).
    HIGH_WATER = ClientWriter.HIGH_WATER
    HANDOFF = ClientWriter.HANDOFF

    def sent(self) -> int:
        """Bytes that have left us for the client so far (``ClientWriter.sent``)."""
        return self._writer.sent()

    def __repr__(self) -> str:
        return f"<ClientConnection {self.label}>"

    @property
    def queued_bytes(self) -> int:
        """Bytes held for this client: our queue plus the transport's buffer."""
        buffered = self._transport.get_write_buffer_size() if self._transport else 0
        return self._queue.nbytes + buffered + self._writer.pending_bytes

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
        elif isinstance(peer, (str, bytes)):  # a Unix socket's (unixsocket): no address
            sock = transport.get_extra_info("socket")
            self.label = f"unix-client-{sock.fileno() if sock is not None else '?'}"
        sockname = transport.get_extra_info("sockname")
        self.local = is_local_peer(transport.get_extra_info("socket"), peer, sockname)
        if not self.peer and transport.get_extra_info("sslcontext") is None:
            # (A TLS client's are set before, from its certificate: ``clients.tlsport``; the
            # Alpaca face's by its own door, ``clients.faceport``.)
            self.peer, self.identity = peer_and_identity(transport.get_extra_info("socket"),
                                                         peer, sockname)
        if len(self.connections) >= self.maxconnections and not self._make_room():
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
        self._writer.start(transport)
        self._fd = self._writer.fd
        sock = transport.get_extra_info("socket")
        self.shares_blobs = (self._attach_on_unix and self._fd >= 0 and sock is not None
                             and sock.family == getattr(socket, "AF_UNIX", None))
        if isinstance(getattr(transport, "max_size", None), int):
            # Small reads while the client sends little (loop.readsizes.SMALL_READ_SIZE).
            transport.max_size = SMALL_READ_SIZE  # type: ignore[attr-defined]
            self._read_size = SMALL_READ_SIZE
        self.connections.add(self)
        self._registered = True
        self.router.add_client(self)
        logger.debug("client %s connected", self.label)  # routine: DEBUG (issue 28)
        selector = inline_selector(asyncio.get_running_loop())
        if selector is not None and self._fd >= 0:
            # The server's own loop: its selector reads the socket for us (``loop.eventloop``);
            # the transport only writes what the socket did not take at once.
            transport.pause_reading()
            self._inline = selector
            selector.add_inline(self._fd, self._read_inline)

    def _make_room(self) -> bool:
        """At maxconnections: close the oldest client that has sent no whole element since
        it connected SILENT_SECONDS ago or more, so that idle sockets cannot lock real
        clients out (every INDI client asks getProperties at once); whether one was closed."""
        now = time.monotonic()
        silent = [c for c in self.connections
                  if not c._heard and not c._closing and now - c._since >= SILENT_SECONDS]
        if not silent:
            return False
        oldest = min(silent, key=lambda c: c._since)
        logger.warning("closed client %s: it sent no INDI element in the %.0f s since it "
                       "connected, and client %s needs its place (maxconnections %d)", oldest.label,
                       now - oldest._since, self.label, self.maxconnections)
        oldest.abort()
        self.connections.discard(oldest)  # its connection_lost comes later
        return True

    def _read_inline(self) -> None:
        """The socket is readable (called by the `InlineSelector`): as the transport would."""
        try:
            data = os.read(self._fd, self._read_size or SMALL_READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # reset by the peer...
            self._stop_inline()
            self._read_error = exc
            if self._transport is not None:
                self._transport.abort()
            return
        if data:
            self.data_received(data)
            return
        self._stop_inline()
        if not self.eof_received() and self._transport is not None:
            self._transport.close()

    def _stop_inline(self) -> None:
        if self._inline is not None:
            self._inline.remove_inline(self._fd)
            self._inline = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_inline()  # before the transport closes the socket
        if exc is None:
            exc = self._read_error
        self._closing = True
        self._writer.drop_pending()
        self._queue.clear()
        self._framer.release()  # a partial element: its memory now, not when the GC runs
        self._behind.not_behind()
        if self._registered:
            self._registered = False
            self.connections.discard(self)
            self.router.client_lost(self)
            # Routine, resets and broken pipes included (indi_getprop closes without a word).
            logger.debug("client %s disconnected%s", self.label, f": {exc}" if exc else "")
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        size = self._read_size
        if size and (len(data) >= size or size > SMALL_READ_SIZE > len(data)):
            self._read_size = adapt_read_size(self._transport, len(data), size, READ_SIZE)
        framer = self._framer
        route = self._shortcut_route
        # (`framer.idle_for(data)` written out: a call less a read.)
        if (route is not None and framer.scanner.idle and type(data) is bytes
                and len(data) <= framer.max_element_size and route(self, data, self._flow)):
            framer.scanner.offset += len(data)  # `skipped`: one whole element, routed by the shortcut
            self._bad = 0
            self._heard = True
            return
        items = self._framer.feed(data)
        good: list[Frame]
        if len(items) == 1 and type(items[0]) is Frame:  # the usual read: one whole element
            self._bad = 0
            good = items  # type: ignore[assignment]
        else:
            if not self._heard and not self._bad and data[:2] == TLS_HANDSHAKE_RECORD:
                self._speaks_tls()
                return
            good = []
            for item in items:
                if type(item) is Frame:
                    self._bad = 0
                    good.append(item)
                else:
                    assert isinstance(item, ProtocolError)
                    self._bad += 1
                    if (note := _malformed_warnings.take()) is not None:
                        logger.warning("client %s sent malformed XML: %s%s", self.label,
                                       clip(str(item)), note)
                    if "larger than" in str(item):
                        self._bad = MAX_BAD_IN_A_ROW
        if good:
            self._heard = True
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
        elif framer.buffered > PARTIAL_CHECK_BYTES and self._partials_over_budget():
            logger.error("client %s disconnected: its unfinished element (%d bytes) would take "
                         "the clients' unfinished elements past %d bytes", self.label,
                         framer.buffered, MAX_PARTIAL_BYTES)
            self.close()

    def _speaks_tls(self) -> None:
        """The client's first bytes are a TLS handshake: a TLS client on the plain port. It
        cannot read a word of INDI, so it is closed at once and the log says where to go."""
        logger.warning("client %s refused: it speaks TLS on the plain INDI port (use the "
                       "server's TLS port)", self.label)
        self.abort()

    def _partials_over_budget(self) -> bool:
        """Each client may buffer one element up to the framer's limit (256 MB); together
        they may not pass MAX_PARTIAL_BYTES, or a hundred clients could hold 25 GB."""
        return sum(c._framer.buffered for c in self.connections) > MAX_PARTIAL_BYTES

    def eof_received(self) -> bool:
        # indiserver still handles what a half-closed client sent (indi_setprop does this);
        # everything has been routed already, so send what is queued, then close.
        self._eof = True
        queue = self._queue
        if not queue and not queue.streaming and not self._writer.pending:  # never cut a BLOB
            return False
        self._schedule_flush()
        return True

    def pause_writing(self) -> None:
        self._paused = True
        self._behind.paused()

    def resume_writing(self) -> None:
        self._paused = False
        self._flush()

    # -- the router's side -----------------------------------------------------------------

    def write_through(self, data: bytes) -> bool:
        """`send_frame`'s write-through for `data` alone, outside any batch (``fastpath.shortcut``): True
        when written (or dropped, the client closing), False when it must be queued."""
        if self._closing:
            return True
        queue = self._queue
        if (
            queue.nbytes
            or self._writer.pending
            or len(data) > self._write_through_max
            or queue.streaming
            or self._paused
            or self.slow
            or self.congested
            or self._eof
        ):
            return False
        transport = self._transport
        assert transport is not None  # set before the router knows us
        fd = self._fd
        if fd < 0:
            self._writer.write_queue(transport, data)
            return True
        # `ClientWriter.write_alone` written out for the usual case, one write(2) taking it all
        # (the round trip's last step before the client is woken).
        try:
            n = os.write(fd, data)
        except OSError:
            n = -1
        writer = self._writer
        if n == len(data):
            writer.written += n
            writer.keeping_up.count += 1
        else:
            writer.wrote_part(data, n, transport)
        return True

    def send_frame(self, frame: Frame) -> None:
        """Queue one element; never blocks. Coalesces only once the client is slow."""
        if self._closing:
            return
        queue = self._queue
        if (
            frame.data is self._flow.through
            and not queue.nbytes  # nothing queued (at most dropped placeholders)
            and not self._writer.pending
            and len(frame.data) <= self._write_through_max
            and not (queue.streaming or self._paused or self.slow or self.congested or self._eof)
        ):
            # The one element of this batch, and nothing queued for us: `_queued` could only
            # mark us, and the batch's end would flush this alone. Write it now instead, as
            # `_flush` would, without the queue's round trip (put, then take it back).
            transport = self._transport
            assert transport is not None  # set before the router knows us
            if self._fd >= 0:
                self._writer.write_alone(frame.data, transport)
            else:
                self._writer.write_queue(transport, frame.data)
            return
        queue.put(frame, self.slow or queue.nbytes > self._coalesce_from)
        self._queued()

    def send_frames(self, frames: list[Frame]) -> None:
        """`send_frame` for consecutive sets of one property from one read (a burst): queued
        one after another, then the limits and falling behind checked once, so a client may
        pass them by at most one read of the driver before it is let go or made slow."""
        if self._closing:
            return
        queue = self._queue
        if self.slow:
            for frame in frames:
                queue.put(frame, True)
        else:
            queue.put_run(frames, self._coalesce_from)
        self._queued()

    def send_parts(self, element: Parts) -> None:
        """`send_frame` for a whole element held as the pieces it arrived in (no copy)."""
        if self._closing:
            return
        queue = self._queue
        queue.put_parts(element, self.slow or queue.nbytes > self._coalesce_from)
        self._queued()

    def send_attached(self, element: Attached) -> None:
        """`send_frame` for an element whose BLOBs are memory files, sent beside it (only
        where `shares_blobs`): the queue owns its descriptors from here."""
        if self._closing:
            element.close()
            return
        queue = self._queue
        queue.put_attached(element, self.slow or queue.nbytes > self._coalesce_from)
        self._queued()

    def _write_later(self) -> None:
        """The writer's call: an element with descriptors waits for room in a full socket,
        which the transport cannot tell us of (it holds none of our bytes): flush again soon."""
        if self._retry is None and not self._closing:
            self._retry = asyncio.get_running_loop().call_later(self._retry_delay,
                                                                self._retry_flush)

    def _retry_flush(self) -> None:
        """Try again; a client that took nothing meanwhile is tried less often (one that
        never reads costs a timer, not a busy loop), one that did at once again."""
        self._retry = None
        written = self._writer.written
        self._flush()
        if self._writer.written == written:
            self._retry_delay = min(self._retry_delay * 2, RETRY_ATTACHED_MOST)
        else:
            self._retry_delay = RETRY_ATTACHED

    # Cut-through (cutthrough.BlobForwarder): one element in pieces as the driver sends it.

    def stream_begin(self) -> bool:
        """Take the element that is starting to arrive in pieces? Decided once, for all of it:
        False for a client that is slow (superseded BLOBs are dropped for it: it is given the
        element whole at its end with `send_frame` instead, which coalesces) or that is
        already receiving another streamed element. Once begun, every piece is sent, even if
        the client turns slow meanwhile: an element is never cut in half (-m still holds)."""
        queue = self._queue
        if self._closing or self.slow or queue.streaming or queue.nbytes > self._coalesce_from:
            return False
        queue.open_stream()
        return True

    def stream_late(self, device: str, name: str) -> None:
        """A BLOB of (device, name) this client did not `stream_begin` is arriving and will be
        given to it whole: if the client is slow, its queued older one is stale already
        (dropped now rather than at the end, so both are never held at once)."""
        if self.slow and not self._closing:
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
                "client %s disconnected: more than %d bytes queued (it does not read fast enough)",
                self.label,
                self.max_queue_bytes,
            )
            self.abort()
            return
        if (
            nbytes > self.soft_bytes
            and not (self.congested or self.slow)
            and queue.waiting_bytes > self.soft_bytes
        ):
            self._behind.fell_behind()
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
            self._writer.write_direct(transport)
            if self._closing:
                return
        else:
            self._writer.write_queue(transport, None)
        if self.congested and queue.waiting_bytes <= self.soft_bytes // 2:
            self._behind.not_behind()
        elif self.slow and not queue:
            # Even while an element streams to it and more waits behind that: the client has
            # taken all it was given (`waiting_bytes` leaves the rest out), so it gets all of
            # that, uncoalesced, once the element ends.
            self._behind.caught_up()
        if self._eof and not queue and not queue.streaming and not self._writer.pending:
            self.close()

    # -- closing ---------------------------------------------------------------------------

    def _keep_last_words(self) -> None:
        """A write failed: the client has gone. Route what it sent before it went.

        ``indi_setprop`` writes its new*Vector and exits while definitions may still be on
        their way to it (when its getProperties was passed to a driver, ``routing.pendingcommands``): its
        socket resets, our next write fails, and the command, still unread in our socket,
        would be lost with it. The kernel still hands it out after the reset. It is routed
        on the next loop turn, before ``connection_lost``: a failed write happens inside the
        router's delivery, which must not be re-entered.
        """
        chunks: list[bytes] = []
        size = 0
        while size < LAST_WORDS_BYTES:
            try:
                data = os.read(self._fd, READ_SIZE)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
            size += len(data)
        if chunks:
            asyncio.get_running_loop().call_soon(self._route_last_words, b"".join(chunks))

    def _route_last_words(self, data: bytes) -> None:
        frames = [item for item in self._framer.feed(data) if type(item) is Frame]
        if frames:
            logger.debug("client %s: routing the %d element(s) it sent before it went",
                        self.label, len(frames))
            self.router.client_frames(self, frames)

    def close(self) -> None:
        """Close after the transport's buffer is written."""
        transport = self._stop_sending()
        if transport is not None:
            transport.close()

    def abort(self) -> None:
        """Close at once, dropping whatever is buffered."""
        transport = self._stop_sending()
        if transport is not None:
            transport.abort()

    def _stop_sending(self) -> asyncio.Transport | None:
        """Nothing more goes to the client: its queue, the rest of an element being written and
        the falling-behind watch are dropped. The transport, to be closed."""
        self._closing = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self._queue.clear()
        self._writer.drop_pending()
        self._behind.not_behind()
        return self._transport

