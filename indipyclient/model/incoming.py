"""What a server sends, read into the model: bytes in, what they changed out. Pure: no asyncio,
no sockets, no files (the connection does those with what comes out).

``Incoming(model).feed(data)`` is a generator over one read. It yields, in the order the
elements arrived:

* the client event of each element that changed the model (``indipyclient.model.events``), the
  model changed *as the event is handed out* (lazily: a program looking at the model from the
  event sees it as that element left it, not as later elements in the same read do);
* a ``Frame`` for each ``pingRequest`` (the connection answers it);
* ``FrameHead``/``FrameChunk``/``FrameEnd`` of a large ``setBLOBVector`` handed out in pieces
  (``blobstream`` receives them);
* a ``ProtocolError`` for each malformed element (skipped).

On a server's Unix socket (``Incoming(model, attached=AttachedBlobs(...))``) a
``setBLOBVector`` whose members are memory files (``attached``) is read with the descriptors
given to its ``AttachedBlobs`` (``attachedblobs``) and applied as an inline one; such a member
met in an element already streaming (``FrameAttached``) becomes a ``FrameChunk`` holding its
data as base64, as the streamed element's other members; `leftover` closes descriptors that
came with no attached member.

The general path is the protocol core's: ``Framer`` -> ``parse_element`` (each set element's
answer reused by shape, ``setshapes``) -> ``Model.apply``. A burst takes a shortcut: while a
read holds whole elements of the shape of the last set (the sets of one property differing only
in their digits, as a server streams them), each is checked against that shape (one
``translate`` and a comparison), its fields sliced out of it and given straight to
``Model.update_set``, which is where the general path ends too -- no protocol event, no frame.
Anything else in the read (another shape, a definition, a set of a vector the model does not
know or knows as another kind) goes through the framer one element at a time, and the shortcut
takes over again after it; the framer is told of the bytes the shortcut took (``skipped``), so
its view of the stream is the same either way. The elements of one shape that follow a set, each
after the same whitespace (a burst's read is mostly these), are checked together -- one
``translate`` and one comparison over them -- and, when the shape names its vector with
constants, applied by the shape's own loop (``setshapes``, through ``Model.update_run``), still
each as its event is handed out. ``tests/client/test_incoming.py`` holds the two
paths to the same events and model (hypothesis, malformed input included).
"""

from __future__ import annotations

from collections.abc import Generator
from collections.abc import Iterator
from typing import Any

from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError
from indipycore.protocol.frames import FrameAttached
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.protocol.shapes import DIGITS_TO_ZERO

from . import events
from .attachedblobs import AttachedBlobs
from .properties import PropertyVector
from .setshapes import SetShapes
from .setshapes import _Recipe
from .tree import Model

__all__ = ["Incoming", "Item"]

#: A setBLOBVector longer than this is handed out in pieces (``blobstream``).
STREAM_MIN = 1 << 16
MAX_ELEMENT_SIZE = 512 * 1024 * 1024
_XML_SPACE = b" \t\r\n"
_DIGITS_TO_ZERO = DIGITS_TO_ZERO  # the shapes' table (``setshapes``)
_BLOB_START = b"<setBLOBVector"

#: What ``feed`` yields.
Item = events.Event | Frame | FrameHead | FrameChunk | FrameEnd | ProtocolError


