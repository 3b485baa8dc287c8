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
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .errors import ProtocolError
from .frames import _XML_SPACE, Frame, FrameChunk, FrameEnd, FrameHead, decode_attrs

__all__ = ["Frame", "FrameChunk", "FrameEnd", "FrameHead", "Framer"]

logger = logging.getLogger(__name__)

# Possessive quantifiers keep this linear even when the tag is incomplete and the match fails.
# `<` is excluded from attribute values (XML forbids it there) so a broken tag cannot swallow
# the elements after it.
_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*+)((?:[^<>\"']++|\"[^<\"]*+\"|'[^<']*+')*+)(>?)")
# The start tag as the _START state reads it: only `name="value"` pairs after whitespace. A tag
# that is not XML, such as `<not xml>` (an attribute without a value), stops matching early, so
# it is reported and skipped instead of opening an element that buffers the stream behind it
# while waiting for `</not`. One pass, whatever way the stream is split.
_STRICT_START_TAG = re.compile(
    rb"<([A-Za-z_][\w.:-]*+)"
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+"
    rb"[ \t\r\n]*+/?)(>?)"
)
# A whole start tag, after optional whitespace, for `Framer._whole_elements`: the strict form
# with its `>` present.
_WHOLE_START_TAG = re.compile(
    rb"[ \t\r\n]*+<([A-Za-z_][\w.:-]*+)"
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+"
    rb"[ \t\r\n]*+/?)>"
)
# The round trip's element alone in a read: a new/set vector (not a BLOB) whose start tag
# begins `device="..." name="..."`, as every INDI library writes it. The rest of the tag is
# checked as `_WHOLE_START_TAG` checks it; device and name come out of the same match, so they
# are not decoded again. An entity (`&`), a `/>` or leading text falls to the general path.
_ALONE = re.compile(
    rb"<((?:new|set)(?:Number|Switch|Text|Light)Vector)"
    rb"[ \t\r\n]++device=\"([^\"<&]*+)\"[ \t\r\n]++name=\"([^\"<&]*+)\""
    rb"((?:[ \t\r\n]++[A-Za-z_][\w.:-]*+[ \t\r\n]*+=[ \t\r\n]*+(?:\"[^<\"]*+\"|'[^<']*+'))*+)"
    rb"[ \t\r\n]*+>"
)
_SPACES = re.compile(rb"[ \t\r\n\x0b\x0c]*+")  # what bytes.strip() removes
_RESYNC_POINT = re.compile(rb"<[A-Za-z_?]")
_CLOSE_TAIL = re.compile(rb"[ \t\r\n]*+>")
_WHITESPACE = frozenset(b" \t\r\n")
_NAME_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHAR = _NAME_START | frozenset(b"0123456789.:-")

# Scanner states.
_IDLE = 0  # between elements
_START = 1  # inside a start tag that has not fully arrived
_BODY = 2  # looking for the closing tag
_SKIP = 3  # inside a declaration or comment, looking for its terminator
_RESYNC = 4  # after an error, looking for a plausible start of element
_STREAM = 5  # inside an element that may be handed out in pieces (Framer stream_tags)

#: Streamable elements and their member tag (the only child allowed in their body).
_STREAM_MEMBERS = {"setBLOBVector": b"oneBLOB", "newBLOBVector": b"oneBLOB"}
_END_TAG = re.compile(rb"</([A-Za-z_][\w.:-]*+)[ \t\r\n]*+(>?)")
#: A start/end tag or comment inside a streamed element longer than this is an error.
_MAX_MARKUP = 1 << 16

_BIG_FRAME = 1 << 16  # above this, copy through a memoryview (one copy instead of two)


def _slice(work: bytes | bytearray, start: int, end: int) -> bytes:
    """work[start:end] as bytes, without copying when it is all of a bytes object."""
    if type(work) is bytes:
        return work if start == 0 and end == len(work) else work[start:end]
    with memoryview(work) as view:
        return view[start:end].tobytes()


def _view(work: bytes | bytearray, start: int, end: int) -> memoryview:
    """work[start:end] without a copy, for a buffer lent by the caller (`Framer.feed_lent`)."""
    return memoryview(work)[start:end]


class Framer:
    """Incremental splitter of an INDI byte stream into `Frame`s (one per connection)."""

    def __init__(
        self,
        max_element_size: int = 256 * 1024 * 1024,
        *,
        stream_tags: frozenset[str] | set[str] | tuple[str, ...] = (),
        stream_min: int = 1 << 16,
    ) -> None:
        """With ``stream_tags`` (``setBLOBVector``/``newBLOBVector``), such an element still
        unfinished after ``stream_min`` bytes is handed out in pieces as it arrives
        (`FrameHead`, `FrameChunk`..., `FrameEnd`) instead of being assembled: memory per
        connection stays bounded by one read whatever the element's size. The body is
        scanned for ``<`` only (memchr speed; base64 never holds one) and every markup found
        is checked: only the member tag may start inside, so an element cut short by its
        peer is noticed where the next element starts, and that element is not lost."""
        self.max_element_size = max_element_size
        unknown = set(stream_tags) - set(_STREAM_MEMBERS)
        if unknown:
            raise ValueError(f"cannot stream {sorted(unknown)}: only {sorted(_STREAM_MEMBERS)}")
        self._stream_tags = frozenset(stream_tags)
        self._stream_tag_bytes = frozenset(t.encode("ascii") for t in self._stream_tags)
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
        self.bytes_searched = 0  # diagnostics: bytes passed to closing-tag searches

    def feed(self, data: bytes) -> list[Frame | ProtocolError]:
        """Add bytes from the peer; return every element they complete, and any errors."""
        out: list[Frame | ProtocolError] = []
        if not data:
            return out
        start = 0
        if self._state == _IDLE and not self._buf and type(data) is bytes:
            alone = _ALONE.match(data)
            if alone is not None:
                # One element and at most a newline after it: the frame, at the cost of one
                # match and one search. Anything else goes on below, from the start.
                tag, device, name, rest = alone.groups()
                close = b"</" + tag
                i = data.find(close, alone.end())
                n = len(data)
                end = i + len(close) + 1
                # ASCII device and name only: decode_attrs reads the whole tag as Latin-1 when
                # any byte of it is not UTF-8, and a non-ASCII name must be read the same way.
                if (
                    i >= 0
                    and data[end - 1 : end] == b">"
                    and (end == n or (end + 1 == n and data[end] == 0x0A))
                    and end <= self.max_element_size
                    and device.isascii()
                    and name.isascii()
                ):
                    attrs = {
                        "device": device.decode("ascii").strip(_XML_SPACE),
                        "name": name.decode("ascii").strip(_XML_SPACE),
                    }
                    if rest:
                        attrs.update(decode_attrs(rest))
                    self.bytes_searched += i + len(close) - alone.end()
                    self._offset += n
                    out.append(Frame(tag.decode("ascii"), attrs, data if end == n else data[:end]))
                    return out
            # Fast path, the common case of a read holding whole small elements: one match of
            # the start tag and one search for the closing tag each, with none of the
            # resumable scanner's state. Anything else (a partial element, text, comments,
            # a streamed tag, `</x >`) is left to `_scan` from the first such element.
            n = len(data)
            match = _WHOLE_START_TAG.match
            while True:
                m = match(data, start)
                if m is None:
                    break
                tag, raw = m.groups()
                body = m.end()
                if raw.endswith(b"/"):
                    raw = raw[:-1]
                    end = body
                else:
                    if tag in self._stream_tag_bytes:
                        break
                    close = b"</" + tag
                    i = data.find(close, body)
                    if i < 0:
                        break
                    end = i + len(close)
                    if end >= n or data[end] != 0x3E:  # `</x >`, `</xy`, or cut after `</x`
                        break
                    self.bytes_searched += end - body
                    end += 1
                begin = m.start(1) - 1
                if end - begin > self.max_element_size:
                    break
                out.append(Frame(tag.decode("ascii"), None, data[begin:end], raw))
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

    # The scanner is one function with local variables: it runs once per frame on the hot path.
    # `out` also takes FrameHead/FrameChunk/FrameEnd in stream mode (Any: `feed` keeps its
    # declared type for the callers that never stream).
    def _scan(self, work: bytes | bytearray, out: list[Any], pos: int = 0) -> int:
        n = len(work)
        # Pieces of a streamed element: views of a lent buffer, never of our own `_buf`
        # (it is trimmed and appended to, which a view would forbid).
        piece = _view if self._lend and work is not self._buf else _slice
        state = self._state
        search = self._search
        offset = self._offset
        while True:
            if state == _IDLE:
                lt = work.find(b"<", pos)
                if lt < 0:
                    rest = work[pos:]
                    text = rest.lstrip()
                    if text:
                        where = offset + pos + len(rest) - len(text)
                        out.append(self._error("text outside any element", where))
                        state = _RESYNC
                    pos = n
                    break
                if lt > pos and not work[pos:lt].isspace():
                    # Report where the text starts, and resync as if it had arrived alone, so
                    # the result never depends on how the stream was split.
                    rest = work[pos:lt]
                    where = offset + pos + len(rest) - len(rest.lstrip())
                    out.append(self._error("text outside any element", where))
                    pos = lt
                    state = _RESYNC
                    continue
                pos = lt
                if lt + 1 >= n:
                    break
                c = work[lt + 1]
                if c in _NAME_START:
                    state = _START
                    self._start_hint = lt
                elif c == 0x3F:  # <?xml ...?>
                    state = _SKIP
                    self._terminator = b"?>"
                    self._skip_start = offset + lt
                    search = lt + 2
                elif c == 0x21:  # <!
                    if n - lt < 4 and b"<!--".startswith(work[lt:n]):
                        break
                    if work.startswith(b"<!--", lt):
                        state = _SKIP
                        self._terminator = b"-->"
                        self._skip_start = offset + lt
                        search = lt + 4
                    else:
                        # Never expanded: entity definitions are an attack surface and
                        # lilxml would drop them anyway.
                        out.append(
                            self._error(
                                "refused markup '<!' that is not a comment (DOCTYPE/ENTITY/CDATA)",
                                offset + lt,
                            )
                        )
                        pos = lt + 1
                        state = _RESYNC
                else:
                    what = bytes(work[lt : lt + 2])
                    out.append(self._error(f"unexpected {what!r} between elements", offset + lt))
                    pos = lt + 1
                    state = _RESYNC

            elif state == _START:
                # pos is the `<`; only rescan when a `>` has arrived since the last attempt.
                hint = self._start_hint
                if hint > pos and work.find(b">", hint) < 0 and work.find(b"<", hint) < 0:
                    if n - pos > self.max_element_size:
                        out.append(self._error("start tag too long", offset + pos))
                        pos += 1
                        state = _RESYNC
                        continue
                    self._start_hint = n
                    break
                m = _STRICT_START_TAG.match(work, pos)
                assert m is not None  # `<` + name start always matches
                if m.group(3):
                    attrs_raw = m.group(2)
                    tag = m.group(1)
                    end = m.end()
                    if attrs_raw.endswith(b"/"):
                        out.append(self._frame(work, pos, end, tag, attrs_raw[:-1]))
                        pos = end
                        state = _IDLE
                        continue
                    self._tag = tag.decode("ascii")
                    self._attrs_raw = attrs_raw
                    self._close = b"</" + tag
                    self._discarding = False
                    search = end
                    if self._stream_tags and self._tag in self._stream_tags:
                        self._member = _STREAM_MEMBERS[self._tag]
                        self._child = False
                        self._streaming = False
                        self._streamed = 0
                        state = _STREAM
                    else:
                        state = _BODY
                    continue
                e = m.end()
                if e < n:
                    c = work[e]
                    if c == 0x3C:  # `<` inside a start tag
                        out.append(self._error("unterminated start tag", offset + pos))
                        pos = e
                        state = _IDLE
                        continue
                    # Not a well-formed attribute here. More bytes may still complete it (a
                    # quoted value not yet ended, a name cut by the read); a `<` after it
                    # settles it: the tag is malformed and the stream resumes at that `<`.
                    lt = work.find(b"<", e + 1)
                    if lt >= 0:
                        what = bytes(work[pos : min(lt, pos + 80)])
                        out.append(self._error(f"malformed start tag {what!r}", offset + e))
                        pos = lt
                        state = _IDLE
                        continue
                if n - pos > self.max_element_size:
                    out.append(self._error("start tag too long", offset + pos))
                    pos += 1
                    state = _RESYNC
                    continue
                self._start_hint = n
                break

            elif state == _BODY:
                close = self._close
                i = work.find(close, search)
                if i >= 0:
                    self.bytes_searched += i + len(close) - search
                    j = i + len(close)
                    if j < n:
                        c = work[j]
                        if c == 0x3E:  # `>`
                            end = j + 1
                        elif c in _WHITESPACE:
                            mt = _CLOSE_TAIL.match(work, j)
                            if mt is None:
                                if not work[j:].isspace():
                                    out.append(
                                        self._error(
                                            f"malformed closing tag of {self._tag}", offset + i
                                        )
                                    )
                                    pos = j
                                    state = _RESYNC
                                    continue
                                search = i  # `</tag   ` and the rest still to come
                                self._check_size(work, pos, n, out)
                                if self._discarding:
                                    pos = i
                                break
                            end = mt.end()
                        elif c in _NAME_CHAR:  # `</tagXYZ`: a different element
                            search = i + 1
                            continue
                        else:
                            out.append(
                                self._error(f"malformed closing tag of {self._tag}", offset + i)
                            )
                            pos = j
                            state = _RESYNC
                            continue
                        if self._discarding:
                            pass
                        elif end - pos > self.max_element_size:
                            # Same verdict whether the element arrived in one read or many.
                            self._check_size(work, pos, end, out)
                        elif pos == 0 and end > _BIG_FRAME and work is self._buf:
                            # A large element accumulated over many reads: hand the buffer
                            # itself out instead of copying megabytes, carry on in the tail.
                            out.append(self._take_buffer(work, end))
                            work = self._buf
                            n = len(work)
                            offset += end
                            search -= end
                            pos = 0
                            state = _IDLE
                            continue
                        else:
                            out.append(self._frame(work, pos, end, None, self._attrs_raw))
                        pos = end
                        state = _IDLE
                        continue
                    new_search = i  # `</tag` at the very end: need one more byte
                else:
                    new_search = max(search, n - len(close) + 1)
                    self.bytes_searched += n - search
                search = new_search
                self._check_size(work, pos, n, out)
                if self._discarding:
                    pos = search  # keep only the tail that may start the closing tag
                break

            elif state == _SKIP:
                term = self._terminator
                i = work.find(term, search)
                if i >= 0:
                    pos = i + len(term)
                    state = _IDLE
                    continue
                search = max(search, n - len(term) + 1)
                pos = search  # nothing of a declaration or comment is kept
                if offset + pos - self._skip_start > self.max_element_size:
                    out.append(self._error("unterminated declaration or comment", self._skip_start))
                    state = _RESYNC
                break

            elif state == _STREAM:
                # pos: first byte not yet handed out (the element's `<` until it streams).
                # hold: where bytes must be kept because a markup there is unfinished.
                i = work.find(b"<", search)
                hold = n
                if i >= 0:
                    hold = i
                    abort = ""
                    resume = -1  # where scanning goes on after an abort (-1: resync after i)
                    if i + 1 < n:
                        c = work[i + 1]
                        if c == 0x2F:  # `</`
                            m = _END_TAG.match(work, i)
                            if m is None:
                                if i + 2 < n:
                                    abort = f"malformed closing tag in {self._tag}"
                            elif m.group(2):
                                ename = m.group(1)
                                end = m.end()
                                if b"</" + ename == self._close:
                                    state = _IDLE
                                    if self._streaming:
                                        self._streaming = False
                                        out.append(FrameEnd(piece(work, pos, end)))
                                    elif end - pos > self.max_element_size:
                                        self._check_size(work, pos, end, out)
                                    elif pos == 0 and end > _BIG_FRAME and work is self._buf:
                                        out.append(self._take_buffer(work, end))
                                        work = self._buf
                                        n = len(work)
                                        offset += end
                                        search -= end
                                        continue
                                    else:
                                        out.append(
                                            self._frame(work, pos, end, None, self._attrs_raw)
                                        )
                                    pos = end
                                    continue
                                if ename == self._member:
                                    self._child = False
                                    search = end
                                    continue
                                abort = f"unexpected </{ename.decode('latin-1')}> in {self._tag}"
                            elif m.end() < n:
                                abort = f"malformed closing tag in {self._tag}"
                        elif c in _NAME_START:
                            m = _START_TAG.match(work, i)
                            assert m is not None
                            if m.group(3):
                                if m.group(1) == self._member:
                                    self._child = not m.group(2).endswith(b"/")
                                    search = m.end()
                                    continue
                                abort = (
                                    f"unterminated {self._tag}: "
                                    f"<{m.group(1).decode('latin-1')}> started inside it"
                                )
                                resume = i
                            else:
                                e = m.end()
                                if e < n and (work[e] == 0x3C or work.find(b"<", e + 1) >= 0):
                                    abort = f"malformed start tag in {self._tag}"
                        elif c == 0x21:  # `<!`
                            if n - i >= 4:
                                if work.startswith(b"<!--", i):
                                    j = work.find(b"-->", i + 4)
                                    if j >= 0:
                                        search = j + 3
                                        continue
                                else:
                                    abort = f"refused markup '<!' in {self._tag}"
                            elif not b"<!--".startswith(work[i:n]):
                                abort = f"refused markup '<!' in {self._tag}"
                        else:
                            abort = f"unexpected {bytes(work[i : i + 2])!r} in {self._tag}"
                    if abort or n - i > _MAX_MARKUP:
                        if self._streaming and i > pos:
                            # Everything before i was checked: hand it out, so that the
                            # closing sequence matches where the receivers' copy ends.
                            self._streamed += i - pos
                            out.append(FrameChunk(piece(work, pos, i)))
                        self._stream_abort(
                            abort or f"unfinished markup in {self._tag}", offset + i, out
                        )
                        if resume >= 0:
                            pos = resume
                            state = _IDLE
                        else:
                            pos = i + 1
                            state = _RESYNC
                        continue
                # Out of data: everything before `hold` can be handed out.
                search = hold
                if not self._streaming:
                    if hold - pos < self.stream_min:
                        break  # small so far: assembled, as other elements
                    self._streaming = True
                    self._streamed = hold - pos
                    out.append(
                        FrameHead(
                            self._tag,
                            decode_attrs(self._attrs_raw) if self._attrs_raw else {},
                            piece(work, pos, hold),
                        )
                    )
                    pos = hold
                elif hold > pos:
                    self._streamed += hold - pos
                    out.append(FrameChunk(piece(work, pos, hold)))
                    pos = hold
                if self._streamed > self.max_element_size:
                    self._stream_abort(
                        f"{self._tag} element larger than {self.max_element_size} bytes; skipped",
                        offset + pos,
                        out,
                    )
                    # Drop the rest of it up to its closing tag, keeping a few bytes only.
                    self._discarding = True
                    search = pos
                    state = _BODY
                    continue
                break

            else:  # _RESYNC
                m = _RESYNC_POINT.search(work, pos)
                if m is None:
                    pos = n - 1 if work.endswith(b"<") else n
                    break
                pos = m.start()
                state = _IDLE

        self._state = state
        self._search = search
        return pos

    def _stream_abort(self, what: str, where: int, out: list[Any]) -> None:
        """The streamed element is broken: report it and, if pieces of it were handed out,
        close it (FrameEnd complete=False) so that their receivers stay well-formed."""
        if self._streaming:
            self._streaming = False
            out.append(FrameEnd(self._tail(), complete=False))
        out.append(self._error(what, where))
        self._discarding = False

    def stream_tail(self) -> bytes | None:
        """While an element is being handed out in pieces: the bytes that would close it
        (``</oneBLOB>`` if a member is open, then its own closing tag), for a peer that went
        away in the middle of it. None when no element is being streamed."""
        if self._state != _STREAM or not self._streaming:
            return None
        return self._tail()

    def _tail(self) -> bytes:
        tail = b"</" + self._member + b">\n" if self._child else b""
        return tail + self._close + b">\n"

    def _check_size(
        self, work: bytes | bytearray, pos: int, n: int, out: list[Frame | ProtocolError]
    ) -> None:
        if not self._discarding and n - pos > self.max_element_size:
            out.append(
                self._error(
                    f"{self._tag} element larger than {self.max_element_size} bytes; skipped",
                    self._offset + pos,
                )
            )
            self._discarding = True

    def _frame(
        self, work: bytes | bytearray, start: int, end: int, tag: bytes | None, attrs_raw: bytes
    ) -> Frame:
        if type(work) is bytes:
            data = work[start:end]
        elif end - start > _BIG_FRAME:
            with memoryview(work) as view:
                data = view[start:end].tobytes()
        else:
            data = bytes(work[start:end])
        return Frame(self._tag if tag is None else tag.decode("ascii"), None, data, attrs_raw)

    def _take_buffer(self, work: bytearray, end: int) -> Frame:
        """The element is work[:end]: give it `work` itself (no copy of a BLOB) and keep the
        bytes after it in a new buffer. Frame.data is then a bytearray nobody writes to."""
        self._buf = work[end:]
        del work[end:]
        self._offset += end
        self._search -= end
        self._start_hint -= end
        return Frame(self._tag, None, work, self._attrs_raw)  # type: ignore[arg-type]

    def _error(self, what: str, offset: int) -> ProtocolError:
        logger.debug("framing error: %s at byte %d", what, offset)
        return ProtocolError(what, offset)
