"""The bounded outbound queue of one client: coalescing for clients that fall behind.

indiserver simply disconnects a client whose queue passes `-m` (INDI notes 2.4, 4.1). Here a
client that is behind (its socket will not take more) first has superseded elements dropped:
an older queued `set*Vector` (BLOBs included) of a property is dropped when a newer one of the
same property arrives. Only what is still waiting here can be dropped; a client that keeps up
gets every element. The owner disconnects the client when `nbytes` passes its limit anyway.

Elements are written in order; large ones are handed out in bounded chunks (memoryview slices,
no copies) so that a multi-megabyte BLOB never sits whole in a transport buffer per client. A
BLOB that arrived in pieces (cut-through, `blobs.cutthrough.py`) can also be queued as those pieces
(`Parts`), so that giving it whole to a client that could not take it while it streamed costs
no copy. An element whose BLOBs travel as memory files beside it (`Attached`, a client on the
Unix socket) is handed out alone, so that its writer sends its descriptors with its bytes;
dropped or cleared, it closes them.
"""

from __future__ import annotations

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameRun
from indipyserver.routing.ports import Attached
from indipyserver.routing.ports import Parts
from indipyserver.routing.serverelements import element_frame

__all__ = ["ClientQueue", "Parts"]


def _size(item: bytes | memoryview | Parts) -> int:
    """What `item` counts in `ClientQueue.nbytes`: its bytes, and an `Attached` element's
    memory files too."""
    if type(item) is Attached:
        return len(item) + item.blob_bytes
    return item.size if isinstance(item, Parts) else len(item)


