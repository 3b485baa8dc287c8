"""What the framer hands out: whole elements (`Frame`) and the pieces of streamed ones.

Only the start tag is read (`decode_attrs`); the body stays the bytes as received, so a server
can forward an element without rebuilding it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .escaping import unescape

__all__ = ["Frame", "FrameAttached", "FrameChunk", "FrameEnd", "FrameHead", "FrameRun",
           "decode_attrs"]

_ATTR = re.compile(r"([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_XML_SPACE = " \t\r\n"  # what XML (and indilib's lilxml) calls whitespace; not NBSP etc.
_XML_SPACE_EQ = _XML_SPACE + "="


class _StartTagInfo:
    """What routing reads from a start tag, shared by whole elements and streamed heads."""

    __slots__ = ()
    attrs: dict[str, str]

    @property
    def device(self) -> str | None:
        return self.attrs.get("device")

    @property
    def name(self) -> str | None:
        return self.attrs.get("name")


class Frame(_StartTagInfo):
    """One complete top-level element, as received (treat as read-only).

    A plain slotted class rather than a frozen dataclass: the server makes one per element on
    its hot path. ``attrs`` is a plain slot, decoded when the frame is made: both the server
    and the driver read it for nearly every element, and a lazy decode (``__getattr__`` on an
    empty slot raised an AttributeError on every first read; a property is a Python call on
    every read) cost more than it saved on the round trip.
    """

    __slots__ = ("attrs", "data", "tag")

    tag: str  # e.g. "setNumberVector"
    attrs: dict[str, str]  # attributes of the start tag only, entity-decoded and stripped
    data: bytes  # the whole element exactly as received

    def __init__(self, tag: str, attrs: dict[str, str] | None, data: bytes, raw: bytes = b"") -> None:
        """`attrs` None: decoded from `raw` (the start tag's attribute text)."""
        self.tag = tag
        self.attrs = attrs if attrs is not None else decode_attrs(raw) if raw else {}
        self.data = data

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Frame)
        return self.tag == other.tag and self.data == other.data and self.attrs == other.attrs

    __hash__ = None  # type: ignore[assignment]  # attrs is a dict, as in the dataclass before

    def __repr__(self) -> str:
        return f"Frame(tag={self.tag!r}, attrs={self.attrs!r}, data=<{len(self.data)} bytes>)"


class FrameRun(Frame):
    """Consecutive elements of one shape, framed together (``Framer(run_tags=...)``).

    A driver's burst repeats one set vector with only its digits changed: the same tag, device,
    name, members and attributes, each element as long as the one before. The framer checks
    that once per element with a C-speed comparison and hands the lot out as one frame, so a
    server routes, caches and queues a burst per read rather than per element. ``data`` is the
    elements as received, from the first one's ``<`` to the last one's ``>``, each element
    followed by the whitespace that came before the next (``lead`` bytes); ``attrs`` are those
    of the last element, the newest. `frames` gives the elements one by one for whoever needs
    them singly (an in-process snooper, a check that must see each).
    """

    __slots__ = ("count", "lead", "template", "unit", "varying")

    count: int  # elements (at least 2)
    unit: int  # bytes per element with the whitespace before it: element i is at i * unit
    lead: int  # whitespace before each element (the first one's is not in ``data``)

    def __init__(self, tag: str, attrs: dict[str, str], data: bytes, count: int, unit: int,
                 lead: int, template: dict[str, str],
                 varying: tuple[tuple[str, int, int], ...]) -> None:
        """`template` and `varying` as in the start-tag shape (``starttags``) the elements
        share: every element's attributes are `template` with the `varying` values (offsets
        in a start tag that begins with its ``lead``) read from that element."""
        super().__init__(tag, attrs, data)
        self.count = count
        self.unit = unit
        self.lead = lead
        self.template = template
        self.varying = varying

    def element(self, i: int) -> Frame:
        """Element `i` (0 the oldest, -1 the newest) as a `Frame` of its own."""
        if i < 0:
            i += self.count
        start = i * self.unit
        data = self.data
        if i == self.count - 1:
            return Frame(self.tag, self.attrs, data[start:])
        attrs = self.template.copy()
        head = start - self.lead  # where this element's start tag and its lead begin
        for key, vstart, vend in self.varying:
            attrs[key] = data[head + vstart : head + vend].decode("ascii")
        return Frame(self.tag, attrs, data[start : start + self.unit - self.lead])

    def frames(self) -> list[Frame]:
        """The elements one by one, oldest first."""
        return [self.element(i) for i in range(self.count)]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, FrameRun)
        return self.data == other.data and self.count == other.count and self.tag == other.tag

    __hash__ = None

    def __repr__(self) -> str:
        return (f"FrameRun(tag={self.tag!r}, count={self.count}, attrs={self.attrs!r}, "
                f"data=<{len(self.data)} bytes>)")


