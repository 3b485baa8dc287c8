"""Split an INDI byte stream into complete top-level elements without parsing their bodies.

An INDI connection is not one XML document but a stream of top-level elements, with whitespace,
stray `<?xml ...?>` declarations (Python drivers send one per message) and comments between
them (indi-notes 1.6). `Framer.feed` accepts the stream split at any byte and returns `Frame`s
(tag, start-tag attributes, the raw bytes) in order. This is the server's hot path: frames are
forwarded as raw bytes, so only the start tag is looked at.

How an element is found:

* the start tag is scanned quote-aware (attribute values may hold `>` and `/`); `<x .../>` is a
  complete element;
* otherwise the element ends at the first `</x` followed by optional whitespace and `>`: INDI
  top-level elements never contain themselves, so no nesting count is needed;
* the search for the closing tag is resumable: bytes already searched are not searched again, so
  a 13 MB BLOB arriving in 64 KB reads costs O(n) in total.

Errors are returned in the list, never raised: a `ProtocolError` saying what and at which byte
offset of the stream. The resynchronisation rule: after an error the framer skips to the next `<`
that is followed by an ASCII letter, `_` or `?` (a possible start tag or declaration) and starts
again there; a `<` found inside a malformed start tag is itself such a candidate. `<!DOCTYPE`,
`<!ENTITY`, `<![CDATA[` and any other `<!` that is not a comment are refused this way (never
expanded). An element still unfinished after `max_element_size` bytes is reported once and then
discarded up to its closing tag while keeping only a few bytes in memory.

Where the code is: a read that starts between elements is framed in `Framer.feed` itself,
whole small elements one after another, each start tag read from one of the same shape seen
before (`starttags`: a burst's or a round trip's tags differ only in their digits) or else
matched; whatever those do not handle goes on in the
resumable scanner (`scanner`), and the byte patterns both match are in `tagpatterns`.
"""

from __future__ import annotations

from typing import Any

from . import tagpatterns
from .errors import ProtocolError
from .frames import Frame, FrameChunk, FrameEnd, FrameHead, decode_attrs
from .scanner import (
    _BODY,
    _IDLE,
    _NESTING_CHECKED,
    _START,
    _STREAM,
    _STREAM_MEMBERS,
    ResumableScanner,
)
from .starttags import StartTagShapes

__all__ = ["INDI_TAGS", "Frame", "FrameChunk", "FrameEnd", "FrameHead", "Framer"]

# Bound by assignment, not imported by name, so that `_SPACES.fullmatch(data)` stays a method
# call (LOAD_METHOD) under CPython 3.11: see the docstring of `tagpatterns`.
_SPACES = tagpatterns._SPACES
_WHOLE_START_TAG = tagpatterns._WHOLE_START_TAG
_TAG_START = tagpatterns._TAG_START

#: `Framer.feed` finishes an element begun in the last read on its own only in reads longer than
#: this (a short read gains nothing), by at most _SPLIT_TAGS pieces, each ending at a `>` within
#: _SPLIT_REACH bytes; an element not finished by then goes on in the scanner with the rest.
_SPLIT_MIN = 4096
_SPLIT_TAGS = 16
_SPLIT_REACH = 4096


_KINDS = ("Text", "Number", "Switch", "Light", "BLOB")
#: The top-level elements of INDI 1.7 (with ``newLightVector``, which is not one, but which a
#: server drops with its own clear message).
INDI_TAGS = frozenset(
    {"getProperties", "enableBLOB", "message", "delProperty", "pingRequest", "pingReply"}
    | {f"{verb}{kind}Vector" for verb in ("def", "set", "new") for kind in _KINDS}
)