class ClientQueue:
    """Elements waiting for one client, oldest first, with their total size in bytes."""

    __slots__ = (
        "_held",
        "_held_bytes",
        "_items",
        "_latest",
        "_partial",
        "_rest",
        "_rest_bytes",
        "_said",
        "_start",
        "dropped",
        "nbytes",
        "streaming",
    )

    def __init__(self) -> None:
        self._items: list[bytes | memoryview | Parts | None] = []  # None: dropped for a newer element
        self._start = 0  # items before this index were already handed out
        self._latest: dict[tuple[str, str], int] = {}  # (device, name) -> index of its set
        # index -> a message element standing for the BLOB set there if it is dropped (`_drop`)
        self._said: dict[int, bytes] = {}
        self._partial: memoryview | None = None  # rest of a large element being written
        self._rest: list[bytes | memoryview] = []  # its pieces after _partial (of a Parts), last first
        self._rest_bytes = 0
        self.nbytes = 0
        self.dropped = 0
        # An element arriving in pieces (cut-through): its pieces go straight into _items and
        # whole elements put meanwhile wait in _held, so that nothing lands inside it.
        self.streaming = False
        self._held: list[tuple[Frame | Parts | Attached, bool]] = []
        self._held_bytes = 0

    def __len__(self) -> int:
        return len(self._items) - self._start + (self._partial is not None)

    def __bool__(self) -> bool:
        return self._partial is not None or self._start < len(self._items)

    @property
    def waiting_bytes(self) -> int:
        """Bytes not yet started: `nbytes` less the rest of the element being written and
        what waits behind an element still arriving.

        What a client is behind by: the element in the middle of being written is being
        consumed, and a reader of one large BLOB at a time is not behind. Nor is a client
        whose streamed element has stopped arriving (a peer stalled half way through a BLOB):
        what waits behind it is held up by that peer, and is sent in full once it ends.
        """
        partial = self._partial
        return self.nbytes - self._held_bytes - (
            len(partial) + self._rest_bytes if partial is not None else 0)

    def put(self, frame: Frame, coalesce: bool = False) -> None:
        """Add an element; with `coalesce`, an older queued set of the same property goes.

        A set carrying a `message` is never dropped (nor indexed): its text would be lost.
        A BLOB set is the exception, as memory matters more there: dropped, it leaves its
        message behind as a `message` element of its device. A partial set (fewer members than
        the property) that is superseded loses its values; the client is behind and would be
        disconnected otherwise.

        Of a `FrameRun` (a burst's sets of one property, framed as one) a client that is
        behind is given the newest set only, as it would be given of the same sets one by one.
        """
        if coalesce and type(frame) is FrameRun:
            assert isinstance(frame, FrameRun)
            frame = frame.element(-1)
        data = frame.data
        self._add(frame, data, len(data), coalesce)

    def put_run(self, frames: list[Frame], coalesce_from: int) -> None:
        """`put` for consecutive sets of one property, none with a message (a burst), each
        coalescing as `put` would once `nbytes` passes `coalesce_from`: appended in one loop
        while it has not, the rest one by one."""
        if self.streaming:
            for frame in frames:
                self.put(frame, self.nbytes > coalesce_from)
            return
        items = self._items
        nbytes = self.nbytes
        taken = 0
        for frame in frames:
            if nbytes > coalesce_from:
                break
            data = frame.data
            items.append(data)
            nbytes += len(data)
            taken += 1
        self.nbytes = nbytes
        if taken:
            attrs = frames[0].attrs
            self._latest[(attrs.get("device", ""), attrs.get("name", ""))] = len(items) - 1
        for frame in frames[taken:]:
            self.put(frame, self.nbytes > coalesce_from)

    def put_parts(self, element: Parts, coalesce: bool = False) -> None:
        """`put` for an element held as its pieces."""
        self._add(element, element, element.size, coalesce)

    def put_attached(self, element: Attached, coalesce: bool = False) -> None:
        """`put` for an element with its BLOBs' descriptors (the queue owns them now); its
        memory files count in `nbytes` while it waits."""
        self._add(element, element, _size(element), coalesce)

    def _add(self, element: Frame | Parts | Attached, item: bytes | memoryview | Parts,
             size: int, coalesce: bool) -> None:
        """What `put` and `put_parts` do: `element` held while another streams in, or else
        its set indexed (see `put`) and `item`, `size` bytes, queued."""
        if self.streaming:
            self._held.append((element, coalesce))
            self.nbytes += size
            self._held_bytes += size
            return
        tag = element.tag
        if tag.startswith("set"):
            attrs = element.attrs
            if "message" not in attrs:
                self._index(attrs, coalesce)
            elif tag == "setBLOBVector":
                self._index_blob_with_message(attrs, coalesce)
        self._items.append(item)
        self.nbytes += size

    def _index(self, attrs: dict[str, str], coalesce: bool) -> None:
        """Remember where the set of this property goes; drop the older one if coalescing."""
        key = (attrs.get("device", ""), attrs.get("name", ""))
        if coalesce:
            self._drop(self._latest.get(key))
        self._latest[key] = len(self._items)

    def _index_blob_with_message(self, attrs: dict[str, str], coalesce: bool) -> None:
        self._index(attrs, coalesce)
        attrs = {k: v for k, v in attrs.items() if k in ("device", "timestamp", "message")}
        self._said[len(self._items)] = element_frame("message", attrs).data

    def drop_superseded(self, device: str, name: str) -> None:
        """Drop the queued set of (device, name) not yet started: a newer one is on its way."""
        self._drop(self._latest.pop((device, name), None))

    def _drop(self, index: int | None) -> None:
        """Drop the element at `index` unless it is gone or already being written."""
        if index is not None and index >= self._start:
            old = self._items[index]
            if old is not None:
                if type(old) is Attached:
                    old.close()
                said = self._said.pop(index, None) if self._said else None
                self._items[index] = said
                self.nbytes -= _size(old) - (len(said) if said is not None else 0)
                self.dropped += 1

    def open_stream(self) -> None:
        """Pieces of one element follow (`put_piece`) until `close_stream`."""
        assert not self.streaming
        self.streaming = True

    def put_piece(self, data: bytes | memoryview) -> None:
        """Add the next bytes of the element being streamed (never dropped: it is begun)."""
        self._items.append(data)
        self.nbytes += len(data)

    def close_stream(self) -> None:
        """The streamed element is complete: what was put meanwhile follows it."""
        self.streaming = False
        self._held_bytes = 0
        held = self._held
        if held:
            self._held = []
            for element, coalesce in held:
                if type(element) is Parts:
                    self.nbytes -= element.size
                    self.put_parts(element, coalesce)
                elif type(element) is Attached:
                    self.nbytes -= _size(element)
                    self.put_attached(element, coalesce)
                else:
                    assert isinstance(element, Frame)
                    self.nbytes -= len(element.data)
                    self.put(element, coalesce)

    def take(self, max_bytes: int) -> bytes | memoryview:
        """The next bytes to write: whole small elements joined, or a chunk of a large one."""
        if self._partial is not None:
            return self._next_chunk(max_bytes)
        parts, _ = self._take_parts(max_bytes)
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def take_pieces(self, max_bytes: int, max_pieces: int, min_piece: int) -> list[bytes | memoryview]:
        """The next bytes to write as a list for one writev(2), without joining large pieces.

        A streamed BLOB's pieces (views of the driver's read buffers) and the pieces of an
        element given whole in `Parts` are handed out as they are, up to `max_pieces` of them:
        joining them was one more copy of every byte of a BLOB, into fresh memory. Small
        elements (pieces of `min_piece` bytes or less on average) are still joined: a writev
        of a thousand 150-byte sets costs more in the kernel than the join in Python.
        """
        parts: list[bytes | memoryview] = []
        size = 0
        if self._partial is None:
            parts, size = self._take_parts(max_bytes)
        if len(parts) > 1 and (len(parts) > max_pieces or size <= min_piece * len(parts)):
            return [b"".join(parts)]
        while self._partial is not None and size < max_bytes and len(parts) < max_pieces:
            chunk = self._next_chunk(max_bytes - size)
            parts.append(chunk)
            size += len(chunk)
        return parts

    def _take_parts(self, max_bytes: int) -> tuple[list[bytes | memoryview], int]:
        """Whole elements (or the first chunk of a large one) up to `max_bytes`, not joined,
        and their size."""
        items = self._items
        if len(items) == 1 and self._start == 0:  # the usual case: one element per flush
            item = items[0]
            if type(item) is bytes and len(item) <= max_bytes:
                items.clear()
                self._latest.clear()
                if self._said:
                    self._said.clear()
                self.nbytes -= len(item)
                return [item], len(item)
        parts: list[bytes | memoryview] = []
        size = 0
        i = self._start
        end = len(items)
        while i < end:
            item = items[i]
            if item is None:
                i += 1
                continue
            if type(item) is Attached:
                if parts:
                    break  # alone on the next call: its descriptors go with its first byte
                items[i] = None
                self._advance(i + 1, end)
                self.nbytes -= _size(item)
                return [item], len(item)
            if isinstance(item, Parts):
                if parts:
                    break  # written on the next call, piece by piece
                # Its pieces become the element being written, without a copy.
                items[i] = None
                i += 1
                rest = item.parts[::-1]
                self._partial = memoryview(rest.pop())
                self._rest = rest
                self._rest_bytes = item.size - len(self._partial)
                self._advance(i, end)
                chunk = self._next_chunk(max_bytes)
                return [chunk], len(chunk)
            n = len(item)
            if size + n > max_bytes:
                if not parts:
                    # A large element alone: hand it out in chunks without copying it.
                    view = memoryview(item)
                    self._partial = view[max_bytes:]
                    items[i] = None
                    i += 1
                    parts.append(view[:max_bytes])
                    size = max_bytes
                break
            parts.append(item)
            items[i] = None  # written: do not keep it alive here
            size += n
            i += 1
        self._advance(i, end)
        self.nbytes -= size
        return parts, size

    def _advance(self, i: int, end: int) -> None:
        """Items before `i` have been handed out."""
        items = self._items
        if i >= end:
            items.clear()
            self._latest.clear()
            self._said.clear()
            self._start = 0
        elif i > 4096:
            # A client that is always a little behind: compact, or the list only grows.
            del items[:i]
            self._latest = {k: v - i for k, v in self._latest.items() if v >= i}
            self._said = {k - i: v for k, v in self._said.items() if k >= i}
            self._start = 0
        else:
            self._start = i

    def _next_chunk(self, max_bytes: int) -> memoryview:
        """The next bytes of the element being written (`_partial`, then its `_rest`)."""
        partial = self._partial
        assert partial is not None
        chunk = partial[:max_bytes]
        rest = partial[max_bytes:]
        if len(rest):
            self._partial = rest
        elif self._rest:
            piece = self._rest.pop()
            self._rest_bytes -= len(piece)
            self._partial = memoryview(piece)
        else:
            self._partial = None
        self.nbytes -= len(chunk)
        return chunk

    def clear(self) -> None:
        for item in self._items:
            if type(item) is Attached:
                item.close()
        for element, _ in self._held:
            if type(element) is Attached:
                element.close()
        self._items.clear()
        self._latest.clear()
        self._said.clear()
        self._start = 0
        self._partial = None
        self._rest = []
        self._rest_bytes = 0
        self.nbytes = 0
        self.streaming = False
        self._held.clear()
        self._held_bytes = 0