@dataclass(frozen=True, slots=True, repr=False)
class FrameHead(_StartTagInfo):
    """The start of an element handed out in pieces (``Framer(stream_tags=...)``).

    ``tag`` and ``attrs`` are those of the element's start tag, as in `Frame`; ``data`` is the
    element's first bytes (the start tag and the beginning of the body). `FrameChunk`s with the
    following bytes come next, then one `FrameEnd`; the pieces joined are the element as
    received. Nothing else is returned between a head and its end.
    """

    tag: str
    attrs: dict[str, str]
    data: bytes | memoryview

    def __repr__(self) -> str:
        return f"FrameHead(tag={self.tag!r}, attrs={self.attrs!r}, data=<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True, repr=False)
class FrameChunk:
    """More bytes of the element begun by the last `FrameHead`."""

    data: bytes | memoryview

    def __repr__(self) -> str:
        return f"FrameChunk(<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True, repr=False)
class FrameAttached:
    """A member's start tag that says ``attached`` (its data passed aside, as a descriptor),
    met in an element already being handed out in pieces: the next piece, alone, so that its
    reader can put the data inline there (``Framer(split_attached=True)``, a C driver's
    socket). Joined like a `FrameChunk`.
    """

    data: bytes | memoryview

    def __repr__(self) -> str:
        return f"FrameAttached({bytes(self.data)!r})"


@dataclass(frozen=True, slots=True, repr=False)
class FrameEnd:
    """The last bytes of a streamed element, ending with its closing tag.

    ``complete`` is False when the peer cut the element short (a `ProtocolError` saying how
    follows): ``data`` is then a closing sequence made up by the framer (``</oneBLOB>`` if a
    member was open, then the element's closing tag) so that whoever received the pieces
    still has a well-formed element, with a truncated value.
    """

    data: bytes | memoryview
    complete: bool = True

    def __repr__(self) -> str:
        return f"FrameEnd(<{len(self.data)} bytes>, complete={self.complete})"


def decode_attrs(raw: bytes) -> dict[str, str]:
    """The attributes of a start tag already checked by `_STRICT_START_TAG` (`raw` is its
    attribute text), entity-decoded and stripped as XML says."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # SPEC: names and text are ISO-8859-1; C drivers may send raw Latin-1 bytes.
        text = raw.decode("latin-1")
    if "'" not in text and "&" not in text:
        # The usual form, ` a="x" b="y"`: with no single quote every `"` delimits a value,
        # so splitting on it alternates `name=` parts and values (one C-speed pass).
        # (One iterator zipped with itself pairs them without slicing the list twice; a
        # plain loop, as a comprehension is one more frame per start tag in Python 3.11.)
        parts = iter(text.split('"'))
        attrs = {}
        for k, v in zip(parts, parts):
            attrs[k.strip(_XML_SPACE_EQ)] = v.strip(_XML_SPACE)
        return attrs
    attrs = {}
    for key, dq, sq in _ATTR.findall(text):
        value = dq or sq
        if "&" in value:
            value = unescape(value)
        attrs[key] = value.strip(_XML_SPACE)
    return attrs