class Framer(ResumableScanner):
    """Incremental splitter of an INDI byte stream into `Frame`s (one per connection)."""

    def __init__(
        self,
        max_element_size: int = 256 * 1024 * 1024,
        *,
        stream_tags: frozenset[str] | set[str] | tuple[str, ...] = (),
        stream_min: int = 1 << 16,
        known_tags: frozenset[str] | None = None,
        check_nesting: bool = False,
    ) -> None:
        """With ``stream_tags`` (``setBLOBVector``/``newBLOBVector``), such an element still
        unfinished after ``stream_min`` bytes is handed out in pieces as it arrives
        (`FrameHead`, `FrameChunk`..., `FrameEnd`) instead of being assembled: memory per
        connection stays bounded by one read whatever the element's size. The body is
        scanned for ``<`` only (memchr speed; base64 never holds one) and every markup found
        is checked: only the member tag may start inside, so an element cut short by its
        peer is noticed where the next element starts, and that element is not lost.

        With ``known_tags`` (`INDI_TAGS` for a peer that speaks INDI) any other top-level
        element is refused at its start tag, with an error, and the stream resumes after it:
        random bytes that happen to read ``<Ab>`` no longer open an element that holds the
        next 256 MiB (and the elements in them) while its closing tag is awaited.

        With ``check_nesting`` as well (a client's stream: small elements, off the drivers' hot
        path), one of those top-level elements starting inside another's first 64 KiB shows
        that the other was never closed (a wrong closing tag, say): it is refused there and
        the new one framed, instead of everything the peer sends next being swallowed until
        a matching closing tag comes."""
        self.max_element_size = max_element_size
        if check_nesting and known_tags is None:
            raise ValueError("check_nesting needs known_tags: the top-level elements")
        unknown = set(stream_tags) - set(_STREAM_MEMBERS)
        if unknown:
            raise ValueError(f"cannot stream {sorted(unknown)}: only {sorted(_STREAM_MEMBERS)}")
        self._stream_tags = frozenset(stream_tags)
        self._stream_tag_bytes = frozenset(t.encode("ascii") for t in self._stream_tags)
        self._stream_starts = tuple(b"<" + t for t in sorted(self._stream_tag_bytes))
        self._known = (None if known_tags is None
                       else frozenset(t.encode("ascii") for t in known_tags))
        self._nesting = check_nesting
        self._nest_on = False  # in _BODY: still looking for a top-level start tag inside
        self.stream_min = min(stream_min, max_element_size)
        self._member = b""  # in _STREAM: the member tag name
        self._child = False  # in _STREAM: inside a member's body
        self._streaming = False  # in _STREAM: a FrameHead has been handed out
        self._streamed = 0  # in _STREAM: bytes handed out so far
        self._buf = bytearray()  # unconsumed bytes; empty between feeds in the common case
        self._lend = False  # in feed_lent: stream pieces may be views of the caller's buffer
        self._offset = 0  # stream offset of _buf[0]
        self._state = _IDLE
        # Positions below are relative to the start of _buf.
        self._search = 0  # where to resume the search for a closing tag / terminator
        self._start_hint = 0  # in _START: length already seen without a `>` after it
        self._close = b""  # b"</tag" in _BODY
        self._tag = ""
        self._attrs_raw = b""
        self._terminator = b""  # in _SKIP
        self._skip_start = 0  # stream offset where the declaration/comment began
        self._discarding = False  # in _BODY: element too large, dropping its bytes
        self._dropping = False  # in _STREAM: abandoned (`abandon_stream`), dropping its bytes
        self.bytes_searched = 0  # diagnostics: bytes passed to closing-tag searches
        self._shapes = StartTagShapes()  # start tags read before (the fast path of `feed`)

    @property
    def buffered(self) -> int:
        """Bytes held for an element not yet complete (0 between elements, and while one is
        streamed or discarded)."""
        return len(self._buf)

    def release(self) -> None:
        """The peer is gone: let go of what is buffered now. A partial element may hold up to
        `max_element_size` bytes, and the connection that owns this framer may live on until
        the cyclic garbage collector finds it. Nothing may be fed after."""
        self._buf = bytearray()
        self._state = _IDLE
        self._search = self._start_hint = 0
        self._discarding = False
        self._dropping = False

    def idle_for(self, data: bytes) -> bool:
        """Whether `data` may be taken whole by a shortcut outside `feed` (the server's
        ``lanes``): between elements, nothing buffered, and not over the element limit."""
        return (
            self._state == _IDLE
            and not self._buf
            and type(data) is bytes
            and len(data) <= self.max_element_size
        )

    def skipped(self, n: int) -> None:
        """`n` bytes taken whole by a shortcut after `idle_for`: counted, as `feed` would."""
        self._offset += n

    def feed(self, data: bytes) -> list[Frame | ProtocolError]:
        """Add bytes from the peer; return every element they complete, and any errors."""
        out: list[Frame | ProtocolError] = []
        if not data:
            return out
        if (self._buf or self._state != _IDLE) and type(data) is bytes and len(data) > _SPLIT_MIN:
            data = self._finish_pending(data, out)
            if not data:
                return out
        return self._feed(data, out)

    def _feed(self, data: bytes, out: list[Any]) -> list[Any]:
        """`feed` without finishing a pending element first: the fast paths when the read
        begins between elements, the resumable scanner for the rest."""
        start = 0
        nesting = self._nesting
        if self._state == _IDLE and not self._buf and type(data) is bytes:
            # Fast path, the common case of a read holding whole small elements (a burst's
            # read, or a round trip's one element): per element, its start tag read by shape
            # (`starttags`) or else matched by the strict pattern, and one search for the
            # closing tag, with none of the resumable scanner's state. Anything else (a partial
            # element, text, comments, a streamed tag, `</x >`) is left to `_scan` from the
            # first such element.
            n = len(data)
            match = _WHOLE_START_TAG.match
            known = self._known
            shapes = self._shapes
            read = shapes.read
            while True:
                gt = data.find(b">", start)
                if gt < 0:
                    break
                head = data[start:gt]
                seen = read(head)
                if seen is not None:
                    shape, attrs = seen
                    tag = shape.tag
                    begin = start + shape.lead
                    body = gt + 1
                    empty = shape.empty
                    close = shape.close
                else:
                    m = match(data, start)
                    if m is None:
                        break
                    name, raw = m.groups()
                    if known is not None and name not in known:
                        break  # refused by the scanner, with its error
                    body = m.end()
                    empty = raw.endswith(b"/")
                    if empty:
                        raw = raw[:-1]
                    elif name in self._stream_tag_bytes:
                        break
                    tag = name.decode("ascii")
                    attrs = decode_attrs(raw) if raw else {}
                    begin = m.start(1) - 1
                    if body == gt + 1:  # no `>` inside a value: the head is the whole tag
                        shapes.learn(head, begin - start, name, attrs)
                    close = b"</" + name
                if empty:
                    end = body
                else:
                    i = data.find(close, body)
                    if i < 0:
                        break
                    end = i + len(close)
                    if end >= n or data[end] != 0x3E:  # `</x >`, `</xy`, or cut after `</x`
                        break
                    if nesting and self._nested_start(
                            data, body, min(i, begin + _NESTING_CHECKED)) != -1:
                        break
                    self.bytes_searched += end - body
                    end += 1
                if end - begin > self.max_element_size:
                    break
                out.append(Frame(tag, attrs, data if begin == 0 and end == n else data[begin:end]))
                start = end
                if end >= n - 1 and (end == n or data[end] == 0x0A):
                    self._offset += n
                    return out
            if _SPACES.fullmatch(data, start):
                self._offset += n
                return out
        buf = self._buf
        work: bytes | bytearray
        if buf:
            buf += data
            work = buf
        else:
            work = data  # common case: no leftover, scan the caller's bytes without copying
        pos = self._scan(work, out, start)
        # Keep what is unconsumed; all positions are rebased to the new buffer start.
        current = self._buf
        if current is not buf:
            # A large element took the buffer itself as its data (_take_buffer); scanning
            # went on in the new buffer, which holds what followed that element.
            if pos:
                del current[:pos]
        elif work is buf:
            if pos:
                del buf[:pos]  # bytearray deletes from the front cheaply
        elif pos < len(work):
            self._buf = bytearray(memoryview(work)[pos:])
        self._offset += pos
        self._search -= pos
        self._start_hint -= pos
        return out

    def _finish_pending(self, data: bytes, out: list[Any]) -> bytes:
        """A large read that begins inside an element (the last read ended in it, as a burst's
        reads do): feed that element's rest alone, one tag at a time, and return the bytes
        after it, which then start between elements and take the fast path of `feed` (else a
        burst of small sets in 64 KiB reads would all go through the scanner, which is slower).
        The frames and errors are those of the same reads without this step.

        For an element that may be handed out in pieces (a BLOB), whether it is depends on
        how much of it one feed holds, so no piece fed here holds the start of one, and the
        pending element must be one that does not stream. Nor is a comment or a resync
        finished here (what follows it could start such an element). Returns `data` itself
        when the step does not apply or finds no end near, else what it left unfed."""
        state = self._state
        starts = self._stream_starts
        if state == _START or (state == _IDLE and self._buf):
            if starts:
                head = _TAG_START.match(bytes(self._buf[:_SPLIT_REACH]) + data[:_SPLIT_REACH])
                if head is None or head.group(1) in self._stream_tag_bytes:
                    return data
        elif state != _BODY or self._discarding:
            return data
        p = 0
        for _ in range(_SPLIT_TAGS):
            q = data.find(b">", p, p + _SPLIT_REACH)
            if q < 0:
                break
            q += 1
            if starts and any(data.find(t, p, q) >= 0 for t in starts):
                break
            self._feed(data[p:q], out)
            p = q
            state = self._state
            if state == _IDLE and not self._buf:
                return data[p:]
            if state != _BODY and state != _START and state != _IDLE:
                break
        return data[p:] if p else data

    @property
    def streaming(self) -> bool:
        """The element being read is being handed out in pieces (a `FrameHead` is out): the
        next bytes are more of it, until its `FrameEnd`."""
        return self._state == _STREAM and self._streaming

    def feed_lent(self, data: bytearray) -> list[Any]:
        """`feed` for a buffer the caller lends: the pieces of a streamed element in it
        (`FrameHead`/`FrameChunk`/`FrameEnd` data) are views of `data`, not copies, so a
        BLOB read into a buffer is passed on without being copied again. The caller must
        not write to `data` while any of those views is alive (``sys.getrefcount`` tells:
        a view holds a reference to `data`). Everything else is copied as `feed` does."""
        self._lend = True
        try:
            return self.feed(data)  # type: ignore[arg-type]
        finally:
            self._lend = False

    def abandon_stream(self) -> bytes | None:
        """Give up the element being handed out in pieces (its peer has stalled in the middle
        of it): the bytes that close it for its receivers (as `stream_tail`), and the rest of
        it, when it comes, is dropped up to its closing tag. None when none is streaming."""
        tail = self.stream_tail()
        if tail is not None:
            # Still scanned as it streams (an element starting inside it ends it, as for
            # any broken stream), only nothing of it is handed out or kept.
            self._streaming = False
            self._dropping = True
        return tail

    def stream_tail(self) -> bytes | None:
        """While an element is being handed out in pieces: the bytes that would close it
        (``</oneBLOB>`` if a member is open, then its own closing tag), for a peer that went
        away in the middle of it. None when no element is being streamed."""
        if self._state != _STREAM or not self._streaming:
            return None
        return self._tail()
