"""The in-process kinds of driver connection: an `IPyDriver` run in the server's own event
loop (`InProcessDriverConnection`), and a bridge's network served as a remote
(`InProcessRemote`).

Elements pass framed both ways (the link is a ``FramedLink``), so each message is serialised
once by the driver and the same bytes go to every client. The link is also an
``AttachingLink``: while a client on the Unix socket wants the driver's BLOBs
(`InProcessDriverConnection.attaches_blobs`), the driver puts them in memory files, as it does
on a Unix-socket stdout, and they take the executable driver's path (``blobs.attached``): the
memory files themselves to such clients, base64 encoded here step by step for the others.
Without such a client it encodes them itself, which costs less than a memory file the server
would read back only to encode it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING
from typing import Protocol

from indipycore.links import AttachingLink
from indipycore.links import FramedLink
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.sharedblobs import check
from indipycore.sharedblobs import claim
from indipycore.sharedblobs import duplicates
from indipycore.sharedblobs import inline
from indipyserver.blobs.attached import AttachedBlobs
from indipyserver.blobs.cutthrough import BlobForwarder
from indipyserver.blobs.sharedbuffers import SharedBuffers
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.routing.ports import DriverSide

if TYPE_CHECKING:
    from indipydriver.driver import IPyDriver

from indipyserver.drivers.driverconnection import DriverConnection

logger = logging.getLogger("indipyserver.driverconn")  # the name users' logs know


class InProcessPeer(Protocol):
    """What runs in the server's loop and exchanges framed elements with it: an `IPyDriver`,
    or a bridge's network served as a remote (`InProcessRemote`)."""

    async def serve(self, link: FramedLink) -> None:
        """Exchange elements over `link` until it is closed (its ``read_frames`` says [])."""
        ...


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
        order (the driver's: duplicates are kept here until the element is passed on), and what
        the driver wrote after it (its pingRequest)."""
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
                                  self.congestion,
                                  small_to_sink=partial(router.takes_attached, self))
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
            # The setBLOBVector, and what the driver wrote with it (its pingRequest).
            if not frames or frames[0].tag != "setBLOBVector":
                logger.error("%s: attached BLOB not a setBLOBVector: dropped", self.label)
                return
            blobs = self._attached_blobs(router)
            try:
                self._buffers.push(duplicates(fds))  # claimed in order by its members
            except OSError as exc:  # out of descriptors: encoded from the driver's, at once
                logger.warning("%s: BLOB encoded here at once: %s", self.label, exc)
                inlined = _inlined(frames[0], fds)
                frames = frames[1:] if inlined is None else [inlined, *frames[1:]]
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
