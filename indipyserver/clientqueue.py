"""The bounded outbound queue of one client: coalescing for clients that fall behind.

indiserver simply disconnects a client whose queue passes `-m` (INDI notes 2.4, 4.1). Here a
client that is behind (its socket will not take more) first has superseded elements dropped:
an older queued `set*Vector` (BLOBs included) of a property is dropped when a newer one of the
same property arrives. Only what is still waiting here can be dropped; a client that keeps up
gets every element. The owner disconnects the client when `nbytes` passes its limit anyway.

Elements are written in order; large ones are handed out in bounded chunks (memoryview slices,
no copies) so that a multi-megabyte BLOB never sits whole in a transport buffer per client.
"""

from __future__ import annotations

from indipydriver.protocol.framing import Frame

__all__ = ["ClientQueue"]


class ClientQueue:
    """Elements waiting for one client, oldest first, with their total size in bytes."""

    __slots__ = ("_held", "_items", "_latest", "_partial", "_start", "dropped", "nbytes", "streaming")

    def __init__(self) -> None:
        self._items: list[bytes | None] = []  # None: dropped in favour of a newer element
        self._start = 0  # items before this index were already handed out
        self._latest: dict[tuple[str, str], int] = {}  # (device, name) -> index of its set
        self._partial: memoryview | None = None  # rest of a large element being written
        self.nbytes = 0
        self.dropped = 0
        # An element arriving in pieces (cut-through): its pieces go straight into _items and
        # whole elements put meanwhile wait in _held, so that nothing lands inside it.
        self.streaming = False
        self._held: list[tuple[Frame, bool]] = []

    def __len__(self) -> int:
        return len(self._items) - self._start + (self._partial is not None)

    def __bool__(self) -> bool:
        return self._partial is not None or self._start < len(self._items)

    @property
    def waiting_bytes(self) -> int:
        """Bytes not yet started: `nbytes` less the rest of the element being written.

        What a client is behind by: the element in the middle of being written is being
        consumed, and a reader of one large BLOB at a time is not behind.
        """
        partial = self._partial
        return self.nbytes - (len(partial) if partial is not None else 0)

    def put(self, frame: Frame, coalesce: bool = False) -> None:
        """Add an element; with `coalesce`, an older queued set of the same property goes.

        A set carrying a `message` is never dropped (nor indexed): its text would be lost.
        A partial set (fewer members than the property) that is superseded loses its values;
        the client is behind and would be disconnected otherwise.
        """
        data = frame.data
        if self.streaming:
            self._held.append((frame, coalesce))
            self.nbytes += len(data)
            return
        key = None
        if frame.tag.startswith("set") and "message" not in frame.attrs:
            key = (frame.attrs.get("device", ""), frame.attrs.get("name", ""))
            if coalesce:
                index = self._latest.get(key)
                if index is not None and index >= self._start:
                    old = self._items[index]
                    if old is not None:
                        self._items[index] = None
                        self.nbytes -= len(old)
                        self.dropped += 1
            self._latest[key] = len(self._items)
        self._items.append(data)
        self.nbytes += len(data)

    def drop_superseded(self, device: str, name: str) -> None:
        """Drop the queued set of (device, name) not yet started: a newer one is on its way."""
        index = self._latest.pop((device, name), None)
        if index is not None and index >= self._start:
            old = self._items[index]
            if old is not None:
                self._items[index] = None
                self.nbytes -= len(old)
                self.dropped += 1

    def open_stream(self) -> None:
        """Pieces of one element follow (`put_piece`) until `close_stream`."""
        assert not self.streaming
        self.streaming = True

    def put_piece(self, data: bytes) -> None:
        """Add the next bytes of the element being streamed (never dropped: it is begun)."""
        self._items.append(data)
        self.nbytes += len(data)

    def close_stream(self) -> None:
        """The streamed element is complete: what was put meanwhile follows it."""
        self.streaming = False
        held = self._held
        if held:
            self._held = []
            for frame, coalesce in held:
                self.nbytes -= len(frame.data)
                self.put(frame, coalesce)

    def take(self, max_bytes: int) -> bytes | memoryview:
        """The next bytes to write: whole small elements joined, or a chunk of a large one."""
        if self._partial is not None:
            chunk = self._partial[:max_bytes]
            rest = self._partial[max_bytes:]
            self._partial = rest if len(rest) else None
            self.nbytes -= len(chunk)
            return chunk
        items = self._items
        if len(items) == 1 and self._start == 0:  # the usual case: one element per flush
            item = items[0]
            if item is not None and len(item) <= max_bytes:
                items.clear()
                self._latest.clear()
                self.nbytes -= len(item)
                return item
        parts: list[bytes] = []
        size = 0
        i = self._start
        end = len(items)
        while i < end:
            item = items[i]
            if item is None:
                i += 1
                continue
            n = len(item)
            if size + n > max_bytes:
                if not parts:
                    # A large element alone: hand it out in chunks without copying it.
                    view = memoryview(item)
                    self._partial = view[max_bytes:]
                    items[i] = None
                    i += 1
                    parts.append(view[:max_bytes])  # type: ignore[arg-type]
                    size = max_bytes
                break
            parts.append(item)
            items[i] = None  # written: do not keep it alive here
            size += n
            i += 1
        if i >= end:
            items.clear()
            self._latest.clear()
            self._start = 0
        elif i > 4096:
            # A client that is always a little behind: compact, or the list only grows.
            del items[:i]
            self._latest = {k: v - i for k, v in self._latest.items() if v >= i}
            self._start = 0
        else:
            self._start = i
        self.nbytes -= size
        if len(parts) == 1:
            return parts[0]
        return b"".join(parts)

    def clear(self) -> None:
        self._items.clear()
        self._latest.clear()
        self._start = 0
        self._partial = None
        self.nbytes = 0
        self.streaming = False
        self._held.clear()
