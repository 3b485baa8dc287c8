"""Framer: a byte stream split anywhere -> the same complete top-level elements, errors returned."""

from __future__ import annotations

import random
from typing import Any

import pytest

from indipycore.protocol import ProtocolError
from indipycore.protocol import scanner
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer

SET = (
    b'<setNumberVector device="Mount" name="EQ" state="Ok">\n'
    b'  <oneNumber name="RA">\n      5.5\n  </oneNumber>\n</setNumberVector>'
)


def feed_whole(stream: bytes, **kw: Any) -> list[Frame | ProtocolError]:
    return Framer(**kw).feed(stream)


def feed_bytewise(stream: bytes, **kw: Any) -> list[Frame | ProtocolError]:
    framer = Framer(**kw)
    out: list[Frame | ProtocolError] = []
    for i in range(len(stream)):
        out += framer.feed(stream[i : i + 1])
    return out


def summary(items: list[Frame | ProtocolError]) -> list[object]:
    return [(x.tag, x.attrs, x.data) if isinstance(x, Frame) else ("error", str(x)) for x in items]


def frames(items: list[Frame | ProtocolError]) -> list[Frame]:
    return [x for x in items if isinstance(x, Frame)]


def errors(items: list[Frame | ProtocolError]) -> list[ProtocolError]:
    return [x for x in items if isinstance(x, ProtocolError)]


def test_one_element_is_returned_with_its_exact_bytes_and_start_tag_attributes() -> None:
    (frame,) = feed_whole(SET)
    assert isinstance(frame, Frame)
    assert frame.tag == "setNumberVector"
    assert frame.attrs == {"device": "Mount", "name": "EQ", "state": "Ok"}
    assert frame.device == "Mount" and frame.name == "EQ"
    assert frame.data == SET


def test_frame_repr_does_not_dump_the_data() -> None:
    (frame,) = feed_whole(
        b"<setBLOBVector device='d' name='n'>" + b"A" * 10000 + b"</setBLOBVector>"
    )
    assert "AAAA" not in repr(frame) and "bytes" in repr(frame)


def test_whitespace_declarations_and_comments_between_elements_are_skipped() -> None:
    stream = (
        b"\n  <?xml version='1.0'?>\n<!-- a comment with <tags/> and > -->"
        + SET
        + b"\r\n\t<?xml version='1.0'?><pingRequest uid='SetBLOB/1' />  "
    )
    items = feed_whole(stream)
    assert [f.tag for f in frames(items)] == ["setNumberVector", "pingRequest"]
    assert errors(items) == []
    assert summary(feed_bytewise(stream)) == summary(items)


@pytest.mark.parametrize(
    "element",
    [
        b'<message device="d" message="a > b / c"/>',
        b"<message device='d' message='say \"/>\" here'/>",
        b"<message\n  device='d'\n  message='x'\n/>",
        b"<getProperties version='1.7'/>",
        b"<pingRequest/>",
    ],
)
def test_start_tag_scan_is_quote_aware_and_self_closing_elements_end_at_slash_gt(
    element: bytes,
) -> None:
    items = feed_whole(element + SET)
    assert [f.data for f in frames(items)] == [element, SET]
    assert summary(feed_bytewise(element + SET)) == summary(items)


def test_quoted_gt_in_a_non_empty_element_start_tag() -> None:
    element = (
        b"<newTextVector device='d' name='n' x='>'><oneText name='t'>a</oneText></newTextVector>"
    )
    assert [f.data for f in frames(feed_whole(element))] == [element]


def test_closing_tag_may_have_whitespace_before_gt() -> None:
    element = b"<enableBLOB device='d'>Also</enableBLOB \n\t>"
    assert frames(feed_bytewise(element + SET))[0].data == element


def test_a_longer_tag_starting_with_the_same_name_does_not_close_the_element() -> None:
    element = b"<message device='d'><messageX/></messageXY></message>"
    assert [f.data for f in frames(feed_whole(element))] == [element]


def test_attributes_are_entity_decoded_and_stripped() -> None:
    (frame,) = feed_whole(b"<message device=' a&amp;b &lt;&gt;&quot;&apos;&#65; ' message=\"x\"/>")
    assert isinstance(frame, Frame)
    assert frame.attrs == {"device": "a&b <>\"'A", "message": "x"}


def test_latin1_attribute_bytes_from_c_drivers_are_decoded_not_fatal() -> None:
    (frame,) = feed_whole(b"<message device='Temp \xb0C'/>")
    assert isinstance(frame, Frame) and frame.device == "Temp \u00b0C"


