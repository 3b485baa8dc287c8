"""xml_error: what a server refuses to pass on as it was received (and what it must not);
plain_request and plain_update: the one-regex checks of the plain forms, never looser."""

from __future__ import annotations

import corpus
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.frames import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.serialiser import serialise
from indipycore.protocol.wellformed import PlainUpdates
from indipycore.protocol.wellformed import plain_request
from indipycore.protocol.wellformed import plain_update
from indipycore.protocol.wellformed import xml_error

NEW = ('<newTextVector device="Dev" name="T"><oneText name="t">{}</oneText>'
       "</newTextVector>")


@pytest.mark.parametrize("text", [
    "plain", "a &lt; b &amp; c &#233; &#x3A9;", "caf\u00e9 \u03a9", " \t\r\n ", "",
])
def test_well_formed_elements_pass(text: str) -> None:
    assert xml_error(NEW.format(text).encode()) is None


def test_latin1_bytes_pass_as_kstars_sends_them() -> None:
    """KStars sends text as Latin-1 (not UTF-8); drivers take it, so it must not be refused."""
    assert xml_error(NEW.format("Z\xfcrich").encode("latin-1")) is None
    assert xml_error(NEW.encode().replace(b"{}", b"\xff\xfe")) is None


@pytest.mark.parametrize(("element", "why"), [
    (b'<newNumberVector device="a" device="b" name="x"/>', "duplicate attribute"),
    (NEW.format("&undefined;").encode(), "undefined entity"),
    (NEW.format("&#0;").encode(), "invalid character"),
    (NEW.format("&#xFFFFFFFF;").encode(), "invalid character"),
    (NEW.format("a & b").encode(), "not well-formed"),
    (NEW.format("nul \x00").encode(), "not well-formed"),
    (NEW.format("bell \x07").encode(), "not well-formed"),
    (b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneText>'
     b'<getProperties/></newNumberVector>', "mismatched tag"),
    (b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneNumber>', "no element found"),
])
def test_malformed_elements_say_why(element: bytes, why: str) -> None:
    error = xml_error(element)
    assert error is not None and why in error


PLAIN = [
    b'<newNumberVector device="Bench" name="NUM"><oneNumber name="v">12</oneNumber></newNumberVector>',
    b"<newSwitchVector device='Telescope Simulator' name='CONNECTION' timestamp='2024-01-01T00:00:00'>"
    b"\n  <oneSwitch name='CONNECT'>\n      On\n  </oneSwitch>\n</newSwitchVector>",
    b'<newTextVector device="a" name="b"><oneText name="t">Z\xfcrich</oneText>'
    b'<oneText name="u"></oneText></newTextVector>',
    b'<newNumberVector device="a" name="b"></newNumberVector>',
]
NOT_PLAIN = [
    b'<newNumberVector device="a" name="x"><oneNumber name="v" name="w">1</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x" timestamp="1" timestamp="2"></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">&undefined;</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">1 &lt; 2</oneNumber></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneNumber name="v">1</oneText><getProperties/>'
    b"</newNumberVector>",
    b'<newNumberVector device="a" name="x"><oneNumber name="v">\x00</oneNumber></newNumberVector>',
    b'<newNumberVector device="a\x01" name="x"></newNumberVector>',
    b'<newNumberVector device="a" name="x"><oneSwitch name="v">On</oneSwitch></newNumberVector>',
    b'<newLightVector device="a" name="x"></newLightVector>',
    b'<newTextVector device="a" name="b"><oneText name="t">]]></oneText></newTextVector>',
]


@pytest.mark.parametrize("element", PLAIN)
def test_plain_requests_are_recognised_and_well_formed(element: bytes) -> None:
    """The round trip's shortcut checks requests with one regular expression (expat cost it
    about 5 us a request): what it accepts must be well-formed."""
    assert plain_request(element)
    assert xml_error(element) is None


@pytest.mark.parametrize("element", NOT_PLAIN)
def test_anything_else_is_left_to_expat(element: bytes) -> None:
    """Repeated attributes, references, control characters, mismatched or foreign members:
    not plain, so expat decides (some are well-formed: a reference, a switch member)."""
    assert not plain_request(element)


# ------------------------------------------------------------------------ plain_update (drivers)

def corpus_updates() -> list[bytes]:
    """Every set (not BLOB) and def vector, message and delProperty indilib's simulators sent
    (tests/data/corpus: a missing capture fails here, it never shrinks the list to nothing)."""
    found = []
    for data in corpus.read_all().values():
        for item in Framer().feed(data):
            if isinstance(item, Frame) and item.tag != "setBLOBVector" and (
                    item.tag.startswith(("set", "def")) or item.tag in ("message", "delProperty")):
                found.append(bytes(item.data))
    return found


OURS = [
    serialise(pe.SetNumberVector("D", "N", (pe.Number("a", "1"),), state=State.OK, timeout="3",
                                 timestamp="2026-01-01T00:00:00", message="x &lt; y")),
    serialise(pe.DefNumberVector("D", "N", State.OK, Perm.RW,
                                 (pe.Number("a", "1", "A", "%g", "0", "10", "1"),),
                                 label="L", group="G", timeout="0", message="m")),
    serialise(pe.DefSwitchVector("D", "N", State.OK, Perm.RW, "OneOfMany",
                                 (pe.Switch("a", "On", "A"),), label="L &amp; M", group="G")),
    serialise(pe.DefLightVector("D", "N", State.OK, (pe.Light("a", "Ok", "A"),))),
    serialise(pe.SetTextVector("D", "N", (pe.Text("t", "Z\u00fcrich 'quoted' \"too\""),))),
    serialise(pe.Message("D", message="x", timestamp="2026-01-01T00:00:00")),
    serialise(pe.Message(None, message="site-wide")),
    serialise(pe.DelProperty("D", "N", timestamp="2026-01-01T00:00:00", message="bye")),
    serialise(pe.DelProperty("D")),
]


def test_plain_updates_cover_what_indilib_and_we_send() -> None:
    """What the server passes on from drivers is checked with one regular expression when it
    is in the plain form indilib's drivers and ours write (expat costs about 5 us in the
    server): every such element of the corpus and of our serialiser is recognised, and each
    one recognised is well-formed."""
    elements = corpus_updates() + [e.rstrip(b"\n") for e in OURS]
    assert len(elements) > 150
    for element in elements:
        assert plain_update(element), element[:200]
        assert xml_error(element) is None


SET = (b'<setNumberVector device="D" name="N" state="Ok">'
       b'<oneNumber name="a">1</oneNumber></setNumberVector>')
NOT_PLAIN_UPDATES = [
    b'<setTextVector device="F" name="T"><oneText name="t">a</oneNumber></setTextVector>',
    b'<setNumberVector device="D" name="N" state="Ok" state="Alert">'
    b'<oneNumber name="a">1</oneNumber></setNumberVector>',
    b'<setNumberVector name="N" device="D"><oneNumber name="a">1</oneNumber></setNumberVector>',
    SET.replace(b">1<", b">&undefined;<"),
    SET.replace(b">1<", b">&#49;<"),
    SET.replace(b">1<", b">a & b<"),
    SET.replace(b">1<", b">\x07<"),
    SET.replace(b">1<", b">]]><"),
    SET.replace(b"oneNumber", b"oneSwitch"),
    SET.replace(b"</setNumberVector>", b"</setSwitchVector>"),
    SET.replace(b'name="a"', b'name="a" name="b"'),
    SET.replace(b'state="Ok"', b"state=Ok"),
    b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="0" format=""></oneBLOB>'
    b"</setBLOBVector>",
    b'<message device="D" message="x"><oneText name="t">x</oneText></message>',
    b'<getProperties version="1.7"/>',
]


@pytest.mark.parametrize("element", NOT_PLAIN_UPDATES)
def test_anything_else_from_a_driver_is_left_to_expat(element: bytes) -> None:
    """A mismatched or foreign member, a repeated or reordered attribute, a reference other
    than the five named entities, a control character, ``]]>``, a set BLOB vector and other
    elements: not plain, so expat decides (some of these are well-formed)."""
    assert not plain_update(element)


@settings(max_examples=3000)
@given(st.sampled_from(corpus_updates() + [e.rstrip(b"\n") for e in OURS]),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3),
                          st.binary(min_size=0, max_size=3)), min_size=1, max_size=3))
