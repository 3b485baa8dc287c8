"""Serialise an event to the bytes of one INDI element, driven by the table in `elements.py`.

Strings are built directly (no ElementTree): it is several times faster, and ElementTree writes
numeric character references (`&#10;`) that C peers show literally. Output is UTF-8, attribute
values in double quotes, only the five named entities, no CDATA, BLOB data as one line of base64.
Member values are written without the padding indilib adds. A newline follows every element so a
human reading the stream (or `indiserver -vvv`) sees one element per line.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .elements import SPEC_BY_CLASS, Attr, Body, ElementSpec, MemberSpec
from .errors import LocalProtocolError
from .escaping import escape
from .events import Event

__all__ = ["serialise"]

# Compiled layout of one element: the open tag text, and (attribute name, ' name="', required).
_AttrLayout = tuple[tuple[str, str, bool], ...]


def _layout(attrs: tuple[Attr, ...]) -> _AttrLayout:
    return tuple((a.name, f' {a.name}="', a.required) for a in attrs)


#: Columns of the base64 lines indilib writes, and expects along with `enclen`.
_ENCLEN_COLUMNS = 72


def _write_attrs(obj: Any, layout: _AttrLayout, parts: list[str], tag: str) -> None:
    for name, prefix, required in layout:
        value = getattr(obj, name)
        if value is None:
            if required:
                raise LocalProtocolError(f"<{tag}> needs attribute {name!r}; {obj!r} has None")
            continue
        # StrEnum and int are written by str(); only plain strings can hold special characters.
        text = escape(value) if type(value) is str else str(value)
        parts.append(f'{prefix}{text}"')


class _Writer:
    """Serialiser for one event class, compiled once from its table row."""

    __slots__ = (
        "close",
        "extra_get",
        "extra_none",
        "fast",
        "layout",
        "member",
        "member_close",
        "member_layout",
        "open",
        "spec",
        "tag",
    )

    def __init__(self, spec: ElementSpec) -> None:
        self.spec = spec
        self.tag = spec.tag
        self.open = f"<{spec.tag}"
        self.close = f"</{spec.tag}>\n"
        self.layout = _layout(spec.attrs)
        self.member: MemberSpec | None = spec.member
        self.member_layout = _layout(spec.member.attrs) if spec.member else ()
        self.member_close = f"</{spec.member.tag}>\n" if spec.member else ""
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

    def __call__(self, event: Any) -> bytes:
        parts = [self.open]
        _write_attrs(event, self.layout, parts, self.tag)
        member = self.member
        if member is None:
            return self._finish_simple(event, parts)
        parts.append(">\n")
        mtag = member.tag
        mopen = f"<{mtag}"
        mlayout = self.member_layout
        body = member.body
        chunks: list[bytes] | None = None
        mcls: Any = member.cls
        close = self.member_close
        extra_get = self.extra_get
        extra_none = self.extra_none
        for m in event.members:
            if type(m) is not mcls:
                raise LocalProtocolError(f"<{self.tag}> cannot hold member {m!r}")
            if self.fast and (extra_get is None or extra_get(m) == extra_none):
                # The commonest member by far: `<oneNumber name="x">value</oneNumber>`.
                value = escape(m.value) if body is Body.TEXT else m.value
                parts.append(f'{mopen} name="{escape(m.name)}">{value}{close}')
                continue
            parts.append(mopen)
            _write_attrs(m, mlayout, parts, mtag)
            if body is Body.TEXT:
                parts.append(f">{escape(m.value)}{self.member_close}")
            elif body is Body.ENUM:
                parts.append(f">{m.value}{self.member_close}")
            elif body is Body.BASE64:
                # Keep the (possibly huge) base64 as bytes: no str round trip, one join.
                parts.append(">")
                if chunks is None:
                    chunks = []
                chunks.append("".join(parts).encode())
                b64 = binascii.b2a_base64(m.data, newline=False)
                if m.enclen is not None and len(b64) > _ENCLEN_COLUMNS:
                    # indilib's XML parser reads `enclen` as promising lines of 72 columns: one
                    # line with `enclen` makes it take the closing tags of a long value as data
                    # and stall (indiserver, libindiclient 1.9.9). So a member that carries
                    # `enclen` is written in the form it promises, as indilib's drivers write it;
                    # without `enclen`, one line, as indiserver sends its clients.
                    b64 = b"\n".join([b64[i : i + _ENCLEN_COLUMNS]
                                      for i in range(0, len(b64), _ENCLEN_COLUMNS)])
                chunks.append(b64)
                parts = [self.member_close]
            else:
                parts.append("/>\n")
        parts.append(self.close)
        text = "".join(parts).encode()
        if chunks is not None:
            chunks.append(text)
            return b"".join(chunks)
        return text

    def _finish_simple(self, event: Any, parts: list[str]) -> bytes:
        spec = self.spec
        if spec.body is Body.EMPTY:
            parts.append("/>\n")
        else:
            assert spec.value_field is not None
            value = getattr(event, spec.value_field)
            parts.append(f">{value}{self.close}")
        return "".join(parts).encode()


_WRITERS: dict[type, Callable[[Any], bytes]] = {cls: _Writer(s) for cls, s in SPEC_BY_CLASS.items()}


def serialise(event: Event) -> bytes:
    """The wire bytes of `event` (UTF-8, one element followed by a newline).

    Raises LocalProtocolError when the event lacks a required attribute, holds the wrong kind of
    member, or contains characters XML 1.0 cannot carry.
    """
    try:
        writer = _WRITERS[type(event)]
    except KeyError:
        raise LocalProtocolError(f"not an INDI event: {event!r}") from None
    return writer(event)
