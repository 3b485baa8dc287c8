"""BLOBs that a driver attaches as file descriptors, turned back into inline base64.

The drivers: an indilib C driver or an ``IPyDriver`` whose stdout is a Unix socket, and an
in-process ``IPyDriver`` whose link (``drivers.inprocess``) takes its memfds while a client on
the Unix socket wants its BLOBs; that link holds the driver's next write (`hold`) as the
executable's reader is held.

A C driver whose stdout is an AF_UNIX socket (``drivers.executable``, ELF programs) sends each BLOB's data
as a memfd passed with SCM_RIGHTS, and in the XML only ``<oneBLOB ... len='N' attached='true'>``
with an empty body. The socket reader puts the descriptors, in arrival order, in the driver's
`SharedBuffers` before the bytes that came with them are framed; `AttachedBlobs` then gives them
to the ``attached`` members in document order, as indiserver 1.9.9 does (``Msg::fetchBlobs``).
Clients on the Unix socket that take memory files get the element as the driver wrote it with
its memfds (the sink's ``begin_attached``), as indiserver gives them, whatever the size; for
the others each member becomes one line of base64 without ``enclen`` (what indiserver sends to
TCP clients), which libindiclient counts right.

``binascii.b2a_base64`` holds the GIL, so encoding a large image at once stalls the whole
server for milliseconds per image of a few MB, and a worker thread would not help. So
`AttachedBlobs` encodes at most `STEP` bytes per event-loop iteration and passes the element on
as it is encoded, in the pieces of cut-through forwarding (``blobs.cutthrough``: `FrameHead`,
`FrameChunk`..., `FrameEnd`); `STEP` is a multiple of 3, so the pieces are one valid line.
Meanwhile the driver's reader is held (``drivers.inbound.InboundProtocol.hold``) and whatever else the
driver sent waits, so nothing overtakes the BLOB. A vector whose attached data fits in one
step is encoded at once, in the read that brought it, and given to the sink whole
(`small_to_sink`, while a client on the Unix socket would take its memfd; else converted
inline for every client and routed once, `inline_attached`).

Two exceptions let the driver go on while its image is encoded; without them each frame of
indilib's CCD simulator waited about 11 ms with four clients (the whole encoding and every
client's share of it) before the exposure's Ok reached the client that starts the next one
(``bench/ccdrate.py``):

* The driver's ``pingRequest`` right behind the image (libindi sends it in the image's own
  message, and waits for its reply before it goes on) is passed on before anything is
  written or closed for the image: the image is the server's from then (its descriptors
  held here).
* When every client that takes the image streams it (the sink `keeps_order`: none gets it
  whole at its end, nothing assembles it), what the driver sends meanwhile is routed at once,
  since it waits behind the image in those clients' queues and the others never see the
  image; the reader is not held. The first ``setBLOBVector`` it sends meanwhile, and
  everything after it, waits here with the reader held, so what the driver has in flight is
  bounded to one more image, waiting with its ping until this one is done.

What such a driver sends inline streams: its reader hands the pieces of a large
``setBLOBVector`` here (`AttachedBlobs.handle`, cut-through as ``blobs.cutthrough``), and they
go on to the sink at once, unless a conversion is under way or waits: then they wait here, the
reader held, so that nothing overtakes what the driver sent before. An element with an attached
member comes whole (its reader's ``Framer(split_attached=True)``), unless the member comes
after more than the framer's ``stream_min`` of inline data: that member's data is then put
inline where it stands (`FrameAttached`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from indipycore.protocol.frames import Frame
from indipycore.protocol.frames import FrameAttached
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.protocol.serialiser import LINES
from indipycore.protocol.serialiser import end_tag
from indipycore.sharedblobs import AttachedMember
from indipycore.sharedblobs import check
from indipycore.sharedblobs import check_xml
from indipycore.sharedblobs import claim
from indipycore.sharedblobs import encode
from indipycore.sharedblobs import glue
from indipycore.sharedblobs import inline
from indipycore.sharedblobs import one_member
from indipyserver.blobs.sharedbuffers import CLOSER
from indipyserver.blobs.sharedbuffers import SharedBuffers
from indipyserver.blobs.sharedbuffers import release
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import flow_for

__all__ = ["STEP", "AttachedBlobs", "SharedBuffers", "inline_attached"]  # SharedBuffers: re-exported

logger = logging.getLogger("indipyserver.attachedblobs")  # the name users' logs know

#: Bytes of a memfd encoded per event-loop iteration: a fraction of a millisecond of
#: ``b2a_base64``, 256 KiB of base64 (the size a client writer takes per write). A multiple of 3: the base64
#: of consecutive steps concatenates into one valid line.
STEP = 3 * 64 * 1024

#: What closes an element cut short inside a member's value.
_CUT_SHORT = (end_tag("oneBLOB", LINES) + end_tag("setBLOBVector", LINES)).encode()


def _close_members(members: list[AttachedMember]) -> None:
    for member in members:
        if member.fd is not None:
            release(member.fd, member.size)
            member.fd = None


def _convert(frame: Frame, members: list[AttachedMember]) -> Frame:
    """`frame` with the (checked) members' values inlined, encoded at once."""
    return Frame(frame.tag, frame.attrs, inline(frame.data, members, STEP))


