"""A connection from the server to one source of devices, and the in-process kinds.

`DriverConnection` is the base of every driver-side connection (in-process drivers and
in-process remotes here, executable drivers in `drivers.executable.py`, remote servers in
`remote.py`). It owns the bounded
outbound queue to the driver, so that a driver which stops reading never grows the server's
memory without bound (indiserver has no such limit, INDI notes 2.4), and carries its server's
`loop.flowcontrol.Congestion`, which holds up reading from the driver while a client of that server
is congested.

An in-process driver's link is also an ``AttachingLink``: while a client on the Unix socket
wants its BLOBs (`InProcessDriverConnection.attaches_blobs`), the driver puts them in memory
files, as it does on a Unix-socket stdout, and they take the executable driver's path
(``blobs.attached``): the memory files themselves to such clients, base64 encoded here step by
step for the others. Without such a client it encodes them itself, which costs less than a
memory file the server would read back only to encode it.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC
from abc import abstractmethod
from collections import deque
from collections.abc import Callable
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING
from typing import Protocol

from indipydriver.links import AttachingLink
from indipydriver.links import FramedLink
from indipydriver.protocol.errors import ProtocolError
from indipydriver.protocol.framing import Frame
from indipydriver.protocol.framing import Framer
from indipydriver.sharedblobs import check
from indipydriver.sharedblobs import claim
from indipydriver.sharedblobs import duplicates
from indipydriver.sharedblobs import inline
from indipyserver.blobs.attached import AttachedBlobs
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.blobs.sharedbuffers import SharedBuffers
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import LoopFlow
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.routing.ports import DriverSide

if TYPE_CHECKING:
    from indipydriver.driver import IPyDriver
    from indipyserver.fastpath.shortcut import Shortcut

logger = logging.getLogger("indipyserver.driverconn")  # the name users' logs know

class InProcessPeer(Protocol):
    """What runs in the server's loop and exchanges framed elements with it: an `IPyDriver`,
    or a bridge's network served as a remote (`InProcessRemote`)."""

    async def serve(self, link: FramedLink) -> None:
        """Exchange elements over `link` until it is closed (its ``read_frames`` says [])."""
        ...


#: Default limit of bytes queued to one driver, the same figure as indiserver's client `-m`.
DEFAULT_DRIVER_QUEUE_BYTES = 128 * 1024 * 1024