def test_plain_update_never_accepts_what_expat_refuses(
    element: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    """Mutations of real elements (bytes replaced, inserted, deleted): whatever plain_update
    accepts, expat accepts too -- a false positive would pass broken XML on to clients."""
    data = bytearray(element)
    for at, cut, insert in edits:
        at %= len(data) + 1
        data[at:at + cut] = insert
    mutated = bytes(data)
    if plain_update(mutated):
        assert xml_error(mutated) is None, mutated



@settings(max_examples=2000)
@given(st.sampled_from(corpus_updates() + [e.rstrip(b"\n") for e in OURS]),
       st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(b"0123456789")),
                min_size=1, max_size=8))
def test_an_element_of_a_shape_accepted_before_is_well_formed(
    element: bytes, digits: list[tuple[int, int]]
) -> None:
    """PlainUpdates remembers the shapes it accepted (digits made 0) and accepts an element of
    the same shape without the pattern: changing any digits of an accepted element (values,
    text, and wherever else digits stand) must never make it accepted and malformed."""
    remembering = PlainUpdates().accepts
    assert remembering(element) and plain_update(element)  # remembered
    data = bytearray(element)
    places = [i for i, byte in enumerate(data) if 0x30 <= byte <= 0x39]
    if not places:
        return
    for at, digit in digits:
        data[places[at % len(places)]] = digit
    mutated = bytes(data)
    if remembering(mutated):
        assert xml_error(mutated) is None, mutated


def test_large_elements_are_not_remembered() -> None:
    """The shapes remembered are bounded in count and in size: an element over 4 KiB is
    checked by the pattern every time, never kept (a driver sending large text vectors that
    differ in their text held 375 MiB of shapes)."""
    checker = PlainUpdates()
    remembering = checker.accepts
    big = (b'<setTextVector device="D" name="T"><oneText name="t">' + b"x" * 5000
           + b"</oneText></setTextVector>")
    assert remembering(big) and remembering(big)
    assert len(checker.shapes) == 0
    assert remembering(b'<setTextVector device="D" name="T"><oneText name="t">x</oneText>'
                       b"</setTextVector>")
    assert len(checker.shapes) == 1