def _log_dropped(label: str, frame: Frame, exc: Exception) -> None:
    logger.error("%s: %s %s.%s dropped: %s", label, frame.tag, frame.device, frame.name, exc)


def inline_attached(frame: Frame, buffers: SharedBuffers, label: str = "driver") -> Frame | None:
    """`frame` with each ``attached`` oneBLOB inlined from the next descriptor of `buffers`,
    encoded at once (`AttachedBlobs` spreads large ones over several loop iterations).

    Returns `frame` itself when it has no attached member, and None (the element dropped, an
    error logged, as indiserver does) when a member lacks a descriptor, a valid ``size`` (and
    ``len`` if it has one), or readable data. Every descriptor taken is closed, whatever happens.
    """
    if frame.tag != "setBLOBVector" or b"attached" not in frame.data:
        return frame
    members = claim(frame.data, buffers.pop)
    if not members:
        return frame
    try:
        check_xml(frame.data)
        check(members)
        return _convert(frame, members)
    except (ValueError, OSError) as exc:
        _log_dropped(label, frame, exc)
        return None
    finally:
        _close_members(members)


class Holdable(Protocol):
    """The driver's reader (``drivers.inbound.InboundProtocol``): held while a conversion runs."""

    def hold(self, held: bool) -> None: ...


class PieceSink(Protocol):
    """Where an element being converted goes piece by piece (``blobs.cutthrough.BlobForwarder``)."""

    def handle(self, item: FrameHead | FrameChunk | FrameEnd) -> None: ...

    def begin_attached(self, head: FrameHead, element: bytes, fds: list[int]) -> None:
        """`handle(head)` of an element whose attached data are `fds` (in document order):
        `element`, as the driver sent it, goes with them to the clients that take memory
        files (``clients.unixsocket``); the pieces follow for the others."""

    def abort(self, tail: bytes | None) -> None: ...

    @property
    def wants_pieces(self) -> bool:
        """After a `FrameHead`: someone takes the element (False: no client enabled BLOBs
        for it, and nothing needs it whole)."""
        ...

    @property
    def keeps_order(self) -> bool:
        """After a `FrameHead`: what is routed until its `FrameEnd` reaches the element's
        receivers after it (module doc)."""
        ...