def test_utf8_attributes_are_decoded() -> None:
    (frame,) = feed_whole("<message device='Kamera ü'/>".encode())
    assert isinstance(frame, Frame) and frame.device == "Kamera ü"


@pytest.mark.parametrize(
    "bad",
    [
        b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
        b"<!ENTITY a 'b'>",
        b"<![CDATA[ a &amp; b ]]>",
    ],
)
def test_doctype_entity_and_cdata_are_refused_with_an_error_and_skipped(bad: bytes) -> None:
    stream = b"  " + bad + SET
    items = feed_whole(stream)
    assert frames(items)[-1].data == SET
    (error,) = errors(items)
    assert error.offset == 2
    assert "refused" in str(error) and "byte 2" in str(error)
    assert summary(feed_bytewise(stream)) == summary(items)


def test_a_cdata_section_between_elements_is_skipped_whole_not_read_as_elements() -> None:
    """CDATA is character data: markup inside it must not be taken for an element after the
    error (the chaos run's CDATA holding a getProperties reached the driver). One error, the
    section skipped up to its ``]]>`` even when that arrives byte by byte, the next element
    kept; an unterminated one is bounded like a comment."""
    inner = b'<getProperties version="1.7"/><newNumberVector device="D" name="N"></newNumberVector>'
    stream = b"<![CDATA[" + inner + b" ]] > ]]>\n" + SET
    for items in (feed_whole(stream), feed_bytewise(stream)):
        assert [str(e) for e in errors(items)] == [
            "refused CDATA section between elements (at byte 0 of the stream)"]
        assert [f.data for f in frames(items)] == [SET]
    framer = Framer(max_element_size=1000)
    items = framer.feed(b"<![CDATA[" + inner * 20) + framer.feed(b"]]>" + SET)
    assert [f.data for f in frames(items)] == [SET]
    assert any("unterminated declaration or comment" in str(e) for e in errors(items))


def test_text_between_elements_is_an_error_with_its_offset_and_the_next_element_survives() -> None:
    items = feed_whole(b"<pingRequest/>junk" + SET)
    assert summary(items)[1] == ("error", "text outside any element (at byte 14 of the stream)")
    assert frames(items)[-1].data == SET


def test_offsets_count_the_whole_stream_across_feeds() -> None:
    framer = Framer()
    assert frames(framer.feed(SET + b"\n"))
    (error,) = framer.feed(b"<1bad>" + SET)[:1]
    assert isinstance(error, ProtocolError) and error.offset == len(SET) + 1


@pytest.mark.parametrize(
    "broken",
    [
        b"<setTextVector device='d",  # unterminated attribute value, then a new element
        b"<setTextVector device='d' name='n'",  # start tag cut off by a new element
        b"</stray>",
        b"< notatag>",
        b"<setTextVector device='d'><oneText name='t'>x</oneText></setTextVector junk>",
    ],
)
def test_malformed_input_resynchronises_at_the_next_start_tag(broken: bytes) -> None:
    stream = broken + SET + b"<pingReply uid='1'/>"
    items = feed_whole(stream)
    assert len(errors(items)) == 1
    assert [f.tag for f in frames(items)][-2:] == ["setNumberVector", "pingReply"]
    assert summary(feed_bytewise(stream)) == summary(items)


def test_unknown_top_level_tags_are_still_framed() -> None:
    """The framer does not know INDI; deciding what to ignore is the parser's job."""
    assert [f.tag for f in frames(feed_whole(b"<switchProtocol version='2.0'/>"))] == [
        "switchProtocol"
    ]


def test_an_incomplete_element_is_kept_until_it_completes() -> None:
    framer = Framer()
    assert framer.feed(SET[:-1]) == []
    (frame,) = framer.feed(SET[-1:] + b"<ping")
    assert isinstance(frame, Frame) and frame.data == SET
    assert frames(framer.feed(b"Request/>"))[0].tag == "pingRequest"


def test_oversized_element_is_reported_once_skipped_and_memory_stays_bounded() -> None:
    framer = Framer(max_element_size=10_000)
    out = framer.feed(b"<setBLOBVector device='d' name='n'><oneBLOB name='b' size='1' format='.x'>")
    for _ in range(100):
        out += framer.feed(b"QUFB" * 1000)
        assert framer.buffered < 10_100  # bounded: the skipped bytes are not kept
    out += framer.feed(b"</oneBLOB></setBLOBVector>" + SET)
    (error,) = errors(out)
    assert "larger than 10000 bytes" in str(error) and error.offset == 0
    assert [f.data for f in frames(out)] == [SET]


