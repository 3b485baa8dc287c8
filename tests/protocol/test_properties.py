"""Hypothesis properties of the protocol core, with event strategies generated from THE table.

* any bytes -> the Framer returns Frames or ProtocolErrors and never raises anything else;
* the Framer's result does not depend on where the stream is split;
* parse_element(serialise(e)) == e for any event the table allows;
* a serialised stream of events, with junk INDI peers put between elements, frames and parses back.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import Event
from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError
from indipycore.protocol import parse_element
from indipycore.protocol import serialise
from indipycore.protocol.elements import ELEMENTS
from indipycore.protocol.elements import Attr
from indipycore.protocol.elements import Body
from indipycore.protocol.elements import ElementSpec
from indipycore.protocol.elements import MemberSpec

SETTINGS = settings(max_examples=150)

_XML_SPACE = " \t\r\n"

# XML 1.0 characters: no controls except tab/newline, no surrogates, no U+FFFE/U+FFFF.
# Carriage returns are left out everywhere: XML turns them into newlines by design.
_BODY_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"),
    blacklist_characters="\ufffe\uffff",
    whitelist_characters="\n\t",
)
# Attribute values also lose tabs and newlines (XML attribute-value normalisation).
_ATTR_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
_SPECIALS = st.sampled_from(["<", ">", "&", '"', "'", "&amp;", "]]>", "°", "é", "Ω", "/>", "</x>"])


def _text(chars: st.SearchStrategy[str], min_size: int = 0) -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(st.text(chars, max_size=8), _SPECIALS), max_size=4)
    return (
        pieces.map("".join).map(lambda s: s.strip(_XML_SPACE)).filter(lambda s: len(s) >= min_size)
    )


ATTR_TEXT = _text(_ATTR_CHARS)
NAME_TEXT = _text(_ATTR_CHARS, min_size=1)
BODY_TEXT = _text(_BODY_CHARS)


def _attr_value(attr: Attr) -> st.SearchStrategy[Any]:
    conv = attr.convert
    if isinstance(conv, type) and issubclass(conv, Enum):
        value: st.SearchStrategy[Any] = st.sampled_from(list(conv))
    elif conv is int:
        value = st.integers(min_value=0, max_value=2**40)
    elif attr.name in ("name", "device"):
        value = NAME_TEXT
    else:
        value = ATTR_TEXT
    return value if attr.required else st.none() | value


def _fields(attrs: tuple[Attr, ...]) -> dict[str, st.SearchStrategy[Any]]:
    return {attr.name: _attr_value(attr) for attr in attrs}


def _member(spec: MemberSpec) -> st.SearchStrategy[Any]:
    fields = _fields(spec.attrs)
    if spec.body is Body.TEXT:
        fields[spec.value_field] = BODY_TEXT
    elif spec.body is Body.ENUM:
        assert spec.enum is not None
        fields[spec.value_field] = st.sampled_from(list(spec.enum))
    elif spec.body is Body.BASE64:
        fields[spec.value_field] = st.binary(max_size=300)
    return st.fixed_dictionaries(fields).map(lambda kw: spec.cls(**kw))


def _event(spec: ElementSpec) -> st.SearchStrategy[Event]:
    fields = _fields(spec.attrs)
    if spec.member is not None:
        fields["members"] = st.lists(_member(spec.member), max_size=4).map(tuple)
    elif spec.body is Body.ENUM:
        assert spec.enum is not None and spec.value_field is not None
        fields[spec.value_field] = st.sampled_from(list(spec.enum))
    return st.fixed_dictionaries(fields).map(lambda kw: spec.cls(**kw))


EVENTS: st.SearchStrategy[Event] = st.one_of([_event(spec) for spec in ELEMENTS.values()])

# What real peers put between elements: whitespace, declarations, comments.
JUNK = st.sampled_from(
    ["", "\n", "  \r\n\t", "<?xml version='1.0'?>\n", "<!-- indi_setprop -->", "\n\n"]
)


def _summary(items: list[Frame | ProtocolError]) -> list[object]:
    return [(x.tag, x.attrs, x.data) if isinstance(x, Frame) else ("error", str(x)) for x in items]


def feed_split(framer: Framer, data: bytes, cuts: Iterable[int]) -> list[Any]:
    """What `framer` returns for `data` fed in pieces cut at `cuts` (any past the end ignored)."""
    out: list[Any] = []
    last = 0
    for cut in sorted({c for c in cuts if c <= len(data)}) + [len(data)]:
        out += framer.feed(data[last:cut])
        last = cut
    return out


# Bytes rich in markup so random input exercises every branch of the framer.
MARKUP_BYTES = st.lists(
    st.one_of(
        st.binary(max_size=6),
        st.sampled_from(
            [
                b"<",
                b">",
                b"/",
                b"'",
                b'"',
                b"<?",
                b"?>",
                b"<!--",
                b"-->",
                b"<!DOCTYPE",
                b"</",
                b"<a",
                b"</a>",
                b"<a/>",
                b"<a b='>'>",
                b" ",
                b"\n",
                b"x",
                b"=",
                b"<!",
                b"<![CDATA[",
            ]
        ),
    ),
    max_size=40,
).map(b"".join)


@SETTINGS
@given(st.binary(max_size=400) | MARKUP_BYTES, st.lists(st.integers(0, 400), max_size=8))
def test_any_bytes_give_frames_or_protocol_errors_never_an_exception(
    data: bytes, cuts: list[int]
) -> None:
    out = feed_split(Framer(), data, cuts)
    assert all(isinstance(x, (Frame, ProtocolError)) for x in out)
    for x in out:
        if isinstance(x, ProtocolError):
            assert x.offset is not None and 0 <= x.offset < len(data)


@SETTINGS
@given(MARKUP_BYTES, st.lists(st.integers(0, 200), max_size=8))
def test_framing_result_does_not_depend_on_where_the_stream_is_split(
    data: bytes, cuts: list[int]
) -> None:
    whole = Framer().feed(data)
    split = feed_split(Framer(), data, cuts)
    assert _summary(split) == _summary(whole)


@SETTINGS
@given(EVENTS)
def test_parse_of_serialise_is_identity_for_every_element_kind(event: Event) -> None:
    assert parse_element(serialise(event)) == event


@SETTINGS
@given(
    st.lists(st.tuples(JUNK, EVENTS), min_size=1, max_size=5),
    st.lists(st.integers(0, 3000), max_size=6),
)
def test_a_stream_of_events_split_anywhere_frames_and_parses_back(
    items: list[tuple[str, Event]], cuts: list[int]
) -> None:
    stream = b"".join(junk.encode() + serialise(event) for junk, event in items)
    out = feed_split(Framer(), stream, cuts)
    assert all(isinstance(x, Frame) for x in out)
    assert [parse_element(x.data) for x in out if isinstance(x, Frame)] == [e for _, e in items]


# -- the framer's attribute decoding ---------------------------------------------------------

_ATTR_VALUE_TEXT = st.lists(
    st.one_of(st.text(_ATTR_CHARS, max_size=6).map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
              # no tabs or newlines: expat turns them into spaces (attribute normalisation)
              st.sampled_from(["'", '"', "&amp;", "&lt;", "&#65;", " ", "  ", "=", "é"])),
    max_size=5,
).map("".join)


def _quoted(value: str, quote: str) -> str:
    other = "&quot;" if quote == '"' else "&apos;"
    return quote + value.replace(quote, other) + quote


@SETTINGS
@given(
    st.lists(
        st.tuples(
            # no `:` (expat reads a prefix there) and no reserved `xml...` names
            st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,6}", fullmatch=True).filter(
                lambda n: not n.lower().startswith("xml")
            ),
            _ATTR_VALUE_TEXT,
            st.sampled_from(['"', "'"]),
            st.sampled_from(["", " ", "\n "]),
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    st.sampled_from([b"", b"\n", b"\r\n<a/>"]),
)
def test_start_tag_attributes_decode_the_same_whichever_path_reads_them(
    attrs: list[tuple[str, str, str, str]], tail: bytes
) -> None:
    """The fast path (whole elements, `split('"')` decoding) and the byte-at-a-time path give
    the same frames and attributes as expat would read them."""
    import xml.etree.ElementTree as ET

    text = "".join(f" {name}{pad}={pad}{_quoted(value, q)}" for name, value, q, pad in attrs)
    element = f"<tag{text}>body</tag>".encode()
    whole = Framer().feed(element + tail)
    split = feed_split(Framer(), element + tail, range(len(element) + len(tail)))
    assert [(f.tag, f.attrs, f.data) for f in whole if isinstance(f, Frame)] == [
        (f.tag, f.attrs, f.data) for f in split if isinstance(f, Frame)
    ]
    frame = whole[0]
    assert isinstance(frame, Frame)
    expected = {k: v.strip(_XML_SPACE) for k, v in ET.fromstring(element).attrib.items()}
    assert frame.attrs == expected