class _Assembler:
    """A `PieceSink` that joins the pieces and routes the element whole (no forwarder given)."""

    def __init__(self, on_frames: Callable[[list[Frame]], None]) -> None:
        self._on_frames = on_frames
        self._head: FrameHead | None = None
        self._data = bytearray()

    def handle(self, item: FrameHead | FrameChunk | FrameEnd) -> None:
        if isinstance(item, FrameHead):
            self._head = item
            self._data = bytearray(item.data)
            return
        self._data += item.data
        if isinstance(item, FrameEnd):
            head, data = self._head, self._data
            assert head is not None
            self._head, self._data = None, bytearray()
            self._on_frames([Frame(head.tag, head.attrs, data)])  # type: ignore[arg-type]

    def begin_attached(self, head: FrameHead, element: bytes, fds: list[int]) -> None:
        self.handle(head)  # routed whole and inline: the router decides

    def abort(self, tail: bytes | None) -> None:
        self._head, self._data = None, bytearray()  # never routed: it never ended

    @property
    def wants_pieces(self) -> bool:
        return True  # routed whole: the router decides

    @property
    def keeps_order(self) -> bool:
        return False  # routed at its end: anything routed before would overtake it


class _Conversion:
    """One element whose attached values are being encoded, `STEP` bytes at a time."""

    def __init__(self, frame: Frame, members: list[AttachedMember], step: int) -> None:
        self.frame = frame
        self.members = members
        self.glue = glue(frame.data, members)
        self.index = 0  # the member being encoded
        self.offset = 0  # how much of it is done
        self.buf = bytearray(step)  # read into, step after step

    def head(self) -> FrameHead:
        return FrameHead(self.frame.tag, self.frame.attrs, self.glue[0])

    def advance(self, sink: PieceSink, step: int) -> bool:
        """Encode and pass on the next piece (at most `step` bytes); True once complete."""
        member = self.members[self.index]
        assert member.fd is not None
        n = min(step, member.length - self.offset)
        if n > 0:
            sink.handle(FrameChunk(encode(member.fd, self.offset, n, self.buf)))
            self.offset += n
        if self.offset < member.length:
            return False
        release(member.fd, member.size)  # done with: closed now, not at the element's end
        member.fd = None
        self.index += 1
        self.offset = 0
        if self.index == len(self.members):
            self.buf = bytearray()
            sink.handle(FrameEnd(self.glue[-1], True))
            return True
        sink.handle(FrameChunk(self.glue[self.index]))
        return False

    def close(self) -> None:
        _close_members(self.members)
        self.buf = bytearray()


