"""One new/set vector alone in a read, framed by shape, gives what the general path gives.

A round trip's element (a client's newNumberVector, a driver's setNumberVector) usually arrives
alone in one read, and one like it (the same but for its digits) came before; `Framer.feed`
then reads its start tag from the remembered one (`starttags`). Whatever that shortcut takes
must come out exactly as the start-tag pattern frames it: same tag, same attributes (decoded
and stripped the same way), same bytes, same offsets afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipycore.protocol import ProtocolError
from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipycore.protocol.starttags import StartTagShapes


def summary(items: list[Frame | ProtocolError]) -> list[object]:
    return [(x.tag, x.attrs, x.data) if isinstance(x, Frame) else ("error", str(x)) for x in items]


@contextmanager
def no_shortcut() -> Iterator[None]:
    """The framer without the shortcut: no start tag is ever read by shape."""
    saved = StartTagShapes.read
    StartTagShapes.read = lambda self, head: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        StartTagShapes.read = saved  # type: ignore[method-assign]


def general(framer: Framer, data: bytes) -> list[Frame | ProtocolError]:
    with no_shortcut():
        return framer.feed(data)


DIGITS_CHANGED = bytes.maketrans(b"0123456789", b"5678901234")


def primed(element: bytes, **kw: object) -> Framer:
    """A framer that has framed `element` with its digits changed: the shape of its start tag is
    known if it may be (and its state and offsets are those after that element)."""
    framer = Framer(**kw)  # type: ignore[arg-type]
    framer.feed(element.translate(DIGITS_CHANGED))
    return framer

NEW = (
    b'<newNumberVector device="Bench" name="NUM"><oneNumber name="v">12</oneNumber>'
    b"</newNumberVector>\n"
)
SET = (
    b'<setNumberVector device="Bench" name="NUM" state="Ok" timestamp="2026-11-22T12:00:00">'
    b'\n  <oneNumber name="v">12</oneNumber>\n</setNumberVector>\n'
)


def test_the_round_trip_elements_take_the_shortcut() -> None:
    """What the shortcut is for: both halves of a round trip are read by shape the second
    time (else it is dead code)."""
    for element in (NEW, SET):
        framer = primed(element)
        assert framer._shapes.read(element[: element.index(b">")]) is not None


def test_a_newNumberVector_alone_is_framed_with_its_attributes_and_exact_bytes() -> None:
    (frame,) = Framer().feed(NEW)
    assert isinstance(frame, Frame)
    assert (frame.tag, frame.attrs) == ("newNumberVector", {"device": "Bench", "name": "NUM"})
    assert frame.data == NEW.rstrip(b"\n")


def test_the_other_attributes_of_a_set_are_decoded_in_tag_order() -> None:
    (frame,) = Framer().feed(SET)
    assert isinstance(frame, Frame)
    assert list(frame.attrs.items()) == [
        ("device", "Bench"),
        ("name", "NUM"),
        ("state", "Ok"),
        ("timestamp", "2026-11-22T12:00:00"),
    ]


def test_offsets_after_the_shortcut_count_the_whole_read() -> None:
    framer = primed(NEW)
    framer.feed(NEW)
    (error, frame) = framer.feed(b"junk<getProperties version='1.7'/>")
    assert isinstance(error, ProtocolError) and error.offset == 2 * len(NEW)
    assert isinstance(frame, Frame) and frame.tag == "getProperties"


def test_a_blob_vector_never_takes_the_shortcut() -> None:
    """BLOBs may be streamed in pieces (stream_tags): the shortcut must leave them alone."""
    blob = b'<setBLOBVector device="d" name="n"><oneBLOB name="b" size="0" format=".x"></oneBLOB></setBLOBVector>'
    framer = primed(blob, stream_tags={"setBLOBVector"})
    assert framer._shapes.read(blob[: blob.index(b">")]) is None


def test_an_element_over_the_size_limit_is_refused_as_before() -> None:
    whole = primed(NEW, max_element_size=40).feed(NEW)
    assert summary(whole) == summary(general(primed(NEW, max_element_size=40), NEW))
    assert any(isinstance(x, ProtocolError) for x in whole)


# Values that exercise decoding: spaces to strip, `>` and `'` inside a value, UTF-8, raw
# Latin-1 (a C driver's), an entity (not for the shortcut), and a tab.
VALUE_LIST = [b"Bench", b" Bench ", b"Tele scope", b"a>b", b"it's", "Télescope".encode(),
              b"T\xe9l", b"A&amp;B", b"\tX\n", b""]
VALUES = st.sampled_from(VALUE_LIST)


@pytest.mark.parametrize("value", VALUE_LIST)
@pytest.mark.parametrize("extra", [b"", b' state="Ok" timeout="3"'])
def test_device_and_name_are_decoded_and_stripped_as_the_general_path_does(
    value: bytes, extra: bytes
) -> None:
    element = (
        b'<setNumberVector device="' + value + b'" name="' + value + b'"' + extra + b">"
        b'<oneNumber name="v">1</oneNumber></setNumberVector>\n'
    )
    assert summary(primed(element).feed(element)) == summary(general(primed(element), element))

TAGS = st.sampled_from(
    [b"newNumberVector", b"setNumberVector", b"newSwitchVector", b"setTextVector",
     b"setLightVector", b"newTextVector", b"setBLOBVector", b"defNumberVector"]
)
EXTRA = st.sampled_from(
    [b"", b' state="Ok"', b" state='Busy'", b' timeout="5" timestamp="2026-01-01T00:00:00"',
     b' message="it&apos;s done"', b' state = "Ok"', b" bogus", b' state="Ok"/',
     b' message="caf\xe9"', " message='café'".encode()]
)
CLOSE = st.sampled_from([b">", b" >", b"\n>", b""])
AFTER = st.sampled_from([b"", b"\n", b"\n\n", b" ", b"<pingRequest uid='1'/>", b"junk", b"\r\n"])


@pytest.mark.parametrize(
    "element",
    [
        # UTF-8 device, a Latin-1 byte later in the tag: the whole tag is read as Latin-1.
        b'<setTextVector device="T\xc3\xa9lescope" name="T" message="caf\xe9">'
        b'<oneText name="t">x</oneText></setTextVector>\n',
        b'<newNumberVector device="" name="\xc3\xa9" state=\'\x80\'></newNumberVector>',
    ],
)
def test_a_tag_mixing_utf8_and_latin1_is_decoded_as_the_general_path_does(element: bytes) -> None:
    """Found by review: device and name decoded apart from the rest read UTF-8 where the
    general path, seeing a Latin-1 byte anywhere in the tag, reads all of it as Latin-1."""
    assert summary(primed(element).feed(element)) == summary(general(primed(element), element))


@settings(max_examples=400)
@given(TAGS, VALUES, VALUES, EXTRA, CLOSE, AFTER, st.booleans())
def test_whatever_the_shortcut_takes_comes_out_as_the_general_path_frames_it(
    tag: bytes, device: bytes, name: bytes, extra: bytes, close: bytes, after: bytes,
    leading_space: bool,
) -> None:
    element = (
        (b" " if leading_space else b"")
        + b"<" + tag + b' device="' + device + b'" name="' + name + b'"' + extra + b">"
        + b'<oneNumber name="v">1</oneNumber>'
        + b"</" + tag + close
        + after
    )
    fast = primed(element)
    slow = primed(element)
    assert summary(fast.feed(element)) == summary(general(slow, element))
    # And the stream goes on the same way after it (state and offsets).
    follow = b'x<pingRequest uid="2"/>'
    assert summary(fast.feed(follow)) == summary(general(slow, follow))
    assert fast.offset == slow.offset
    assert fast.bytes_searched == slow.bytes_searched
