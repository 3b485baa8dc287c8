"""The framer's resumable scanner: one state machine over the stream, kept between reads.

Each `Framer` holds one. `Framer.feed` frames whole small elements itself and hands everything
else to `ResumableScanner.scan`, which carries on from where the previous read stopped: partial
elements, declarations and comments, errors and resynchronisation, streamed elements. The
scanner owns the stream's state (what is buffered, the offset, the state machine); the framer
reads it through the properties below and tells it of the bytes it framed itself (`advance`).
How an element is found and the resynchronisation rule are in the docstring of `framing`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from indipycore.protocol import tagpatterns

from .errors import ProtocolError
from .frames import Frame
from .frames import FrameAttached
from .frames import FrameChunk
from .frames import FrameEnd
from .frames import FrameHead
from .frames import decode_attrs
from .serialiser import LINES
from .serialiser import end_tag

# Under the framer's name: the scanner is part of it.
logger = logging.getLogger("indipycore.protocol.framing")

# Bound by assignment, not imported by name, so that `_START_TAG.match(...)` stays a method call
# (LOAD_METHOD) under CPython 3.11: see the docstring of `tagpatterns`.
_START_TAG = tagpatterns._START_TAG
_STRICT_START_TAG = tagpatterns._STRICT_START_TAG
_END_TAG = tagpatterns._END_TAG
_CLOSE_TAIL = tagpatterns._CLOSE_TAIL
_RESYNC_POINT = tagpatterns._RESYNC_POINT
_WHITESPACE = tagpatterns._WHITESPACE
_NAME_START = tagpatterns._NAME_START
_NAME_CHAR = tagpatterns._NAME_CHAR

# Scanner states.
_IDLE = 0  # between elements
_START = 1  # inside a start tag that has not fully arrived
_BODY = 2  # looking for the closing tag
_SKIP = 3  # inside a declaration or comment, looking for its terminator
_CDATA = b"<![CDATA["
#: A declaration (``<?...?>``) or comment may be this long; see the _SKIP state.
MAX_SKIPPED = 1 << 16
_RESYNC = 4  # after an error, looking for a plausible start of element
_STREAM = 5  # inside an element that may be handed out in pieces (Framer stream_tags)

#: Streamable elements and their member tag (the only child allowed in their body).
_STREAM_MEMBERS = {"setBLOBVector": b"oneBLOB", "newBLOBVector": b"oneBLOB"}
#: A start/end tag or comment inside a streamed element longer than this is an error.
_MAX_MARKUP = 1 << 16

# Framer(check_nesting=True): how far into an element a top-level start tag is looked for,
# and how far back each new search begins (a tag name cut by the end of the last read).
_NESTING_CHECKED = 1 << 16
_NAME_MARGIN = 24
_MARKUP_INSIDE = -2  # `nested_start`: a `<!` came first
_TAG_NAME = re.compile(rb"[A-Za-z][A-Za-z]*(?=[\s/>])")
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


class ResumableScanner:
    """The resumable state machine of one stream (`Framer` holds one; its options are the
    framer's, checked there)."""

    def __init__(self, max_element_size: int, stream_tags: frozenset[str], stream_min: int,
                 known: frozenset[bytes] | None, nesting: bool,
                 split_attached: bool = False) -> None:
        self.max_element_size = max_element_size
        self._stream_tags = stream_tags
        self._known = known
        self._nesting = nesting
        self._nest_on = False  # in _BODY: still looking for a top-level start tag inside
        self.stream_min = stream_min
        self._member = b""  # in _STREAM: the member tag name
        self._child = False  # in _STREAM: inside a member's body
        self._streaming = False  # in _STREAM: a FrameHead has been handed out
        self._streamed = 0  # in _STREAM: bytes handed out so far
        self._split_attached = split_attached  # `Framer(split_attached=...)`
        self._whole = False  # in _STREAM: an attached member came before it streamed
        self._buf = bytearray()  # unconsumed bytes; empty between feeds in the common case
        self.lend = False  # `Framer.feed_lent`: stream pieces may be views of the caller's buffer
        #: Stream offset of the first byte not consumed yet (of `_buf`'s first): a plain
        #: attribute, which a shortcut outside the framer counts on (``Framer.scanner``).
        self.offset = 0
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
        # Between elements with nothing buffered, so a read may start with a whole element
        # (the framer's fast path): kept up to date by `scan` and `release`.
        self.idle = True

    # ---------------------------------------------------------------- what the framer reads

    @property
    def state(self) -> int:
        return self._state

    @property
    def discarding(self) -> bool:
        """An element over the size limit is being skipped."""
        return self._discarding

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def buffered_head(self, n: int) -> bytes:
        """The first `n` bytes buffered (of an element begun in an earlier read)."""
        return bytes(self._buf[:n])

    @property
    def streaming(self) -> bool:
        return self._state == _STREAM and self._streaming

    def advance(self, n: int) -> None:
        """`n` bytes framed (or taken) whole by the framer itself, while idle."""
        self.offset += n

    def release(self) -> None:
        """Let go of what is buffered (`Framer.release`)."""
        self._buf = bytearray()
        self._state = _IDLE
        self._search = self._start_hint = 0
        self._discarding = False
        self._dropping = False
        self.idle = True

    def abandon_stream(self) -> bytes | None:
        """`Framer.abandon_stream`."""
        tail = self.stream_tail()
        if tail is not None:
            # Still scanned as it streams (an element starting inside it ends it, as for
            # any broken stream), only nothing of it is handed out or kept.
            self._streaming = False
            self._dropping = True
        return tail

    def stream_tail(self) -> bytes | None:
        """`Framer.stream_tail`."""
        if self._state != _STREAM or not self._streaming:
            return None
        return self._tail()

    # ---------------------------------------------------------------- scanning

    def scan(self, data: bytes | bytearray, out: list[Any], start: int) -> list[Any]:
        """Scan `data` from `start` on, after what is buffered; keep what is unconsumed."""
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
        self.offset += pos
        self._search -= pos
        self._start_hint -= pos
        self.idle = self._state == _IDLE and not self._buf
        return out

    # The scanner is one function with local variables: it runs once per frame on the hot path.
    # `out` also takes FrameHead/FrameChunk/FrameEnd in stream mode (Any: `feed` keeps its
    # declared type for the callers that never stream).
    def _scan(self, work: bytes | bytearray, out: list[Any], pos: int = 0) -> int:
        n = len(work)
        # Pieces of a streamed element: views of a lent buffer, never of our own `_buf`
        # (it is trimmed and appended to, which a view would forbid).
        piece = _view if self.lend and work is not self._buf else _slice
        state = self._state
        search = self._search
        offset = self.offset
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
                    if n - lt < 9 and (b"<!--".startswith(work[lt:n])
                                       or _CDATA.startswith(work[lt:n])):
                        break
                    if work.startswith(b"<!--", lt):
                        state = _SKIP
                        self._terminator = b"-->"
                        self._skip_start = offset + lt
                        search = lt + 4
                    elif work.startswith(_CDATA, lt):
                        # Character data, not markup: what it holds is skipped with it, never
                        # taken for elements (as resynchronising inside it would).
                        out.append(self._error("refused CDATA section between elements",
                                               offset + lt))
                        state = _SKIP
                        self._terminator = b"]]>"
                        self._skip_start = offset + lt
                        search = lt + 9
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
                    m = None  # nothing since then could end it: still incomplete, as below
                else:
                    m = _STRICT_START_TAG.match(work, pos)
                    assert m is not None  # `<` + name start always matches
                if m is not None and m.group(3):
                    attrs_raw = m.group(2)
                    tag = m.group(1)
                    end = m.end()
                    if self._known is not None and tag not in self._known:
                        name = tag[:64].decode("latin-1")
                        out.append(self._error(f"unknown element <{name}> refused",
                                               offset + pos))
                        pos = end
                        state = _RESYNC  # skips its text and closing tag, if any
                        continue
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
                        self._whole = False
                        state = _STREAM
                    else:
                        state = _BODY
                        self._nest_on = self._nesting
                    continue
                e = m.end() if m is not None else n
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
                if self._nest_on and not self._discarding:
                    # Only the element's first _NESTING_CHECKED bytes, however it was split.
                    limit = min(i if i >= 0 else n, pos + _NESTING_CHECKED)
                    start = max(pos + 1, search - _NAME_MARGIN)
                    nested = self.nested_start(work, start, limit) if start < limit else -1
                    if nested >= 0:
                        what = bytes(work[nested + 1 : nested + 40]).split(None, 1)[0]
                        out.append(self._error(
                            f"<{self._tag}> not closed: <{what.decode('latin-1')} began "
                            "inside it", offset + nested))
                        pos = nested
                        state = _IDLE
                        continue
                    if nested == _MARKUP_INSIDE:
                        self._nest_on = False  # CDATA or a comment: not read for tags
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
                        state = _IDLE
                        if not self._discarding and self._hand_out(work, pos, end, out):
                            work = self._buf  # the tail after the buffer handed out
                            n = len(work)
                            offset += end
                            search -= end
                            pos = 0
                        else:
                            pos = end
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
                limited = term != b"]]>"
                if i >= 0 and not (limited and offset + i - self._skip_start > MAX_SKIPPED):
                    pos = i + len(term)
                    state = _IDLE
                    continue
                search = max(search, n - len(term) + 1)
                if limited:
                    # A declaration or comment is short: one whose end is not within
                    # MAX_SKIPPED bytes was most likely a `<?` or `<!--` in junk, so the stream
                    # resumes just after it (its bytes were kept for that) and the elements
                    # that followed are not lost -- decided by where its end is, not by how
                    # the stream was split.
                    if i >= 0 or offset + n - self._skip_start > MAX_SKIPPED + len(term):
                        out.append(self._error("unterminated declaration or comment",
                                               self._skip_start))
                        pos = self._skip_start - offset + 2
                        state = _RESYNC
                        continue
                    break
                pos = search  # nothing of a CDATA section is kept, nor read as markup
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
                                    if self._dropping:  # abandoned: its end is not handed out
                                        self._dropping = False
                                    elif self._streaming:
                                        self._streaming = False
                                        out.append(FrameEnd(piece(work, pos, end)))
                                    elif self._hand_out(work, pos, end, out):
                                        work = self._buf  # pos stays 0: the tail's start
                                        n = len(work)
                                        offset += end
                                        search -= end
                                        continue
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
                                    attrs = m.group(2)
                                    self._child = not attrs.endswith(b"/")
                                    search = m.end()
                                    if (self._split_attached and b"attached" in attrs
                                            and not self._dropping):
                                        if not self._streaming:
                                            self._whole = True  # assembled: its data inlined
                                        else:  # the tag alone, as a piece of its own
                                            if i > pos:
                                                out.append(FrameChunk(piece(work, pos, i)))
                                            out.append(FrameAttached(piece(work, i, search)))
                                            self._streamed += search - pos
                                            pos = search
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
                if self._dropping:  # abandoned (`Framer.abandon_stream`): nothing of it is kept
                    pos = hold
                    break
                if not self._streaming:
                    if hold - pos < self.stream_min:
                        break  # small so far: assembled, as other elements
                    if self._whole:
                        if hold - pos <= self.max_element_size:
                            break  # assembled whole (`Framer(split_attached=...)`)
                        self._stream_abort(
                            f"{self._tag} element larger than {self.max_element_size} bytes;"
                            " skipped", offset + pos, out)
                        self._discarding = True
                        search = pos
                        state = _BODY
                        continue
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

    def nested_start(self, work: bytes | bytearray, start: int, end: int) -> int:
        """Where a top-level element's start tag begins in work[start:end]; -1 for none, and
        _MARKUP_INSIDE if a ``<!`` (CDATA, a comment) comes first: what it holds is text."""
        known = self._known
        assert known is not None
        lt = work.find(b"<", start, end)
        while lt >= 0:
            if work[lt + 1 : lt + 2] == b"!":
                return _MARKUP_INSIDE
            m = _TAG_NAME.match(work, lt + 1)
            if m is not None and m.group() in known:
                return lt
            lt = work.find(b"<", lt + 1, end)
        return -1

    def _stream_abort(self, what: str, where: int, out: list[Any]) -> None:
        """The streamed element is broken: report it and, if pieces of it were handed out,
        close it (FrameEnd complete=False) so that their receivers stay well-formed."""
        self._dropping = False  # an abandoned one was closed for its receivers already
        if self._streaming:
            self._streaming = False
            out.append(FrameEnd(self._tail(), complete=False))
        out.append(self._error(what, where))
        self._discarding = False

    def _tail(self) -> bytes:
        """The closing tags of the element being streamed (its open member's first)."""
        tail = end_tag(self._member.decode("ascii"), LINES) if self._child else ""
        return (tail + end_tag(self._tag, LINES)).encode()

    def _check_size(
        self, work: bytes | bytearray, pos: int, n: int, out: list[Frame | ProtocolError]
    ) -> None:
        if not self._discarding and n - pos > self.max_element_size:
            out.append(
                self._error(
                    f"{self._tag} element larger than {self.max_element_size} bytes; skipped",
                    self.offset + pos,
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

    def _hand_out(
        self, work: bytes | bytearray, pos: int, end: int, out: list[Frame | ProtocolError]
    ) -> bool:
        """The element work[pos:end] is complete (a body's or a stream's that was not handed
        out in pieces): framed into `out`, or refused as too large -- the same verdict whether
        it arrived in one read or many. True when it was a large element accumulated over many
        reads and the buffer itself was handed out instead of copying megabytes: the caller
        carries on in `self._buf`, the tail, `end` bytes further on."""
        if end - pos > self.max_element_size:
            self._check_size(work, pos, end, out)
        elif pos == 0 and end > _BIG_FRAME and work is self._buf:
            out.append(self._take_buffer(work, end))
            return True
        else:
            out.append(self._frame(work, pos, end, None, self._attrs_raw))
        return False

    def _take_buffer(self, work: bytearray, end: int) -> Frame:
        """The element is work[:end]: give it `work` itself (no copy of a BLOB) and keep the
        bytes after it in a new buffer. Frame.data is then a bytearray nobody writes to."""
        self._buf = work[end:]
        del work[end:]
        self.offset += end
        self._search -= end
        self._start_hint -= end
        return Frame(self._tag, None, work, self._attrs_raw)  # type: ignore[arg-type]

    def _error(self, what: str, offset: int) -> ProtocolError:
        logger.debug("framing error: %s at byte %d", what, offset)
        return ProtocolError(what, offset)