def test_oversized_element_at_the_limit_is_still_delivered() -> None:
    element = b"<message device='d'>" + b"x" * 100 + b"</message>"
    assert frames(feed_whole(element, max_element_size=len(element)))[0].data == element


def test_closing_tag_search_is_linear_when_a_big_blob_arrives_in_small_reads() -> None:
    """A 8 MB element fed in 4 KB reads must be searched about once, not once per read."""
    body = b"QUFB" * (2 * 1024 * 1024)
    element = (
        b"<setBLOBVector device='d' name='n'><oneBLOB name='b'>"
        + body
        + b"</oneBLOB></setBLOBVector>"
    )
    framer = Framer()
    out: list[Frame | ProtocolError] = []
    for i in range(0, len(element), 4096):
        out += framer.feed(element[i : i + 4096])
    assert [f.data for f in frames(out)] == [element]
    assert framer.bytes_searched < 1.01 * len(element)


def test_big_element_bytes_are_exact_when_the_stream_mixes_big_and_small() -> None:
    body = bytes(range(65, 91)) * 20000
    element = b"<setBLOBVector device='d' name='n'>" + body + b"</setBLOBVector>"
    stream = SET + element + SET
    framer = Framer()
    out: list[Frame | ProtocolError] = []
    for i in range(0, len(stream), 7777):
        out += framer.feed(stream[i : i + 7777])
    assert [f.data for f in frames(out)] == [SET, element, SET]


def test_empty_feed_returns_nothing() -> None:
    assert Framer().feed(b"") == []


def test_with_known_tags_other_elements_are_refused_at_their_start_tag() -> None:
    """A server frames INDI only (``known_tags=INDI_TAGS``): an unknown element is refused at
    its start tag and the stream resumes after it, so the INDI element inside or after it is
    kept. Without that, random bytes reading ``<Ab>`` opened an element that held up to 256 MiB
    (and every element in it) while ``</Ab`` was awaited. Now what is held is bounded by the
    longest declaration or comment awaited (a random ``<?``)."""
    stream = (b'<Ab x="1">junk' + SET + b"</Ab><oneNumber name='x'>1</oneNumber><foo/>"
              + b'<getProperties version="1.7"/>')
    for items in (feed_whole(stream, known_tags=INDI_TAGS),
                  feed_bytewise(stream, known_tags=INDI_TAGS)):
        assert [f.tag for f in frames(items)] == ["setNumberVector", "getProperties"]
        assert [str(e).split(" (at")[0] for e in errors(items)] == [
            "unknown element <Ab> refused", "unexpected b'</' between elements",
            "unknown element <oneNumber> refused", "unknown element <foo> refused"]
    framer = Framer(known_tags=INDI_TAGS)
    rng = random.Random(7)
    most = 0
    for _ in range(500):
        framer.feed(rng.randbytes(4096) + b"\n<<>> </x> &bogus; text\n")
        most = max(most, framer.buffered)
    assert most < scanner.MAX_SKIPPED + 4096 + 100
    assert SET in [f.data for f in frames(framer.feed(b"\n" + SET + b"\n" + SET))]


def test_a_declaration_or_comment_never_ended_resumes_just_after_its_start() -> None:
    """A ``<?`` or ``<!--`` in junk awaited its end for up to 256 MiB, and every element in
    between was lost. One still open after MAX_SKIPPED bytes is reported and the stream
    resumes just after it: the elements that followed are kept, whatever the reads."""
    for opener in (b"<?", b"<!--"):
        junk = opener + b" junk " + (b"x" * 100 + b"\n" + SET + b"\n") * 500
        framer = Framer()
        chunked: list[Frame | ProtocolError] = []
        for i in range(0, len(junk), 7):
            chunked += framer.feed(junk[i:i + 7])
        items = feed_whole(junk)
        assert [f.data for f in frames(items)] == [f.data for f in frames(chunked)] == [SET] * 500
        assert "unterminated declaration or comment (at byte 0" in str(errors(items)[0])
    # Decided by where its end is, not by how the stream was split: one ending just past the
    # limit resumes after its opener whether it came in large reads or small ones.
    long_comment = b"<!--" + b"c" * scanner.MAX_SKIPPED + b"<message message='inside'/>-->" + SET
    for size in (4096, 65536, len(long_comment)):
        framer = Framer()
        got: list[Frame | ProtocolError] = []
        for i in range(0, len(long_comment), size):
            got += framer.feed(long_comment[i:i + size])
        assert [f.tag for f in frames(got)] == ["message", "setNumberVector"], size
    # A short one still hides what is inside it, as XML says.
    assert frames(feed_whole(b"<?pi " + SET + b" ?>" + SET)) == frames(feed_whole(SET))
