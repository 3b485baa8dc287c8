"""A large ``setBLOBVector`` received in pieces, each BLOB decoded as it arrives.

The framer hands a BLOB vector longer than 64 KiB out in pieces (``Framer(stream_tags=...)``:
``FrameHead``, ``FrameChunk``..., ``FrameEnd``). ``BLOBReceiver`` takes them: outside a member
it collects the (small) markup, inside one it decodes the base64 as it comes with the core's
decoder (whole groups of four characters; the rest waits for the next piece), decompresses
``.z`` incrementally (bounded by ``max_size``) and writes the bytes to a sink -- a file in the
BLOB folder, or memory. Memory stays at about one read, whatever the BLOB's size. A piece that
is a view of a whole read the connection lent (``serverstream``) is searched and decoded in that
buffer, not copied out of it first.

``skeleton()`` is the element with its bodies left out (the start tags and ``<oneBLOB .../>``
members): the core parser reads it (``parse_element``), so attributes are checked there as for
any element, and the model applies it with the received bytes (``Model.apply``'s ``received``).
"""

from __future__ import annotations

import binascii
import contextlib
import logging
import os
import zlib
from pathlib import Path
from typing import Any
from typing import Protocol

from indipycore.protocol.blobs import decode_base64
from indipycore.protocol.blobs import is_zlib_format
from indipycore.protocol.frames import decode_attrs

from .partfiles import create_part_file

__all__ = ["BLOBReceiver", "FileSink", "MemorySink", "SavedBLOB", "Sink"]

logger = logging.getLogger(__name__)

_XML_SPACE = b" \t\r\n"
#: What a piece's text is searched as: bytes, or a whole lent read (`_searchable`).
Text = bytes | bytearray
_MEMBER = b"<oneBLOB"


class SavedBLOB:
    """A BLOB written to ``path`` (``length`` bytes) instead of being held in memory."""

    __slots__ = ("length", "path")

    def __init__(self, path: Path, length: int) -> None:
        self.path = path
        self.length = length

    def read(self) -> bytes:
        return self.path.read_bytes()

    def __repr__(self) -> str:
        return f"<SavedBLOB {self.path} {self.length} bytes>"


class Sink(Protocol):
    length: int

    def write(self, data: bytes) -> None: ...
    def finish(self) -> Any: ...
    def discard(self) -> None: ...


