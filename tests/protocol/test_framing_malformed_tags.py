"""A start tag that is not XML is reported and skipped; it never swallows the stream after it."""

from __future__ import annotations

import pytest

from indipydriver.protocol import Frame, Framer, ProtocolError

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
