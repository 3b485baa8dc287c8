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

from indipycore.protocol import tagpatterns

from .errors import ProtocolError
from .frames import Frame
from .frames import FrameAttached
from .frames import FrameChunk
from .frames import FrameEnd
from .frames import FrameHead
from .frames import FrameRun
from .frames import decode_attrs
from .runs import Runs
from .scanner import _BODY
from .scanner import _IDLE
from .scanner import _NESTING_CHECKED
from .scanner import _START
from .scanner import _STREAM_MEMBERS
from .scanner import ResumableScanner
from .starttags import StartTagShapes

__all__ = ["INDI_TAGS", "Frame", "FrameAttached", "FrameChunk", "FrameEnd", "FrameHead", "FrameRun",
           "Framer"]

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


class Framer:
    """Incremental splitter of an INDI byte stream into `Frame`s (one per connection).

    It frames whole small elements at the start of a read itself (the fast path of `feed`)
    and holds a `ResumableScanner` for everything else and for the stream's state."""

    def __init__(
        self,
        max_element_size: int = 256 * 1024 * 1024,
        *,
        stream_tags: frozenset[str] | set[str] | tuple[str, ...] = (),
        stream_min: int = 1 << 16,
        known_tags: frozenset[str] | None = None,
        check_nesting: bool = False,
        run_tags: frozenset[str] | set[str] | tuple[str, ...] = (),
        split_attached: bool = False,
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
        a matching closing tag comes.

        With ``run_tags`` (the server's set vectors but BLOBs, from a driver), consecutive
        elements of such a tag that differ only in digits come out as one `FrameRun`
        (``runs``).

        With ``split_attached`` as well (a driver's stdout socket, whose BLOB members may
        say ``attached='true'``, their data passed aside as a descriptor), an element with
        such a member before it streams is assembled whole (up to ``max_element_size``), and
        one met while it streams is handed out as a `FrameAttached` piece of its own, so that
        its reader can put the data there."""
        self.max_element_size = max_element_size
        if check_nesting and known_tags is None:
            raise ValueError("check_nesting needs known_tags: the top-level elements")
        unknown = set(stream_tags) - set(_STREAM_MEMBERS)
        if unknown:
            raise ValueError(f"cannot stream {sorted(unknown)}: only {sorted(_STREAM_MEMBERS)}")
        self._stream_tag_bytes = frozenset(t.encode("ascii") for t in stream_tags)
        self._stream_starts = tuple(b"<" + t for t in sorted(self._stream_tag_bytes))
        self._known = (None if known_tags is None
                       else frozenset(t.encode("ascii") for t in known_tags))
        self._nesting = check_nesting
        # Everything but whole small elements at the start of a read, and the stream's state.
        self._scanner = ResumableScanner(max_element_size, frozenset(stream_tags),
                                         min(stream_min, max_element_size), self._known,
                                         check_nesting, split_attached)
        #: The scanner, whose ``idle`` a caller on a hot path may read itself (`idle_for`
        #: written out) and whose ``offset`` it moves on (`skipped` written out): the round
        #: trip's shortcut in ``indipyserver``'s connections.
        self.scanner = self._scanner
        self._searched = 0  # bytes the fast path passed to closing-tag searches
        self._shapes = StartTagShapes()  # start tags read before (the fast path of `feed`)
        self._runs = Runs(run_tags) if run_tags and not check_nesting else None

    @property
    def stream_min(self) -> int:
        return self._scanner.stream_min

    @property
    def bytes_searched(self) -> int:
        """Diagnostics: bytes passed to closing-tag searches."""
        return self._searched + self._scanner.bytes_searched

    @property
    def offset(self) -> int:
        """How many bytes of the stream have been consumed (framed, skipped or refused)."""
        return self._scanner.offset

    @property
    def buffered(self) -> int:
        """Bytes held for an element not yet complete (0 between elements, and while one is
        streamed or discarded)."""
        return self._scanner.buffered

    def release(self) -> None:
        """The peer is gone: let go of what is buffered now. A partial element may hold up to
        `max_element_size` bytes, and the connection that owns this framer may live on until
        the cyclic garbage collector finds it. Nothing may be fed after."""
        self._scanner.release()

    def idle_for(self, data: bytes) -> bool:
        """Whether `data` may be taken whole by a shortcut outside `feed` (the server's
        the shortcut): between elements, nothing buffered, and not over the element limit."""
        return (
            self._scanner.idle
            and type(data) is bytes
            and len(data) <= self.max_element_size
        )

    def skipped(self, n: int) -> None:
        """`n` bytes taken whole by a shortcut after `idle_for`: counted, as `feed` would
        (`ResumableScanner.advance` written out: this runs on every shortcut read)."""
        self._scanner.offset += n

    def feed(self, data: bytes) -> list[Frame | ProtocolError]:
        """Add bytes from the peer; return every element they complete, and any errors."""
        out: list[Frame | ProtocolError] = []
        if not data:
            return out
        if not self._scanner.idle and type(data) is bytes and len(data) > _SPLIT_MIN:
            data = self._finish_pending(data, out)
            if not data:
                return out
        return self._feed(data, out)

    # The fast path is one function with local variables, as the scanner is: its loop runs
    # once per element of every read on the hot path, where a call per element would cost.
    def _feed(self, data: bytes, out: list[Any]) -> list[Any]:
        """`feed` without finishing a pending element first: the fast paths when the read
        begins between elements, the resumable scanner for the rest."""
        start = 0
        nesting = self._nesting
        scanner = self._scanner
        if scanner.idle and type(data) is bytes:
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
            runs = self._runs
            previous = None  # the start-tag shape of the element before, if it may begin a run
            before = 0  # where that element began (its whitespace first)
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
                    if nesting and scanner.nested_start(
                            data, body, min(i, begin + _NESTING_CHECKED)) != -1:
                        break
                    self._searched += end - body
                    end += 1
                if end - begin > self.max_element_size:
                    break
                if runs is not None and seen is not None:
                    if shape is previous and end - start == start - before:
                        # As long as the element before and of the same start-tag shape: the
                        # two and any like them after may go as one (`runs`).
                        run = runs.take(data, start, end, shape, gt - start, read)
                        if run is not None:
                            out.append(run)
                            self._searched += len(run.data)
                            end = start + run.count * run.unit
                            previous = None
                            start = end
                            if end >= n - 1 and (end == n or data[end] == 0x0A):
                                scanner.advance(n)
                                return out
                            continue
                    previous = shape if shape.tag in runs.tags else None
                    before = start
                else:
                    previous = None
                out.append(Frame(tag, attrs, data if begin == 0 and end == n else data[begin:end]))
                start = end
                if end >= n - 1 and (end == n or data[end] == 0x0A):
                    scanner.advance(n)
                    return out
            if _SPACES.fullmatch(data, start):
                scanner.advance(n)
                return out
        return scanner.scan(data, out, start)

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
        scanner = self._scanner
        state = scanner.state
        starts = self._stream_starts
        if state == _START or (state == _IDLE and scanner.buffered):
            if starts:
                head = _TAG_START.match(scanner.buffered_head(_SPLIT_REACH) + data[:_SPLIT_REACH])
                if head is None or head.group(1) in self._stream_tag_bytes:
                    return data
        elif state != _BODY or scanner.discarding:
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
            state = scanner.state
            if scanner.idle:
                return data[p:]
            if state != _BODY and state != _START and state != _IDLE:
                break
        return data[p:] if p else data

    @property
    def streaming(self) -> bool:
        """The element being read is being handed out in pieces (a `FrameHead` is out): the
        next bytes are more of it, until its `FrameEnd`."""
        return self._scanner.streaming

    def feed_lent(self, data: bytearray) -> list[Any]:
        """`feed` for a buffer the caller lends: the pieces of a streamed element in it
        (`FrameHead`/`FrameChunk`/`FrameEnd` data) are views of `data`, not copies, so a
        BLOB read into a buffer is passed on without being copied again. The caller must
        not write to `data` while any of those views is alive (``sys.getrefcount`` tells:
        a view holds a reference to `data`). Everything else is copied as `feed` does."""
        scanner = self._scanner
        scanner.lend = True
        try:
            return self.feed(data)  # type: ignore[arg-type]
        finally:
            scanner.lend = False

    def abandon_stream(self) -> bytes | None:
        """Give up the element being handed out in pieces (its peer has stalled in the middle
        of it): the bytes that close it for its receivers (as `stream_tail`), and the rest of
        it, when it comes, is dropped up to its closing tag. None when none is streaming."""
        return self._scanner.abandon_stream()

    def stream_tail(self) -> bytes | None:
        """While an element is being handed out in pieces: the bytes that would close it
        (``</oneBLOB>`` if a member is open, then its own closing tag), for a peer that went
        away in the middle of it. None when no element is being streamed."""
        return self._scanner.stream_tail()
