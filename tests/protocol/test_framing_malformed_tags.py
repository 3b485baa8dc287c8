"""A start tag that is not XML is reported and skipped; it never swallows the stream after it."""

from __future__ import annotations

import corpus
import pytest
from test_properties import feed_split

from indipycore.protocol import Frame
from indipycore.protocol import Framer
from indipycore.protocol import ProtocolError

GOOD = b'<getProperties version="1.7"/>'
BAD_TAGS = [b"<not xml>", b"<a b c d>", b"<newNumberVector device>", b'<x a="1" b>', b"<y a=1>"]


def _feed_in_two(data: bytes, cut: int) -> list[Frame | ProtocolError]:
    framer = Framer()
    return framer.feed(data[:cut]) + framer.feed(data[cut:])


@pytest.mark.parametrize("bad", BAD_TAGS)
def test_a_malformed_start_tag_is_an_error_and_the_next_element_survives(bad: bytes) -> None:
    out = Framer().feed(bad + GOOD)
    errors = [x for x in out if isinstance(x, ProtocolError)]
    assert errors and "malformed start tag" in str(errors[0])
    assert [x.data for x in out if isinstance(x, Frame)] == [GOOD]


@pytest.mark.parametrize("bad", BAD_TAGS)
def test_the_verdict_does_not_depend_on_where_the_stream_is_split(bad: bytes) -> None:
    stream = bad + b"<body>text</body>" + GOOD
    whole = Framer().feed(stream)
    for cut in range(1, len(stream)):
        parts = _feed_in_two(stream, cut)
        assert [type(x) for x in parts] == [type(x) for x in whole], cut
        assert [x.data for x in parts if isinstance(x, Frame)] == [
            x.data for x in whole if isinstance(x, Frame)
        ], cut


def test_a_well_formed_tag_split_inside_an_attribute_still_frames() -> None:
    element = b'<newNumberVector device="D" name="N"><oneNumber name="x">1</oneNumber></newNumberVector>'
    for cut in range(1, len(element)):
        assert [x.data for x in _feed_in_two(element, cut)] == [element], cut


# -- Framer(check_nesting=True): a client's element that is never closed ------------------------

MISMATCHED = (b'<newNumberVector device="D" name="N"><oneNumber name="a">1</oneNumber>'
              b"</newSwitchVector>")
NEXT = [GOOD, b'<newNumberVector device="D" name="N"><oneNumber name="a">2</oneNumber>'
              b"</newNumberVector>"]


def _nesting_framer() -> Framer:
    from indipycore.protocol.framing import INDI_TAGS

    return Framer(known_tags=INDI_TAGS, check_nesting=True)


@pytest.mark.parametrize("broken", [MISMATCHED, MISMATCHED[:-18],  # wrong closing tag, none
                                    b'<enableBLOB device="D">Also'])
def test_an_element_never_closed_does_not_swallow_what_the_client_sends_next(
    broken: bytes,
) -> None:
    """indiserver answered every request after a newNumberVector closed by </newSwitchVector>;
    we waited for </newNumberVector> and swallowed them all. With nesting checked, a top-level
    start tag inside an element ends it as an error there, whatever the split."""
    stream = broken + b"".join(NEXT)
    for cut in range(1, len(stream)):
        framer = _nesting_framer()
        out = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        errors = [x for x in out if isinstance(x, ProtocolError)]
        assert len(errors) == 1 and "not closed: <getProperties began inside it" in str(errors[0])
        assert [x.data for x in out if isinstance(x, Frame)] == NEXT, cut


def test_nesting_is_checked_only_where_asked_and_needs_the_known_tags() -> None:
    stream = MISMATCHED + b"".join(NEXT)
    assert [x.tag for x in Framer().feed(stream) if isinstance(x, Frame)] == ["newNumberVector"]
    with pytest.raises(ValueError, match="known_tags"):
        Framer(check_nesting=True)


def test_well_formed_client_traffic_frames_the_same_with_nesting_checked() -> None:
    """No false alarm: what real clients send (indilib's tools, captured) frames exactly as
    without the check, split anywhere."""
    data = corpus.read("indilib-clients-send.xml")
    plain = [x.data for x in Framer().feed(data) if isinstance(x, Frame)]
    assert plain
    for step in (1, 3, 17, 4096, len(data)):
        framer = _nesting_framer()
        out: list = []
        for i in range(0, len(data), step):
            out += framer.feed(data[i : i + step])
        assert not [x for x in out if isinstance(x, ProtocolError)], step
        assert [x.data for x in out if isinstance(x, Frame)] == plain, step


@pytest.mark.parametrize("inside", [b"<![CDATA[<getProperties version='1.7'/>]]>",
                                    b"<!-- <message message='x'/> -->"])
def test_markup_in_cdata_or_a_comment_inside_an_element_is_text(inside: bytes) -> None:
    """Well-formed (expat agrees): what a CDATA section or a comment holds is not a request,
    inside an element as between elements."""
    element = (b'<newTextVector device="d" name="t"><oneText name="a">' + inside
               + b"</oneText></newTextVector>")
    for step in (len(element), 1, 5, 13):
        out: list = []
        framer = _nesting_framer()
        for i in range(0, len(element), step):
            out += framer.feed(element[i : i + step])
        assert [x.data if isinstance(x, Frame) else x for x in out] == [element], step


def test_only_an_elements_first_64_kib_are_looked_at_whatever_the_split() -> None:
    """A top-level start tag past the window is not looked for, in one read or in many (the
    element is then judged whole, as malformed, by whoever parses it)."""
    head = b'<newTextVector device="d" name="t"><oneText name="a">'
    stream = (head + b"y" * 70_000 + GOOD + b"\n" + NEXT[1])
    results = set()
    for step in (len(stream), 65536, 4096, 1000):
        out: list = []
        framer = _nesting_framer()
        for i in range(0, len(stream), step):
            out += framer.feed(stream[i : i + step])
        results.add(tuple(x.data if isinstance(x, Frame) else "error" for x in out))
    assert len(results) == 1


def _frames_and_errors(framer: Framer, data: bytes, cuts: list[int]) -> list[object]:
    return [x.data if isinstance(x, Frame) else "error" for x in feed_split(framer, data, cuts)]


def test_nesting_verdicts_do_not_depend_on_the_split_and_valid_streams_are_untouched() -> None:
    """Fuzzed: serialised events, some damaged (a byte replaced, inserted, deleted, or the
    element cut off), split anywhere, give the same frames and errors as fed whole; undamaged
    ones give exactly what the framer without the check gives."""
    from hypothesis import given
    from hypothesis import strategies as st
    from test_acceptance_protocol import EVENTS
    from test_acceptance_protocol import SETTINGS
    from test_acceptance_protocol import _damage

    from indipycore.protocol.serialiser import serialise

    @SETTINGS
    @given(st.lists(st.tuples(EVENTS, st.booleans(), st.integers(0, 10_000), st.integers(0, 3),
                              st.integers(0, 255)), min_size=1, max_size=4),
           st.lists(st.integers(0, 3000), max_size=5))
    def check(items: list, cuts: list[int]) -> None:  # type: ignore[type-arg]
        stream = b"".join(_damage(serialise(e), pos, act, byte) if damaged else serialise(e)
                          for e, damaged, pos, act, byte in items)
        whole = _frames_and_errors(_nesting_framer(), stream, [])
        assert _frames_and_errors(_nesting_framer(), stream, cuts) == whole
        if not any(damaged for _, damaged, *_ in items):
            assert whole == _frames_and_errors(Framer(), stream, [])

    check()