class AttachedBlobs:
    """Wraps a driver's ``on_frames`` so that what it receives has only inline BLOBs.

    A vector with more attached data than `STEP` is passed to `sink` (the driver's
    ``BlobForwarder``; by default it is assembled and given to ``on_frames`` whole) in pieces,
    one loop iteration each, while `reader` is held and later frames wait here (module doc).
    Registered with `congestion` as a reader: it stops between pieces while a client is
    congested, as the driver's socket reader does. `close` when the driver is gone.
    """

    def __init__(
        self,
        on_frames: Callable[[list[Frame]], None],
        buffers: SharedBuffers,
        label: str,
        sink: PieceSink | None = None,
        congestion: Congestion | None = None,
        step: int | None = None,
        small_to_sink: Callable[[], bool] | None = None,
    ) -> None:
        """`small_to_sink`: asked of each element whose attached data fit in one step: True
        sends it to the sink too (encoded at once, in the same call), so that clients taking
        memory files get it so, as indiserver's Unix-socket clients get every attached BLOB;
        False (and None: always) converts it to inline base64 for everyone, routed once,
        which costs TCP clients less (``Router.takes_attached``: a Unix client wants it)."""
        if step is None:
            step = STEP  # read here, so that tests can make steps small
        if step <= 0 or step % 3:
            raise ValueError(f"step must be a positive multiple of 3, not {step}")
        self._on_frames = on_frames
        self.buffers = buffers
        self._label = label
        self._sink: PieceSink = sink if sink is not None else _Assembler(on_frames)
        self._congestion = congestion
        self._step = step
        self._small_to_sink = small_to_sink
        #: The driver's reader, held while a conversion is under way (set by the owner).
        self.reader: Holdable | None = None
        self._pending: deque[Frame] = deque()  # read after the element being converted
        self._conversion: _Conversion | None = None
        self._next: asyncio.Handle | None = None  # the next step, scheduled
        self._throttled = False
        self._closed = False
        self._idle: asyncio.Event | None = None  # made by `finished`, set as it may return
        # The driver's own element streaming to the sink (`handle`), and whether it was cut
        # short here (its end, when it comes, is then not passed on) ...
        self._own: FrameHead | None = None
        self._own_cut = False
        # ... or the pieces of one that came while a conversion was under way, held here
        # (the reader held) until it is done.
        self._waiting: list[FrameHead | FrameChunk | FrameAttached] | None = None
        if congestion is not None:
            congestion.add_reader(self)
        CLOSER.start()  # now, not in the middle of the first large BLOB

    @property
    def converting(self) -> bool:
        """An element is being converted (and the reader held)."""
        return self._conversion is not None

    @property
    def busy(self) -> bool:
        """An element is being converted, or elements wait behind one: what the driver sends
        must come here too, to keep its order."""
        return self._conversion is not None or bool(self._pending) or self._waiting is not None

    def __call__(self, frames: list[Frame]) -> None:
        if self._conversion is not None and not self._pending and self._sink.keeps_order:
            self._pending.extend(frames)
            self._pass_on_meanwhile()  # read while the reader was not held (module doc)
        elif self._conversion is not None or self._pending:
            self._pending.extend(frames)  # behind the element being converted
        elif any(f.tag == "setBLOBVector" for f in frames):
            self._route(frames)
        else:
            self._on_frames(frames)

    def _route(self, frames: list[Frame]) -> None:
        """Convert and pass on `frames` in order, until one needs converting over time."""
        out: list[Frame] = []
        for i, frame in enumerate(frames):
            if frame.tag != "setBLOBVector" or b"attached" not in frame.data:
                out.append(frame)
                continue
            members = claim(frame.data, self.buffers.pop)
            if not members:
                out.append(frame)
                continue
            large = small = False
            try:
                check_xml(frame.data)
                large = check(members) > self._step
                small = not large and self._small_to_sink is not None and self._small_to_sink()
                if (large or small) and self._closed:
                    raise ValueError("the driver is gone")
                if not (large or small):
                    out.append(_convert(frame, members))
            except (ValueError, OSError) as exc:
                _log_dropped(self._label, frame, exc)
                large = small = False
            finally:
                if not (large or small):
                    _close_members(members)
            if not (large or small):
                continue
            # The conversion owns the descriptors from here (`close` closes them).
            conversion = _Conversion(frame, members, self._step)
            if out:
                self._on_frames(out)
                out = []
            if small:
                self._pass_small(conversion, bytes(frame.data))
                continue
            self._conversion = conversion
            self._pending.extend(frames[i + 1 :])  # empty before: see the callers
            # The driver's ping right behind the image is answered before anything is written
            # or closed for it: the image is the server's from here (its descriptors held
            # here), and libindi waits for the reply before it sends what comes next (the
            # exposure's Ok). Pings are answered, never passed on: nothing is overtaken.
            pings = self._take_while(lambda f: f.tag == "pingRequest")
            if pings:
                self._on_frames(pings)
            self._sink.begin_attached(conversion.head(), bytes(frame.data),
                                      [m.fd for m in members if m.fd is not None])
            if not self._sink.wants_pieces:
                # No client takes it as base64 (none enabled BLOBs for the device, the
                # usual case while nobody watches a camera; or those that did took the
                # memory files themselves, on the Unix socket): nothing to encode. The element ends at
                # once, its memfds are closed, and what the driver sent after it (its ping)
                # goes on now, so the driver is not kept waiting for base64 nobody reads.
                self._conversion = None
                conversion.close()
                self._sink.handle(FrameEnd(conversion.glue[-1], True))
                rest = list(self._pending)
                self._pending.clear()
                self._route(rest)
                return
            if self._sink.keeps_order:
                self._pass_on_meanwhile()
            else:
                self._update_hold()
            self._schedule()
            return
        if out:
            self._on_frames(out)

    def _pass_small(self, conversion: _Conversion, element: bytes) -> None:
        """An element whose data fit in one step, given to the sink whole in this call: its
        memory files to the clients that take them, its base64 (encoded now) to the others."""
        self._sink.begin_attached(conversion.head(), element,
                                  [m.fd for m in conversion.members if m.fd is not None])
        try:
            if not self._sink.wants_pieces:
                self._sink.handle(FrameEnd(conversion.glue[-1], True))
                return
            while not conversion.advance(self._sink, self._step):
                pass
        except (ValueError, OSError) as exc:
            frame = conversion.frame
            logger.error("%s: %s %s.%s cut short: %s", self._label, frame.tag, frame.device,
                         frame.name, exc)
            self._sink.abort(_CUT_SHORT)
        finally:
            conversion.close()

    async def finished(self) -> None:
        """Wait until no element is being converted (or `close`). The driver's reader may see
        its end meanwhile (it is not always held): the image it sent is still delivered, and
        what came after it, as when the reader was held until the end."""
        while self._conversion is not None and not self._closed:
            if self._idle is None:
                self._idle = asyncio.Event()
            await self._idle.wait()

    def _wake_finished(self) -> None:
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.set()

    def _pass_on_meanwhile(self) -> None:
        """While the element being converted keeps order: route what waits up to the first
        ``setBLOBVector``; the reader is held while one waits (until the element is done)."""
        out = self._take_while(lambda f: f.tag != "setBLOBVector")
        if out:
            self._on_frames(out)
        self._update_hold()

    def _update_hold(self) -> None:
        """Hold the driver's reader while what it sends next must wait here: behind a
        conversion that does not keep order, or a ``setBLOBVector`` waiting behind one, or
        the pieces of its own element that came meanwhile (module doc)."""
        if self.reader is not None and not self._closed:
            conversion = self._conversion is not None
            self.reader.hold(self._waiting is not None or (
                conversion and (bool(self._pending) or not self._sink.keeps_order)))

    def _take_while(self, test: Callable[[Frame], bool]) -> list[Frame]:
        """The frames at the head of what waits that pass `test`, taken out of it."""
        pending = self._pending
        taken = []
        while pending and test(pending[0]):
            taken.append(pending.popleft())
        return taken

    def _schedule(self) -> None:
        if self._next is None and not (self._throttled or self._closed):
            self._next = asyncio.get_running_loop().call_soon(self._step_once)

    def _step_once(self) -> None:
        """One loop iteration's work: one piece, and what follows the element once it is done."""
        self._next = None
        conversion = self._conversion
        if conversion is None:
            return
        flow = flow_for()
        flow.begin()  # the receivers' writes go out at the end of this step
        try:
            try:
                done = conversion.advance(self._sink, self._step)
            except (ValueError, OSError) as exc:
                frame = conversion.frame
                logger.error(
                    "%s: %s %s.%s cut short: %s", self._label, frame.tag, frame.device,
                    frame.name, exc,
                )
                self._abort()
                done = True
            except Exception:
                logger.exception("%s: converting a shared BLOB failed", self._label)
                self._abort()
                done = True
            if not done:
                self._schedule()
                return
            self._conversion = None
            if self._pending:
                frames = list(self._pending)
                self._pending.clear()
                self._route(frames)
            if self._conversion is None:
                waiting, self._waiting = self._waiting, None
                for item in waiting or ():
                    self._pass_own(item)  # the driver's own element, held back until now
                self._update_hold()
                self._wake_finished()
        finally:
            flow.end()

    def _abort(self) -> None:
        """Give up the element being converted: its descriptors closed, its receivers given a
        well-formed end (a client already receiving it gets it cut short, as when a driver
        on a pipe dies in the middle of a BLOB; nobody else gets it)."""
        conversion, self._conversion = self._conversion, None
        if conversion is not None:
            conversion.close()
            self._sink.abort(_CUT_SHORT)

    # The driver's own BLOBs, sent inline: its reader streams them (``drivers.inbound``).

    @property
    def active(self) -> bool:
        """One of the driver's own elements is being passed on in pieces, or waits here."""
        return self._own is not None or self._waiting is not None

    def handle(self, item: FrameHead | FrameChunk | FrameAttached | FrameEnd) -> None:
        """A piece of an element the driver sends inline, as its reader frames it (cut-through,
        ``blobs.cutthrough``): passed on to the sink at once, unless a conversion is under way
        or waits; then it waits here, the reader held, until they are done, so that nothing
        the driver sent overtakes what it sent before."""
        waiting = self._waiting
        if waiting is not None:
            if type(item) is FrameEnd:  # ended in the read that began it: routed whole, in turn
                self._waiting = None
                if item.complete:
                    data = b"".join([*(piece.data for piece in waiting), item.data])
                    head = waiting[0]
                    assert type(head) is FrameHead
                    self._pending.append(Frame(head.tag, head.attrs, data))
                self._update_hold()
            else:
                waiting.append(item)  # type: ignore[arg-type]  # a head starts it, ends end it
            return
        if type(item) is FrameHead and (self._conversion is not None or self._pending):
            self._waiting = [item]
            self._update_hold()
            return
        self._pass_own(item)

    def _pass_own(self, item: FrameHead | FrameChunk | FrameAttached | FrameEnd) -> None:
        if type(item) is FrameHead:
            self._own = item
            self._own_cut = False
            self._sink.handle(item)
        elif type(item) is FrameEnd:
            self._own = None
            if not self._own_cut:
                self._sink.handle(item)
        elif self._own_cut:
            pass  # the rest of an element cut short here
        elif type(item) is FrameAttached:
            self._inline_member(item)
        else:
            self._sink.handle(item)  # type: ignore[arg-type]

    def _inline_member(self, item: FrameAttached) -> None:
        """A member whose data is attached, met in an element that streams: its data put
        inline there, encoded at once (rare: only a vector mixing inline members with
        attached ones after them, as libindi chooses per member, streams with one; an
        attached element alone is small, and comes whole). A member that
        cannot be read cuts the element short for its receivers (and an error is logged)."""
        head = self._own
        assert head is not None
        tag = bytes(item.data)
        members = claim(tag, self.buffers.pop)
        if not members:
            self._sink.handle(FrameChunk(tag))  # "attached" was in a value, not an attribute
            return
        try:
            data = one_member(tag, members[0])
        except (ValueError, OSError) as exc:
            logger.error("%s: %s %s.%s cut short: %s", self._label, head.tag,
                         head.attrs.get("device"), head.attrs.get("name"), exc)
            self._own_cut = True
            self._sink.abort(end_tag(head.tag, LINES).encode())
            return
        finally:
            _close_members(members)
        self._sink.handle(FrameChunk(data))

    def abort(self, tail: bytes | None) -> None:
        """The driver's reader gave up its element in the middle (the driver stalled, or is
        gone): ended for its receivers with `tail`; one waiting here is dropped."""
        if self._waiting is not None:
            self._waiting = None
            self._update_hold()
            return
        if self._own is not None:
            self._own = None
            if not self._own_cut:
                self._sink.abort(tail)

    def throttle(self, paused: bool) -> None:
        """``Congestion``'s call: stop between pieces while a client is congested."""
        self._throttled = paused
        if paused:
            if self._next is not None:
                self._next.cancel()
                self._next = None
        elif self._conversion is not None:
            self._schedule()

    def close(self) -> None:
        """The driver is gone or the server stops: give up what is under way and close every
        descriptor taken (those not yet claimed are the `SharedBuffers` owner's)."""
        self._closed = True
        if self._next is not None:
            self._next.cancel()
            self._next = None
        self._pending.clear()
        self._waiting = None  # never routed (its own element streaming: its reader ends it)
        if self._conversion is not None:
            logger.warning("%s: driver gone in the middle of converting a BLOB", self._label)
            flow = flow_for()
            flow.begin()
            try:
                self._abort()
            finally:
                flow.end()
        if self._congestion is not None:
            self._congestion.remove_reader(self)
        self._wake_finished()