class DriverConnection(ABC):
    """One source of devices seen by the router; subclasses start and restart the peer.

    The router calls `send` only; the subclass's `run` moves bytes from `outgoing()` to the
    peer and calls `router.driver_ready` / `driver_frames` / `driver_lost` from its side.
    """

    #: Chained server: receives enableBLOB and device="*" getProperties.
    is_remote: bool = False
    #: The peer runs on this machine (``fastpath.shortcut`` hands it the CPU after writing to it): always
    #: for an executable or in-process driver; a remote server's connection says (``remote``).
    local: bool = True
    #: Reads the peer's output at once if there is any (`read_now`): set by a subclass while
    #: its reader is open (a `PipeReader`'s or a remote's ``read_now``), else None.
    reader_now: Callable[[], None] | None = None
    #: Its elements are well-formed XML without a check: only an in-process driver's, which
    #: our own serialiser wrote. Everything read from a peer is checked before it is passed
    #: on (``router``, ``wellformed``).
    trusted_xml: bool = False
    #: Its framer streams BLOB vectors (``blobs.cutthrough``), checking their member tags and markup
    #: as they arrive, so the router need not check a large one again. Every connection
    #: here streams (a driver's stdout socket too, ``blobs.attached``).
    streams_blobs: bool = True
    #: A client's element may be written to the peer at once (`write_through`): every
    #: connection to a peer; not an in-process driver.
    takes_writes: bool = True
    #: A ``dev@host`` remote's one device; None for every other connection (``remote``).
    device: str | None = None
    #: A remote asked for every BLOB by its own connection: told no BLOB modes (``remote``).
    blob_enable: bool = False
    #: The round trip's shortcut (``fastpath.shortcut``), given by the server to the
    #: connections that read a peer (executable drivers, remote servers); None: not taken.
    shortcut: Shortcut | None = None

    def __init__(
        self,
        label: str,
        *,
        is_remote: bool | None = None,
        max_queue_bytes: int = DEFAULT_DRIVER_QUEUE_BYTES,
    ) -> None:
        self.label = label
        if is_remote is not None:
            self.is_remote = is_remote
        self.max_queue_bytes = max_queue_bytes
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._wakeup = asyncio.Event()
        self._dropped = 0
        # Set by `attach_writer` (drivers.outbound.pump): queued bytes are then written straight to the
        # transport at the end of the current read batch, without waking a task.
        self._writer: asyncio.WriteTransport | None = None
        self._flow: LoopFlow | None = None  # the writer's loop's, set with it
        self._writer_paused = False
        self._marked = False
        #: The congested clients that hold up reading from this driver: its server's, set by
        #: ``IPyServer.add_connection`` before `run`; alone (the tests), its own. A subclass
        #: registers the reader of its peer with it (``drivers.inbound.InboundProtocol``), and an
        #: in-process driver's writes wait on it.
        self.congestion = Congestion()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label!r}>"

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be written to the driver."""
        return self._pending_bytes

    def read_now(self) -> None:
        """Take what the peer has already answered, without waiting for the loop's next turn.

        ``fastpath.shortcut`` calls this after writing a client's new vector and handing the peer the CPU:
        a driver that answers at once has usually written its set vector by then, and reading
        it here saves an ``epoll_wait`` and a turn of the event loop on the round trip.
        Nothing to read costs one read that would block. The reader is the subclass's (`reader_now`); none, nothing is done.
        """
        reader = self.reader_now
        if reader is not None:
            reader()

    def write_through(self, data: bytes) -> bool:
        """Write `data` at once if nothing waits before it and the writer takes it now;
        False (nothing done) when it must go through `send` (``fastpath.shortcut``)."""
        writer = self._writer
        if (
            self._pending
            or self._dropped
            or self._writer_paused
            or writer is None
            or len(data) > self.max_queue_bytes
            or writer.is_closing()
        ):
            return False
        writer.write(data)
        return True

    def stop(self) -> bool:
        """Ask `run` to end for good (FIFO ``stop``); False when the connection cannot end it
        itself, and its task is cancelled instead (the default)."""
        return False

    def _over_limit(self, size: int) -> bool:
        """Whether a message of `size` bytes must be dropped (and the first one logged): a
        driver that does not read its input must not take the server down with it."""
        if self._pending_bytes + size <= self.max_queue_bytes:
            return False
        if self._dropped == 0:
            logger.warning(
                "%s is not reading its input fast enough: dropping messages (queue over %d "
                "bytes; this one %d)",
                self.label,
                self.max_queue_bytes,
                size,
            )
        self._dropped += 1
        return True

    def send_frame(self, frame: Frame) -> None:
        """Queue one element the router has framed; a peer takes its bytes (`send`)."""
        self.send(frame.data)

    def send(self, data: bytes) -> None:
        """Queue bytes to the driver; never blocks; drops (and logs) past `max_queue_bytes`."""
        if self._over_limit(len(data)):
            return
        flow = self._flow
        if flow is not None and data is flow.through and not (self._pending or self._dropped):
            # The one element of this batch, and nothing else queued for us: the write the
            # batch's end would make (`flush_marked`), made now, without queueing it first.
            writer = self._writer
            if not (self._writer_paused or writer is None or writer.is_closing()):
                writer.write(data)
                return
        self._pending.append(data)
        self._pending_bytes += len(data)
        if flow is None:
            self._wakeup.set()
        elif not (self._marked or self._writer_paused):
            self._marked = True
            flow.mark(self)

    # -- direct writing (see drivers.outbound.pump) ------------------------------------------------

    def attach_writer(self, transport: asyncio.WriteTransport) -> None:
        """Write queued bytes straight to `transport` from now on (batched per read)."""
        self._writer = transport
        self._flow = flow = flow_for()
        self._writer_paused = False
        if self._pending and not self._marked:
            self._marked = True
            flow.mark(self)

    def detach_writer(self) -> None:
        """Back to `outgoing()`: the transport is gone."""
        self._writer = None
        self._flow = None
        self._marked = False

    def writer_paused(self, paused: bool) -> None:
        """Flow control of the attached transport: stop/restart writing to it."""
        self._writer_paused = paused
        flow = self._flow
        if not paused and self._pending and not self._marked and flow is not None:
            self._marked = True
            flow.mark(self)

    def flush_marked(self) -> None:
        """The LoopFlow's call: one write of everything queued, unless paused."""
        self._marked = False
        writer = self._writer
        pending = self._pending
        if writer is None or self._writer_paused or not pending or writer.is_closing():
            return
        if len(pending) == 1 and not self._dropped:  # `_take`, inlined: once per read
            data = pending[0]
            pending.clear()
            self._pending_bytes = 0
        else:
            data = self._take()
        writer.write(data)

    async def outgoing(self) -> bytes:
        """Wait for queued bytes and take them all as one batch (one write to the peer)."""
        while not self._pending:
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._take()

    def _take(self) -> bytes:
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        self._pending_bytes = 0
        if self._dropped:
            logger.warning("%s: %d messages were dropped", self.label, self._dropped)
            self._dropped = 0
        return data

    def discard_outgoing(self) -> None:
        """Forget queued bytes; call before `router.driver_ready` when a peer is restarted."""
        self._pending.clear()
        self._pending_bytes = 0

    @abstractmethod
    async def run(self, router: DriverSide) -> None:
        """Run for the life of the server: connect the peer and feed the router."""


