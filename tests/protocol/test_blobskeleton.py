"""A large BLOB vector is parsed from its skeleton (the base64 never goes through expat), and
that shortcut must never change what parse_element returns or raises: it is taken only when
the bodies are plain base64, and every other input is parsed whole as before."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import BLOB
from indipycore.protocol import NewBLOBVector
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetBLOBVector
from indipycore.protocol import blobskeleton
from indipycore.protocol import parse_element
from indipycore.protocol import parser
from indipycore.protocol.blobskeleton import cut_blob_bodies


def _vector(*members: bytes, tag: bytes = b"setBLOBVector") -> bytes:
    return b"<" + tag + b" device='CCD' name='CCD1' state='Ok'>\n" + b"".join(members) + (
        b"\n</" + tag + b">"
    )


def _member(name: bytes, payload: bytes, wrap: bool = True) -> bytes:
    body = base64.encodebytes(payload) if wrap else base64.b64encode(payload)
    return (
        b"<oneBLOB name='" + name + b"' size='%d' format='.fits'>\n" % len(payload)
        + body + b"</oneBLOB>\n"
    )


PAYLOAD = bytes(range(256)) * 400  # 100 KiB: over MIN_CUT_SIZE once encoded


def test_a_large_blob_vector_is_cut_into_a_skeleton_and_its_bodies_in_order() -> None:
    data = _vector(_member(b"A", PAYLOAD), _member(b"B", PAYLOAD[::-1], wrap=False))
    cut = cut_blob_bodies(data)
    assert cut is not None
    skeleton, bodies = cut
    assert len(skeleton) < 300 and b"<oneBLOB name='A'" in skeleton
    assert [base64.b64decode(b"".join(b.split())) for b in bodies] == [PAYLOAD, PAYLOAD[::-1]]


def test_the_cut_gives_the_same_event_as_parsing_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """For bytes and for the bytearray a framer hands out for a large element; a memoryview is
    parsed whole, as before the cut existed."""
    data = _vector(_member(b"A", PAYLOAD), _member(b"B", b""), tag=b"newBLOBVector")
    assert cut_blob_bodies(bytearray(data)) is not None
    assert cut_blob_bodies(memoryview(data)) is None  # type: ignore[arg-type]
    assert parse_element(bytearray(data)) == parse_element(memoryview(data)) == parse_element(data)  # type: ignore[arg-type]
    fast = parse_element(data)
    monkeypatch.setattr(parser, "MIN_CUT_SIZE", len(data) + 1)
    assert parse_element(data) == fast == NewBLOBVector(
        "CCD", "CCD1", (BLOB("A", PAYLOAD, len(PAYLOAD), ".fits"), BLOB("B", b"", 0, ".fits"))
    )


@pytest.mark.parametrize(
    ("why", "data"),
    [
        ("small", _vector(_member(b"A", b"x" * 100))),
        ("not a BLOB vector", b"<setTextVector device='d' name='n'>" + b"A" * 70000
         + b"</setTextVector>"),
        ("an entity in a body", _vector(_member(b"A", PAYLOAD).replace(b"\n", b"&#10;", 3))),
        ("a CDATA section", _vector(_member(b"A", PAYLOAD).replace(b">\n", b"><![CDATA[", 1))),
        ("a comment between members", _vector(b"<!-- note -->", _member(b"A", PAYLOAD))),
        ("a processing instruction", _vector(b"<?pi x?>", _member(b"A", PAYLOAD))),
        ("a self-closing member first", _vector(b"<oneBLOB name='Z' size='0' format='.f'/>",
                                                _member(b"A", PAYLOAD))),
        ("no end tag", _vector(_member(b"A", PAYLOAD)).replace(b"</oneBLOB>", b"")),
        ("a character outside base64", _vector(_member(b"A", PAYLOAD).replace(b"A", b"\xc3\xa9", 5))),
    ],
)
def test_anything_but_plain_base64_bodies_is_left_to_the_whole_parse(why: str, data: bytes) -> None:
    assert cut_blob_bodies(data) is None, why


def _mostly(usual: list[bytes], odd: list[bytes]) -> st.SearchStrategy[bytes]:
    """Usually one of `usual`, sometimes one of `odd`: most inputs are ones the cut applies to,
    the rest probe where it must step aside."""
    return st.tuples(st.integers(0, 9), st.sampled_from(usual), st.sampled_from(odd)).map(
        lambda pick: pick[2] if pick[0] == 0 else pick[1]
    )


_BODY_PART = _mostly(
    [b"QUJD", b"REVG", b"\n", b"\r\n", b" ", b"\t", b"=", b"==", b"QUJDREVG\n"],
    [b"&#10;", b"&amp;", b"<![CDATA[QUJD]]>", b"<!--c-->", b">", b"<", b"\xe9", b"\xc3\xa9", b"!",
     b"<x/>"],
)
_MEMBER_TAG = _mostly([b"oneBLOB"], [b"oneBLOBs", b"oneText"])
_MEMBER_ATTRS = _mostly(
    [b" name='A' size='3' format='.f'", b" name='C' size='3' format='.f' enclen='4'",
     b" name=\"E\" size = '3' format='.f' ", b" name='D' size='3' format='.f' extra='&lt;'"],
    [b" name='B' size='x' format='.f'", b" size='3' format='.f'", b" name='F' size='3'"],
)
_END_TAG = _mostly([b"</oneBLOB>", b"</oneBLOB >"], [b"</oneBLOBs>", b"</oneText>", b""])
_MEMBER = st.tuples(
    st.integers(0, 9),
    st.builds(lambda tag, a, parts, end: b"<" + tag + a + b">" + b"".join(parts) + end,
              _MEMBER_TAG, _MEMBER_ATTRS, st.lists(_BODY_PART, max_size=8), _END_TAG),
    st.sampled_from([b"<oneBLOB name='S' size='0' format='.f'/>", b"\n", b"<!--m-->", b"<?p?>",
                     b"<wrap><oneBLOB name='W' size='3' format='.f'>QUJD</oneBLOB></wrap>"]),
).map(lambda pick: pick[2] if pick[0] == 0 else pick[1])
_ELEMENT = st.builds(
    lambda tag, vattrs, members: b"<" + tag + vattrs + b">" + b"".join(members) + b"</" + tag + b">",
    st.sampled_from([b"setBLOBVector", b"newBLOBVector"]),
    _mostly([b" device='CCD' name='CCD1'", b" device='CCD' name='N' state='Ok' message='m'"],
            [b" device='CCD'", b" device='CCD' name='N' state='Bad'", b" device='\xe9' name='N'"]),
    st.lists(_MEMBER, max_size=4),
)


def _outcome(data: bytes) -> object:
    try:
        return parse_element(data)
    except ProtocolError as exc:
        return ("error", str(exc))


@settings(max_examples=400)
@given(_ELEMENT)
# A ">" in a body: the cut would take the text after it for the body (ElementTree keeps
# the rest as the member's text), so it must step aside.
@example(b"<setBLOBVector device='CCD' name='N'><oneBLOB name='A' size='6' format='.f'>QUJD>REVG"
         b"</oneBLOB></setBLOBVector>")
@example(b"<setBLOBVector device='CCD' name='N'><oneBLOB name='A' size='3' format='.f'/>"
         b"<oneBLOB name='B' size='3' format='.f'>QUJD</oneBLOB></setBLOBVector>")
def test_the_cut_never_changes_what_parse_element_returns_or_raises(data: bytes) -> None:
    """Differential: with the cut allowed for every size, and with it off, the same outcome."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parser, "MIN_CUT_SIZE", 0)
        mp.setattr(blobskeleton, "MIN_CUT_SIZE", 0)
        cut = _outcome(data)
        mp.setattr(parser, "MIN_CUT_SIZE", 1 << 40)
        whole = _outcome(data)
    assert cut == whole