class Incoming:
    """The receiving half of one connection (see the module docstring): a new one per
    connection, since the framer's state belongs to one stream."""

    def __init__(self, model: Model, max_element_size: int = MAX_ELEMENT_SIZE,
                 attached: AttachedBlobs | None = None) -> None:
        self.model = model
        self.attached = attached
        self.framer = Framer(max_element_size=max_element_size,
                             stream_tags={"setBLOBVector"}, stream_min=STREAM_MIN,
                             split_attached=attached is not None)
        self.shapes = SetShapes()
        self.shortcut = 0  # elements the shortcut took (tests and benchmarks read it)
        # With `attached`: the read (its number) the element under way began in, None when it
        # began in the read being fed (`_now`), and the one a streaming element began in.
        self._began: int | None = None
        self._now = 0
        self._read_start = 0  # where in the stream the read being fed began
        self._streamed_began = 0

    @property
    def buffered(self) -> int:
        """Bytes held of an element not yet complete."""
        return self.framer.buffered

    def feed(self, data: bytes) -> Iterator[Item]:
        """Everything one read from the server means, in order (see the module docstring)."""
        framer = self.framer
        if self.attached is not None:
            self._next_read()
        last = self.shapes.last
        if last is not None and framer.buffered and type(data) is bytes:
            # Finish the element the last read cut in two, so that the rest of this read may
            # take the shortcut (the framer frames any split alike).
            cut = data.find(last.closing)
            if 0 <= cut < len(data) - len(last.closing):
                cut += len(last.closing)
                yield from self._frames(framer.feed(data[:cut]))
                data = data[cut:]
        pos = 0
        size = len(data)
        while framer.idle_for(data):
            start = pos
            pos = yield from self._shortcut(data, pos)
            if pos > start:
                framer.skipped(pos - start)
            if pos >= size:
                return
            # What stopped the shortcut goes through the framer: a set of a shape not seen
            # yet alone (the shortcut takes the next ones), anything else up to the next set;
            # a BLOB and what follows it whole (whether it comes in pieces depends on that).
            if data.startswith(_BLOB_START, pos):
                break
            if data.startswith(b"<set", pos):
                end = self.shapes.end_of(data, pos)
            else:
                end = data.find(b"<set", pos + 1)
            if end < 0:
                break
            yield from self._frames(framer.feed(data[pos:end]))
            pos = end
        if pos < size:
            yield from self._frames(framer.feed(data[pos:] if pos else data))

    def feed_lent(self, data: bytearray) -> Iterator[Item]:
        """``feed`` for a read the connection lends in the middle of a BLOB
        (``Framer.feed_lent``): the BLOB's pieces are views of ``data``, not copies."""
        if self.attached is not None:
            self._next_read()
        yield from self._frames(self.framer.feed_lent(data))

    def _next_read(self) -> None:
        """A read begins (`attached`): which read the element under way, if any, began in.
        One held whole (buffered) begins at the framer's offset: in the last read if that is
        at or after where the last read began, even when an element under way before was
        dropped as garbage meanwhile (which hands out nothing that says so)."""
        assert self.attached is not None
        framer = self.framer
        if framer.streaming:
            if self._began is None:
                self._began = self._now  # it began in the last read
        elif framer.buffered:
            if self._began is None or framer.offset >= self._read_start:
                self._began = self._now
        else:
            self._began = None
        self._now = self.attached.read
        self._read_start = framer.offset + framer.buffered

    def _element_began(self) -> int:
        """The read the element just handed out began in; the next one begins in this one."""
        began = self._now if self._began is None else self._began
        self._began = None
        return began

    def _shortcut(self, data: bytes, pos: int) -> Generator[events.Event, None, int]:
        """The set elements from ``pos`` on of shapes known to go straight to the model,
        applied one by one as they are handed out; returns where the first other element
        starts (or the end)."""
        shapes = self.shapes
        devices = self.model.devices
        update = self.model.update_set
        size = len(data)
        recipe = shapes.last
        shape = b"" if recipe is None else recipe.shape
        while True:
            while pos < size and data[pos] in _XML_SPACE:
                pos += 1
            if pos >= size:
                return pos
            end = pos + len(shape)
            element = data[pos:end]
            if recipe is None or element.translate(_DIGITS_TO_ZERO) != shape:
                recipe = shapes.at(data, pos)
                if recipe is None:
                    return pos
                shape = recipe.shape
                end = pos + len(shape)
                element = data[pos:end]
            kind = recipe.kind
            if kind is None:
                return pos
            devicename, vectorname, timeout, timestamp, message, values = recipe.fields(
                element.decode("ascii"))
            device = devices.get(devicename)
            vector = None if device is None else device.vectors.get(vectorname)
            if type(vector) is not kind:
                return pos  # the general path says why it is ignored
            self.shortcut += 1
            pos = end
            yield update(vector, recipe.update, recipe.state, timeout, timestamp, message,
                         values)
            pos, more = yield from self._same_shape(data, end, recipe, vector)
            if not more:
                return pos

    def _same_shape(self, data: bytes, end: int, recipe: _Recipe, vector: PropertyVector
                    ) -> Generator[events.Event, None, tuple[int, bool]]:
        """The elements of `recipe`'s shape right after the one that ended at `end` (of
        `vector`), each after the same whitespace (a burst's read is mostly these): checked
        all at once, one translate and one comparison, and read from one decoded text. Each is
        still applied to the model only as its event is handed out. Returns where the
        shortcut goes on, and False when an element must take the general path from there."""
        size = len(data)
        lead = 0
        while end + lead < size and data[end + lead] in _XML_SPACE:
            lead += 1
        length = len(recipe.shape)
        stride = lead + length
        count = (size - end) // stride
        if count < 2:
            return end, True
        unit = data[end : end + lead] + recipe.shape
        block = data[end : end + count * stride]
        same = block.translate(_DIGITS_TO_ZERO)
        if same != unit * count:
            k = 0
            while k < count and same.startswith(unit, k * stride):
                k += 1
            if not k:
                return end, True
            count = k
            block = block[: count * stride]
        text = block.decode("ascii")
        if recipe.named:
            # Every element names the vector of the one before (constants of the shape),
            # which the model had as of its kind: nothing to look up.
            self.shortcut += count
            yield from self.model.update_run(vector, recipe.run, text, lead, stride, count)
            return end + count * stride, True
        devices = self.model.devices
        update = self.model.update_set
        fields = recipe.fields
        kind = recipe.kind
        event = recipe.update
        state = recipe.state
        at = lead
        for _ in range(count):
            devicename, vectorname, timeout, timestamp, message, values = fields(
                text[at : at + length])
            device = devices.get(devicename)
            found = None if device is None else device.vectors.get(vectorname)
            if found is None or type(found) is not kind:
                return end + at, False  # the general path says why it is ignored
            self.shortcut += 1
            at += stride
            yield update(found, event, state, timeout, timestamp, message, values)
        return end + count * stride, True

    def leftover(self) -> ProtocolError | None:
        """Once everything read so far is handed out: descriptors still unclaimed while no
        element is under way came with no attached member (a server that sent too many); they
        are closed, and the error says so. None when there are none."""
        attached = self.attached
        if (attached is None or not attached.fds or self.framer.buffered
                or self.framer.streaming):
            return None
        return ProtocolError(f"{attached.excess()} descriptors came with no attached BLOB "
                             "member; closed")

    def _owner(self, items: list[Any]) -> int:
        """The index in `items` of the element that takes the descriptors of the read being
        fed: the last whole element with attached members that begins in it. A read ends
        with the write that passed descriptors, which began with its element, so any other
        such element beginning in the read came without its own (a faulty server): it must
        not take these (``attachedblobs``). -1 when there is none."""
        owner = -1
        continuing = self._began is not None
        for i, item in enumerate(items):
            kind = type(item)
            if kind is Frame:
                if continuing:
                    continuing = False
                elif item.tag == "setBLOBVector" and b"attached" in item.data:
                    owner = i
            elif kind is FrameEnd or kind is ProtocolError:
                continuing = False
            elif kind is FrameHead:
                continuing = True  # streamed: its attached members take theirs in order
        return owner

    def _frames(self, items: list[Any]) -> Iterator[Item]:
        """The general path: what the framer made of part of a read."""
        attached = self.attached
        owner = self._owner(items) if attached is not None else -1
        for index, item in enumerate(items):
            if type(item) is not Frame:
                if attached is not None:
                    kind = type(item)
                    if kind is FrameAttached:
                        try:
                            yield FrameChunk(attached.resolve_one(bytes(item.data),
                                                                  self._streamed_began))
                        except ProtocolError as exc:
                            yield exc
                        continue
                    if kind is FrameHead:
                        # (Not ended yet: the element is still under way.)
                        self._streamed_began = self._began = (
                            self._now if self._began is None else self._began)
                    elif kind is FrameEnd or kind is ProtocolError:
                        self._element_began()
                yield item  # a BLOB's pieces, or a ProtocolError
                continue
            if attached is not None:
                continued = self._began is not None
                began = self._element_began()
                if not continued and index != owner:
                    began = -1  # not this read's descriptors (`_owner`)
            if item.tag == "pingRequest":
                yield item
                continue
            try:
                # An attached setBLOBVector with its members' bytes, else the element as read.
                blobs = (attached.resolve(item.data, began)
                         if attached is not None and item.tag == "setBLOBVector"
                         and b"attached" in item.data else None)
                event = blobs if blobs is not None else self.shapes.parse(item.data)
            except ProtocolError as exc:
                yield exc
                continue
            if event is not None:
                change = self.model.apply(event)
                if change is not None:
                    yield change