class InProcessDriverConnection(DriverConnection):
    """Runs an `IPyDriver` in the server's event loop, itself the driver's `FramedLink` and
    `AttachingLink`.

    The driver's writes are framed and handed straight to the router, so each message is
    serialised once by the driver and the same bytes go to every client. A BLOB it attaches
    (`write_attached`) goes through an `AttachedBlobs` made at the first one, as an executable
    driver's: while that encodes for TCP clients, what the driver writes next goes there too,
    behind it, and a write it must hold back (`hold`) waits, so nothing overtakes the BLOB.
    """

    #: Writes between yields to the event loop, so a driver sending in a tight loop lets the
    #: clients' flushes run and cannot starve them.
    YIELD_EVERY_BYTES = 256 * 1024
    trusted_xml = True
    takes_writes = False  # it takes elements framed (`send_frame`), never bytes written through
    _count = 0  # numbers the labels: two instances of one driver class must be told apart

    def __init__(self, driver: IPyDriver | InProcessPeer, *, label: str | None = None) -> None:
        InProcessDriverConnection._count += 1
        super().__init__(label or f"{type(driver).__name__} #{InProcessDriverConnection._count}")
        self.driver = driver
        self._router: DriverSide | None = None
        self._framer = Framer()
        self._written_since_yield = 0
        self._closed = False
        # What the router sends the driver, in order: elements it framed, handed on as they
        # are, and bytes it wrote itself (requests), framed here once (`read_frames`).
        self._inbox: list[Frame | bytes] = []
        self._inbox_framer = Framer()
        # The driver's attached BLOBs: their descriptors (duplicates, owned here until
        # claimed), and the conversion they go through, made at the first one.
        self._buffers = SharedBuffers()
        self._blobs: AttachedBlobs | None = None
        self._released: asyncio.Event | None = None  # clear while `hold` holds the driver

    # -- what the router sends -----------------------------------------------------------

    def send(self, data: bytes) -> None:
        if not self._over_limit(len(data)):
            self._queue(data, len(data))

    def send_frame(self, frame: Frame) -> None:
        """The driver takes the element as the router framed it, not its bytes to frame again."""
        if not self._over_limit(len(frame.data)):
            self._queue(frame, len(frame.data))

    def _queue(self, item: Frame | bytes, size: int) -> None:
        self._inbox.append(item)
        self._pending_bytes += size
        self._wakeup.set()

    def discard_outgoing(self) -> None:
        self._inbox.clear()
        self._pending_bytes = 0

    # -- the Link the driver sees ------------------------------------------------------

    async def read_frames(self) -> list[Frame]:
        """The elements sent to the driver since its last read, framed; [] once closed."""
        while not self._inbox:
            if self._closed:
                return []
            self._wakeup.clear()
            await self._wakeup.wait()
        items, self._inbox = self._inbox, []
        self._pending_bytes = 0
        if self._dropped:
            logger.warning("%s: %d messages were dropped", self.label, self._dropped)
            self._dropped = 0
        frames: list[Frame] = []
        for item in items:
            if type(item) is Frame:
                frames.append(item)
                continue
            for framed in self._inbox_framer.feed(item):  # type: ignore[arg-type]
                if isinstance(framed, ProtocolError):
                    logger.error("%s: malformed element for the driver: %s", self.label, framed)
                else:
                    frames.append(framed)
        return frames

    async def read(self) -> bytes:
        """The bytes sent to the driver since its last read (a driver that reads bytes)."""
        frames = await self.read_frames()
        return b"".join(bytes(frame.data) for frame in frames)

    async def write(self, data: bytes) -> None:
        await self._deliver(data, None)

    async def write_frame(self, frame: Frame) -> None:
        """One element the driver framed itself as it wrote it (``IPyDriver._send``): routed
        as `write` routes it, without the framer reading back what was just written."""
        await self._deliver(frame.data, frame)

    # -- the AttachingLink the driver sees ---------------------------------------------

    @property
    def attaches_blobs(self) -> bool:
        """Whether the driver's BLOBs are worth memory files now: a client on the Unix
        socket wants some BLOB of its devices (``Router.takes_attached``). Else the driver
        encodes them itself: a memory file would only be read back here to be encoded."""
        router = self._router
        return router is not None and not self._closed and router.takes_attached(self)

    async def write_attached(self, data: bytes, fds: Sequence[int]) -> None:
        """A ``setBLOBVector`` whose attached members' data are the memory files `fds`, in
        order (the driver's: duplicates are kept here until the element is passed on)."""
        await self._deliver(data, None, fds)

    def hold(self, held: bool) -> None:
        """`AttachedBlobs`' call: the driver's next write waits while what it sent before
        waits behind a BLOB being encoded (``blobs.attached.Holdable``)."""
        released = self._released
        if released is not None:
            if held:
                released.clear()
            else:
                released.set()

    def _attached_blobs(self, router: DriverSide) -> AttachedBlobs:
        """The conversion the driver's attached BLOBs go through, made at the first one."""
        blobs = self._blobs
        if blobs is None:
            self._released = asyncio.Event()
            self._released.set()
            on_frames = partial(router.driver_frames, self)
            blobs = AttachedBlobs(on_frames, self._buffers, self.label,
                                  BlobForwarder(router, self, on_whole=on_frames),
                                  self.congestion, small_to_sink=True)
            blobs.reader = self
            self._blobs = blobs
        return blobs

    async def _deliver(self, data: bytes, frame: Frame | None,
                       fds: Sequence[int] = ()) -> None:
        router = self._router
        if router is None or self._closed:
            return
        congestion = self.congestion
        if congestion.congested:
            # A client of this server is behind but reading: wait, as an executable driver
            # waits on its pipe.
            await congestion.wait_uncongested()
        released = self._released
        if released is not None and not released.is_set():
            await released.wait()  # behind a BLOB being encoded (`hold`)
            if self._closed:
                return
        # (a frame after a partial write would overtake it: the framer then reads it too)
        frames = self._feed(data) if frame is None or self._framer.buffered else [frame]
        blobs = self._blobs
        if fds:
            if len(frames) != 1 or frames[0].tag != "setBLOBVector":
                logger.error("%s: attached BLOB not one setBLOBVector: dropped", self.label)
                return
            blobs = self._attached_blobs(router)
            try:
                self._buffers.push(duplicates(fds))  # claimed in order by its members
            except OSError as exc:  # out of descriptors: encoded from the driver's, at once
                logger.warning("%s: BLOB encoded here at once: %s", self.label, exc)
                inlined = _inlined(frames[0], fds)
                if inlined is None:
                    return
                frames = [inlined]
        elif blobs is not None and not blobs.busy:
            blobs = None  # nothing waits there: straight to the router
        if frames:
            if self._turn_open:
                # Not the first write of this turn of the loop: no batch here, a batch per
                # write would flush (one socket send per client) per message. Outside a batch
                # the marks are flushed by one call_soon, i.e. once the driver yields, so a
                # driver sending in a tight loop reaches each client in one write per loop turn
                # (YIELD_EVERY_BYTES bounds how much that is).
                if blobs is None:
                    router.driver_frames(self, frames)
                else:
                    blobs(frames)  # an attached BLOB, or behind one
            else:
                # The first write of the turn goes out at once, in a batch of its own: an
                # answer to a client's request (rxevent) reaches it without waiting for the
                # loop's next turn. A tight loop pays one more send per turn.
                self._turn_open = True
                flow = flow_for()
                flow.loop.call_soon(self._close_turn)
                flow.begin(frames[0].data if len(frames) == 1 else None)
                try:
                    if blobs is None:
                        router.driver_frames(self, frames)
                    else:
                        blobs(frames)
                finally:
                    flow.end()
        self._written_since_yield += len(data)
        if self._written_since_yield >= self.YIELD_EVERY_BYTES:
            self._written_since_yield = 0
            await asyncio.sleep(0)

    _turn_open = False  # this turn of the loop has had a write (`write`)

    def _close_turn(self) -> None:
        self._turn_open = False

    async def close(self) -> None:
        self._closed = True
        self._wakeup.set()
        if self._released is not None:
            self._released.set()  # a write held back returns (dropped: closed)

    def _feed(self, data: bytes) -> list[Frame]:
        items = self._framer.feed(data)
        if len(items) == 1 and type(items[0]) is Frame:  # one message per write, as a rule
            return items  # type: ignore[return-value]
        frames = []
        for item in items:
            if isinstance(item, ProtocolError):
                logger.error("%s sent malformed XML: %s", self.label, item)
            else:
                frames.append(item)
        return frames

    # -- lifecycle -----------------------------------------------------------------------

    async def run(self, router: DriverSide) -> None:
        """Serve the driver until it returns; its devices are deleted when it ends."""
        self._router = router
        self._closed = False
        self.discard_outgoing()
        router.driver_ready(self)
        link: FramedLink = self  # elements pass framed both ways (mypy checks the protocol)
        _attaching: AttachingLink = self  # and BLOBs attached (mypy checks that one too)
        try:
            await self.driver.serve(link)
            if self._blobs is not None:
                await self._blobs.finished()  # its last image is delivered all the same
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("driver %s failed", self.label)
        finally:
            self._closed = True
            self._end_blobs()
            router.driver_lost(self)

    def _end_blobs(self) -> None:
        """The driver is gone: a BLOB being encoded is given up, and every descriptor it
        passed and nothing claimed is closed."""
        blobs, self._blobs = self._blobs, None
        if blobs is not None:
            blobs.close()
        self._buffers.close_all()
        if self._released is not None:
            self._released.set()
            self._released = None


