"""The one writer of INDI XML: how each element is spelt, and `serialise(event) -> bytes`.

Everything in the packages that writes an INDI element writes it here: `serialise` for events
(clients' requests, the server's replays from its cache, the bridges), a `Serialiser` of its own
for the driver framework (`indipydriver.wire`), whose vectors keep the pieces of their hot
`set*`/`def*` elements (start tags, members) made by the functions below, and the server's own
elements (`indipyserver.routing.serverelements`). The table in `elements.py` says which
attributes each element carries, in which order.

Strings are built directly (no ElementTree): it is several times faster, and ElementTree writes
numeric character references (`&#10;`) that C peers show literally. Output is UTF-8, attribute
values in double quotes, only the five named entities, no CDATA, BLOB data as one line of base64
(or in the lines an `enclen` promises), or passed aside (`Serialiser.attached`). Member values
are written without the padding indilib adds.

Each writer says how its text is escaped (`escape`: `escaping.escape` refuses what XML cannot
carry, for events; a driver replaces it, `wire.escape`; the server passes names on as they came,
`escape_entities`) and how its elements are laid out (`end`): `LINES` puts a newline after a
start tag with children, after each member and after the element, so a human reading the
stream (or `indiserver -vvv`) sees one element per line (`serialise`, the server's own
elements); `COMPACT` puts none (a driver's elements, as indipydriver 3.x wrote them). Each
layout is what peers have always been sent (tests/protocol/test_wire_table.py,
tests/driver/test_writers_agree.py).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .elements import SPEC_BY_CLASS
from .elements import Attr
from .elements import Body
from .elements import ElementSpec
from .elements import MemberSpec
from .errors import LocalProtocolError
from .escaping import escape
from .events import Event
from .events import NewBLOBVector
from .events import SetBLOBVector

__all__ = [
    "COMPACT",
    "LINES",
    "Serialiser",
    "attribute",
    "element_format",
    "empty_element",
    "end_tag",
    "open_attribute",
    "serialise",
    "start_tag",
    "text_element",
]

#: The two layouts (module docstring): what follows a start tag with children, each member
#: and each element.
LINES = "\n"
COMPACT = ""

Escape = Callable[[str], str]


# ---------------------------------------------------------------- the spelling of elements
# Text given to these is escaped already, by the caller's policy.


def attribute(name: str, text: str) -> str:
    """` name="text"`, as it follows a tag name or another attribute."""
    return f' {name}="{text}"'


def open_attribute(tag: str, attrs: str, name: str) -> str:
    """The start tag `<tag attrs name="`, cut before the value of its last attribute: for an
    element written again and again with a new value there (a driver's sets and their
    timestamp), followed each time by that value, `"` and `>` (or more attributes)."""
    return f'<{tag}{attrs} {name}="'


def start_tag(tag: str, attrs: str, end: str) -> str:
    """`<tag attrs>` opening an element with children (a vector)."""
    return f"<{tag}{attrs}>{end}"


def end_tag(tag: str, end: str) -> str:
    """`</tag>`, closing an element."""
    return f"</{tag}>{end}"


def empty_element(tag: str, attrs: str, end: str) -> str:
    """`<tag attrs/>`."""
    return f"<{tag}{attrs}/>{end}"


def text_element(tag: str, attrs: str, body: str, end: str) -> str:
    """`<tag attrs>body</tag>`: a member, or an element holding a value (enableBLOB)."""
    return f"<{tag}{attrs}>{body}</{tag}>{end}"


def element_format(tag: str, names: tuple[str, ...], body: bool, end: str) -> str:
    """A `str.format` template of the element `<tag n1="{}" n2="{}">{}</tag>` (with `body`;
    else `<tag n1="{}" n2="{}"/>`), for one written often with the same attributes: formatted
    with their values (escaped), in order, then its body. Braces in `names` are not expected."""
    attrs = "".join([attribute(name, "{}") for name in names])
    return text_element(tag, attrs, "{}", end) if body else empty_element(tag, attrs, end)


def element_pieces(tag: str, names: tuple[str, ...], body: bool, end: str) -> tuple[str, ...]:
    """`element_format`'s template cut at its values: the constant text before, between and
    after them, for an f-string that puts the values between the pieces (a driver's
    definitions, written by the thousand for a getProperties: several times faster than
    `str.format`)."""
    return tuple(element_format(tag, names, body, end).split("{}"))


#: Columns of the base64 lines indilib writes, and expects along with `enclen`.
_ENCLEN_COLUMNS = 72


def base64_body(data: bytes, enclen: bool) -> bytes:
    """A BLOB member's content: one line of base64, or, for a member that carries `enclen`,
    lines of 72 columns.

    indilib's XML parser reads `enclen` as promising lines of 72 columns: one line with
    `enclen` makes it take the closing tags of a long value as data and stall (indiserver,
    libindiclient 1.9.9). So a member that carries `enclen` is written in the form it promises,
    as indilib's drivers write it; without `enclen`, one line, as indiserver sends its clients.
    """
    b64 = binascii.b2a_base64(data, newline=False)
    if enclen and len(b64) > _ENCLEN_COLUMNS:
        b64 = b"\n".join([b64[i : i + _ENCLEN_COLUMNS] for i in range(0, len(b64), _ENCLEN_COLUMNS)])
    return b64


# ---------------------------------------------------------------- events, from the table

# Compiled layout of one element's attributes: (attribute name, ' name="', required).
_AttrLayout = tuple[tuple[str, str, bool], ...]


def _layout(attrs: tuple[Attr, ...]) -> _AttrLayout:
    return tuple((a.name, f' {a.name}="', a.required) for a in attrs)


def _write_attrs(obj: Any, layout: _AttrLayout, parts: list[str], tag: str, esc: Escape) -> None:
    for name, prefix, required in layout:
        value = getattr(obj, name)
        if value is None:
            if required:
                raise LocalProtocolError(f"<{tag}> needs attribute {name!r}; {obj!r} has None")
            continue
        # StrEnum and int are written by str(); only plain strings can hold special characters.
        text = esc(value) if type(value) is str else str(value)
        parts.append(f'{prefix}{text}"')


class _ElementWriter:
    """Writes the events of one class, compiled once from its table row."""

    __slots__ = (
        "close",
        "end",
        "escape",
        "extra_get",
        "extra_none",
        "fast",
        "layout",
        "member",
        "member_close",
        "member_layout",
        "member_open",
        "spec",
        "tag",
    )

    def __init__(self, spec: ElementSpec, esc: Escape, end: str) -> None:
        self.spec = spec
        self.escape = esc
        self.end = end
        self.tag = spec.tag
        self.close = end_tag(spec.tag, end)
        self.layout = _layout(spec.attrs)
        self.member: MemberSpec | None = spec.member
        self.member_layout = _layout(spec.member.attrs) if spec.member else ()
        # `<oneNumber name="` and `</oneNumber>`: the fast path's member is these around its
        # name, `">`, and its value.
        self.member_open = open_attribute(spec.member.tag, "", "name") if spec.member else ""
        self.member_close = end_tag(spec.member.tag, end) if spec.member else ""
        # one* members whose only required attribute is `name` take a fast path when their
        # optional attributes (oneNumber min/max/step) are all None.
        m = spec.member
        extra = tuple(a.name for a in m.attrs if a.name != "name") if m else ()
        self.fast = (
            m is not None
            and m.tag.startswith("one")
            and m.body in (Body.TEXT, Body.ENUM)
            and not any(a.required for a in m.attrs if a.name != "name")
        )
        self.extra_get: Callable[[Any], Any] | None = attrgetter(*extra) if extra else None
        self.extra_none: Any = (None,) * len(extra) if len(extra) > 1 else None

    def __call__(self, event: Any, attached: bool = False) -> bytes:
        esc = self.escape
        end = self.end
        parts = [f"<{self.tag}"]
        _write_attrs(event, self.layout, parts, self.tag, esc)
        member = self.member
        if member is None:
            return self._finish_simple(event, parts)
        parts.append(">" + end)  # the end of the start tag
        mtag = member.tag
        mlayout = self.member_layout
        body = member.body
        chunks: list[bytes] | None = None
        mcls: Any = member.cls
        extra_get = self.extra_get
        extra_none = self.extra_none
        mopen = self.member_open
        mclose = self.member_close
        for m in event.members:
            if type(m) is not mcls:
                raise LocalProtocolError(f"<{self.tag}> cannot hold member {m!r}")
            if self.fast and (extra_get is None or extra_get(m) == extra_none):
                # The commonest member by far: `<oneNumber name="x">value</oneNumber>`.
                value = esc(m.value) if body is Body.TEXT else m.value
                parts.append(f'{mopen}{esc(m.name)}">{value}{mclose}')
                continue
            attrs: list[str] = []
            _write_attrs(m, mlayout, attrs, mtag, esc)
            if body is Body.TEXT:
                parts.append(text_element(mtag, "".join(attrs), esc(m.value), end))
            elif body is Body.ENUM:
                parts.append(text_element(mtag, "".join(attrs), m.value, end))
            elif body is Body.BASE64 and attached and m.data:
                # Its data passed aside (a memfd): no body, its length in `len`.
                attrs.append(f' len="{len(m.data)}" attached="true"')
                parts.append(text_element(mtag, "".join(attrs), "", end))
            elif body is Body.BASE64:
                # Keep the (possibly huge) base64 as bytes: no str round trip, one join.
                content = f"<{mtag}{''.join(attrs)}>"
                if chunks is None:
                    chunks = []
                chunks.append(("".join(parts) + content).encode())
                chunks.append(base64_body(m.data, m.enclen is not None))
                parts = [mclose]
            else:
                parts.append(empty_element(mtag, "".join(attrs), end))
        parts.append(self.close)
        text = "".join(parts).encode()
        if chunks is not None:
            chunks.append(text)
            return b"".join(chunks)
        return text

    def _finish_simple(self, event: Any, parts: list[str]) -> bytes:
        spec = self.spec
        attrs = "".join(parts[1:])
        if spec.body is Body.EMPTY:
            return empty_element(self.tag, attrs, self.end).encode()
        assert spec.value_field is not None
        value = getattr(event, spec.value_field)
        return text_element(self.tag, attrs, value, self.end).encode()


class Serialiser:
    """Events -> the bytes of their elements, with one escaping policy and one layout."""

    __slots__ = ("_writers",)

    def __init__(self, esc: Escape = escape, end: str = LINES) -> None:
        self._writers = {cls: _ElementWriter(s, esc, end) for cls, s in SPEC_BY_CLASS.items()}

    def __call__(self, event: Event) -> bytes:
        try:
            writer = self._writers[type(event)]
        except KeyError:
            raise LocalProtocolError(f"not an INDI event: {event!r}") from None
        return writer(event)

    def attached(self, event: SetBLOBVector | NewBLOBVector) -> bytes:
        """`event` with the data of each member that holds some passed aside (a memory file
        sent with the element, `links.AttachingLink`): ``<oneBLOB name size format len
        attached="true"></oneBLOB>``, no body, ``len`` the data's length, the attributes of
        libindi 1.9's ``IUUserIOBLOBContextOne`` on a Unix socket in its order. A member with
        no data is written as usual (size 0: a state-only member, never attached)."""
        return self._writers[type(event)](event, attached=True)


_serialise = Serialiser(escape, LINES)


def serialise(event: Event) -> bytes:
    """The wire bytes of `event` (UTF-8, one element followed by a newline).

    Raises LocalProtocolError when the event lacks a required attribute, holds the wrong kind of
    member, or contains characters XML 1.0 cannot carry.
    """
    return _serialise(event)