class MemorySink:
    """The BLOB's bytes kept in memory (no BLOB folder)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self.length = 0

    def write(self, data: bytes) -> None:
        self._data += data
        self.length += len(data)

    def finish(self) -> bytes:
        return bytes(self._data)

    def discard(self) -> None:
        self._data = bytearray()


class FileSink:
    """The BLOB's bytes written to a hidden temporary file in ``folder`` (``blobfiles`` gives
    it its name once the element is complete). Writes go to the page cache: a MiB costs well
    under a millisecond, less than handing it to a thread."""

    def __init__(self, folder: Path) -> None:
        self._fd, self.path = create_part_file(folder, ".indipyclient-")
        self.length = 0

    def write(self, data: bytes) -> None:
        # Straight to the file (pieces are large: no buffer in between).
        with memoryview(data) as view:
            done = 0
            while done < len(view):
                done += os.write(self._fd, view[done:])
        self.length += len(data)

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def finish(self) -> SavedBLOB:
        self._close()
        return SavedBLOB(self.path, self.length)

    def discard(self) -> None:
        self._close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _take(text: Text, need: int) -> tuple[bytes, int]:
    """The first ``need`` characters of ``text`` that are not XML space, and where they end."""
    out = bytearray()
    pos = 0
    while len(out) < need and pos < len(text):
        if text[pos] not in _XML_SPACE:
            out.append(text[pos])
        pos += 1
    return bytes(out), pos


def _line_breaks(member: _Member, text: Text, start: int, end: int) -> int:
    """The line breaks in ``text[start:end]``: counted, or -- for base64 wrapped in lines of one
    width, as indilib writes it -- read off the places that width puts them (one strided slice:
    a 72-column body costs 1/73 of a count, which was a sixth of a BLOB's decoding). A line
    break anywhere else is missed, so the decoder then uses fewer characters than this says and
    `_decode` takes the strict way, which needs no count: the answer is the same either way."""
    first = text.find(b"\n", start, end)
    if first < 0:
        return 0
    width = member.width
    if width == 0:
        second = text.find(b"\n", first + 1, end)
        if second < 0:
            return 1  # the only one
        width = member.width = second - first
    if width > 0:
        marks = text[first:end:width]
        if not marks.strip(b"\n"):
            return len(marks)
        member.width = -1  # lines of different widths: counted from now on
    return text.count(b"\n", start, end)


def _searchable(data: bytes | bytearray | memoryview) -> Text:
    """``data`` with ``find``: a view of a whole lent read (``serverstream``) is read in
    its buffer, a view of part of one is copied. The buffer is not kept past the piece."""
    if type(data) is memoryview:
        base = data.obj
        if type(base) is bytearray and len(base) == data.nbytes and data.c_contiguous:
            return base
        return bytes(data)
    return data


def _nothing_after_pad(text: Text | memoryview) -> None:
    """Base64 ends at its padding: any character after it (spaces aside) is refused, as the
    core's whole decoding refuses it, rather than decoded into other bytes."""
    if bytes(text).translate(None, _XML_SPACE):
        raise ValueError("base64 data after the padding")


def _strict(data: Text | memoryview) -> bytes:
    """Whole groups of base64 characters, no whitespace, decoded; ``ValueError`` for anything
    else, as ``decode_base64`` says it (a corrupt image is never handed on)."""
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        return decode_base64(data)  # raises, saying why (or decodes what it tolerates)


class _Member:
    __slots__ = ("carry", "failed", "fmt", "inflate", "lines", "name", "padded", "sink", "size",
                 "tag", "width")

    def __init__(self, tag: bytes, attrs: dict[str, str], sink: Sink | None) -> None:
        self.tag = tag
        self.name = attrs.get("name", "")
        self.fmt = attrs.get("format", "")
        try:
            self.size = int(attrs.get("size", "0"))
        except ValueError:
            self.size = 0
        self.sink = sink
        self.carry = b""  # base64 characters (no spaces) of a group not yet whole
        self.lines = True  # only line breaks between the characters so far (see _decode)
        self.padded = False  # a group ending in "=" was decoded: nothing may follow it
        self.width = 0  # from one line break to the next (`_line_breaks`); 0 unknown, -1 uneven
        self.failed = sink is None
        self.inflate = zlib.decompressobj() if is_zlib_format(self.fmt) else None


class BLOBReceiver:
    """One streamed ``setBLOBVector`` (see the module docstring). ``new_sink()`` makes a sink
    per member, or None to drop the members (a vector the client does not know)."""

    def __init__(self, head: bytes, new_sink: Any, max_size: int, where: str) -> None:
        self._new_sink = new_sink
        self._max_size = max_size
        self._where = where
        self._markup = bytearray()
        self._start: bytes | None = None  # the vector's start tag
        self._members: list[_Member] = []
        self._body: _Member | None = None
        self.feed(head)

    # -- pieces ---------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        data = _searchable(data)
        pos, size = 0, len(data)
        while pos < size:
            member = self._body
            if member is not None:
                end = data.find(b"<", pos)
                # A piece of the body: the whole read, usually (no slice, no copy).
                self._decode(member, data if pos == 0 and end < 0 else
                             data[pos:] if end < 0 else data[pos:end])
                if end < 0:
                    return
                self._finish_body(member)
                pos = end
                continue
            end = data.find(b">", pos)
            if end < 0:
                self._markup += data[pos:]
                if len(self._markup) > 65536:
                    raise ValueError("markup of more than 64 KiB between BLOBs")
                return
            self._markup += data[pos:end + 1]
            pos = end + 1
            self._tag(bytes(self._markup).strip(_XML_SPACE))
            self._markup.clear()

    def _tag(self, tag: bytes) -> None:
        if self._start is None:
            self._start = tag
        elif tag.startswith(_MEMBER):
            raw = tag[len(_MEMBER):-1]
            empty = raw.endswith(b"/")
            attrs = decode_attrs(raw[:-1] if empty else raw)
            sink = self._new_sink()
            member = _Member(tag if empty else tag[:-1] + b"/>", attrs, sink)
            self._members.append(member)
            if not empty:
                self._body = member
            elif sink is not None:
                sink.discard()
                member.sink, member.failed = None, True
        # </oneBLOB> and </setBLOBVector> need nothing more

    def _fail(self, member: _Member, why: str) -> None:
        logger.warning("skipping BLOB %s.%s: %s", self._where, member.name, why)
        member.failed = True
        if member.sink is not None:
            member.sink.discard()
            member.sink = None

    def _decode(self, member: _Member, text: Text) -> None:
        """Decode the whole groups of four base64 characters in ``text`` (after what an
        earlier piece left over); the rest waits for the next piece.

        Base64 wrapped in lines (indilib's 72 columns) or in one line is decoded in place:
        the decoder reads ``text`` through a memoryview and skips the line breaks itself,
        and one count of them says how many characters it must have used -- any other byte
        (a stray character, a pad, another kind of space) makes it give fewer bytes than
        that, and the piece is then decoded the strict way (``_decode_compact``), which
        says what is wrong. No copy of the piece is made on the way."""
        if member.failed:
            return
        if not member.lines:
            self._decode_compact(member, text)
            return
        try:
            start = 0
            if member.carry:
                # Complete the group the last piece began, then go on from there.
                head, start = _take(text, 4 - len(member.carry))
                if not self._complete_carry(member, head):
                    return
            if member.padded:
                _nothing_after_pad(text[start:])
                return
            end = len(text)
            valid = end - start - _line_breaks(member, text, start, end)
            cut, extra = end, valid % 4
            while extra and cut > start:
                cut -= 1
                if text[cut] not in _XML_SPACE:
                    extra -= 1
            if cut > start:
                with memoryview(text) as view:
                    try:
                        out = binascii.a2b_base64(view[start:cut])
                    except binascii.Error:
                        out = b""  # a group left unfinished by a byte counted wrongly
                if len(out) != valid // 4 * 3 or not out:
                    member.lines = False
                    self._decode_compact(member, text[start:])
                    return
                self._write(member, out)
            member.carry = bytes(text[cut:].translate(None, _XML_SPACE))
        except ValueError as exc:
            self._fail(member, str(exc))

    def _decode_compact(self, member: _Member, text: Text) -> None:
        """``_decode`` the strict way: every space dropped first (one pass), the rest
        decoded in place, strictly."""
        compact = text.translate(None, _XML_SPACE)
        start = 0
        try:
            if member.carry:
                start = 4 - len(member.carry)
                if not self._complete_carry(member, compact[:start]):
                    return
            if member.padded:
                _nothing_after_pad(compact[start:])
                return
            whole = start + (len(compact) - start) // 4 * 4
            member.carry = bytes(compact[whole:])
            if whole > start:
                with memoryview(compact) as view:
                    self._write_group(member, view[start:whole])
                if member.padded and member.carry:
                    _nothing_after_pad(member.carry)
        except ValueError as exc:
            self._fail(member, str(exc))

    def _complete_carry(self, member: _Member, chars: Text) -> bool:
        """The group the last piece began, completed with ``chars`` and written; False while it
        is still short (``chars`` were all the piece had)."""
        head = member.carry + bytes(chars)
        if len(head) < 4:
            member.carry = head
            return False
        member.carry = b""
        self._write_group(member, head)
        return True

    def _write_group(self, member: _Member, groups: Text | memoryview) -> None:
        """Whole groups of base64 decoded strictly and written; a pad at their end is the
        body's end (strict mode refuses one inside them)."""
        self._write(member, _strict(groups))
        member.padded = groups[-1:] == b"="

    def _write(self, member: _Member, data: bytes) -> None:
        sink = member.sink
        assert sink is not None
        if member.inflate is not None:
            room = self._max_size - sink.length
            try:
                data = member.inflate.decompress(data, room + 1)
            except zlib.error as exc:
                raise ValueError(f"not valid zlib data: {exc}") from None
            if member.inflate.unconsumed_tail:
                raise ValueError(f"decompresses to more than {self._max_size} bytes")
        if sink.length + len(data) > self._max_size:
            raise ValueError(f"more than {self._max_size} bytes")
        sink.write(data)

    def _finish_body(self, member: _Member) -> None:
        self._body = None
        if member.failed:
            return
        try:
            if member.carry:
                self._write(member, decode_base64(member.carry))
            if member.inflate is not None:
                self._write_tail(member)
        except ValueError as exc:
            self._fail(member, str(exc))

    def _write_tail(self, member: _Member) -> None:
        inflate = member.inflate
        assert inflate is not None and member.sink is not None
        member.sink.write(inflate.flush())
        if not inflate.eof and member.sink.length:
            raise ValueError("a truncated zlib stream")

    # -- the end ----------------------------------------------------------------------------

    def end(self, data: bytes | bytearray | memoryview, complete: bool) -> None:
        """The element's last bytes."""
        self.feed(data)
        if not complete:
            for member in self._members:
                if not member.failed:
                    self._fail(member, "the server cut the element short")

    def skeleton(self) -> bytes:
        """The element without its bodies, for the core parser."""
        start = self._start or b"<setBLOBVector>"
        return start + b"".join(m.tag for m in self._members) + b"</setBLOBVector>"

    def received(self) -> dict[str, Any]:
        """Member name -> the bytes or ``SavedBLOB``, for the members received whole."""
        out: dict[str, Any] = {}
        for member in self._members:
            if member.failed or member.sink is None:
                continue
            if member.sink.length == 0:
                member.sink.discard()
                continue
            if member.sink.length != member.size:
                level = logging.DEBUG if member.fmt.endswith(".fz") else logging.WARNING
                logger.log(level, "BLOB %s.%s: size attribute %d but %d bytes", self._where,
                           member.name, member.size, member.sink.length)
            out[member.name] = member.sink.finish()
        return out

    def discard(self) -> None:
        """Drop whatever was received (the element could not be used)."""
        for member in self._members:
            if member.sink is not None:
                member.sink.discard()
                member.sink = None