def _inlined(frame: Frame, fds: Sequence[int]) -> Frame | None:
    """`frame` with its attached members' data inline, read from `fds` (left open: the
    driver's); None, and an error logged, when one cannot be read."""
    left = deque(fds)
    members = claim(frame.data, lambda: left.popleft() if left else None)
    try:
        check(members)
        return Frame(frame.tag, frame.attrs, inline(frame.data, members))
    except (ValueError, OSError) as exc:
        logger.error("%s.%s dropped: %s", frame.device, frame.name, exc)
        return None


class InProcessRemote(InProcessDriverConnection):
    """A remote server reached in process: a bridge's network of INDI sites (``mqtttoport``)
    served to this server's clients as a chained server's devices are.

    Elements pass framed both ways, as an in-process driver's do: a socket to ourselves cost a
    13.5 MB BLOB a send, a receive, the transport keeping what the socket did not take and
    framing it again. Unlike a driver's, what it hands on came from a network, so the router
    checks it as a remote's (``trusted_xml``); BLOB vectors must come framed by a streaming
    framer (``Framer(stream_tags=...)``), which checked their markup. It is asked for every
    device with ``getProperties device="*"`` and told no BLOB modes: it sends every BLOB and
    the server filters per client.
    """

    is_remote = True
    blob_enable = True
    trusted_xml = False