def test_the_differential_test_does_take_the_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its inputs include ones the cut applies to (else it would compare the whole parse with
    itself)."""
    monkeypatch.setattr(blobskeleton, "MIN_CUT_SIZE", 0)
    data = b"<setBLOBVector device='CCD' name='CCD1'><oneBLOB name='A' size='3' format='.f'>QUJD" \
        b"</oneBLOB></setBLOBVector>"
    assert cut_blob_bodies(data) is not None
    assert parse_element(data) == SetBLOBVector("CCD", "CCD1", (BLOB("A", b"ABC", 3, ".f"),))


def _wrapped(payload: bytes, width: int, newline: bytes) -> bytes:
    text = base64.b64encode(payload)
    return newline.join(text[i : i + width] for i in range(0, len(text), width)) + newline


_PLAIN_MEMBER = st.builds(
    lambda name, payload, width, newline: (
        b"<oneBLOB name='" + name + b"' size='%d' format='.fits'>" % len(payload)
        + _wrapped(payload, width, newline) + b"</oneBLOB>",
        payload,
    ),
    st.sampled_from([b"A", b"B", b"C"]),
    st.binary(max_size=300),
    st.sampled_from([4, 72, 76, 1000]),
    st.sampled_from([b"\n", b"\r\n", b" ", b""]),
)


@settings(max_examples=200)
@given(st.lists(_PLAIN_MEMBER, min_size=1, max_size=3), st.sampled_from([b"\n", b"", b"  "]))
def test_plain_base64_members_take_the_cut_and_decode_to_their_payloads(
    members: list[tuple[bytes, bytes]], between: bytes
) -> None:
    data = _vector(*(between + m for m, _ in members))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(blobskeleton, "MIN_CUT_SIZE", 0)
        event = parser._parse_blob_skeleton(data)
        mp.setattr(parser, "MIN_CUT_SIZE", 1 << 40)
        whole = parse_element(data)
    assert event is not None and event == whole
    assert [m.data for m in event.members] == [p for _, p in members]
