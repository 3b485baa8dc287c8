"""The shortcut's reading of a read (``fastpath.readclassifier``): kept by the read's shape, never wrong.

What the shortcut learns from one read is reused for every read of the same shape (digits made
0). These tests hold the cached answer for a read to the answer worked out for that read alone,
for reads that differ from the one that filled the cache only in their digits -- including
digits in tag and attribute names, character references and anything else a pattern might
tell apart.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyserver.fastpath import readclassifier
from indipyserver.fastpath.readclassifier import ReadClassifier
from indipyserver.fastpath.readclassifier import places
from tests.server.fastpath.test_shortcut import CLIENT_READS
from tests.server.fastpath.test_shortcut import DRIVER_READS

_N = "n"
_S = "s"

#: One classifier, as a server's shortcut holds one; tests empty its shapes where they say so.
_CLASSIFIER = ReadClassifier()
alone = _CLASSIFIER.alone
_SHAPES = _CLASSIFIER.shapes


def uncached(data: bytes, kind: str) -> tuple[str, str, str, bytes, bytes, bool] | None:
    """`alone`'s answer worked out from `data` alone."""
    found = places(data)
    if found is None or found[0][:1] != kind.encode():
        return None
    tag, d0, d1, n0, n1, r0, r1, end, plain = found
    return (tag.decode("ascii"), data[d0:d1].decode("ascii"), data[n0:n1].decode("ascii"), data[r0:r1],
            data[:end], plain)


def test_one_whole_vector_alone_is_read_with_its_parts() -> None:
    element = CLIENT_READS[0].rstrip()
    assert alone(CLIENT_READS[0], _N) == ("newNumberVector", "D", "N", b"", element, True)
    assert alone(CLIENT_READS[3], _N) == (
        "newTextVector", "D", "T", b' timestamp="2026-01-01T00:00:00"', CLIENT_READS[3].rstrip(),
        False)  # an entity in a request: left to expat (wellformed.plain_request)
    assert alone(CLIENT_READS[0], _S) is None  # a new vector, not a set
    assert alone(CLIENT_READS[6], _N) is None  # two elements
    assert alone(CLIENT_READS[7], _N) is None  # text after it
    assert alone(DRIVER_READS[7], _S) is None  # not whole
    assert alone(b'<newBLOBVector device="D" name="B"></newBLOBVector>', _N) is None
    assert alone(DRIVER_READS[1], _S) == (
        "setNumberVector", "D", "N", b' state="Busy" timeout="3" message="moving"',
        DRIVER_READS[1].rstrip(), True)


def test_a_read_not_in_the_plain_form_is_taken_but_marked_so() -> None:
    # A character reference: well-formed, but only expat can say so (lanes asks it).
    read = (b'<newTextVector device="D" name="T"><oneText name="t">&#65;</oneText>'
            b"</newTextVector>\n")
    assert alone(read, _N) == ("newTextVector", "D", "T", b"", read.rstrip(), False)
    assert alone(read.replace(b"65", b"66"), _N) == (
        "newTextVector", "D", "T", b"", read.replace(b"65", b"66").rstrip(), False)


def test_reads_of_one_shape_are_read_from_the_first_ones_places() -> None:
    _SHAPES.clear()
    first = (b'<setNumberVector device="CCD 1" name="T1" state="Ok" timestamp="2026-11-23T08:00:01">'
             b'<oneNumber name="v1">-12.5</oneNumber></setNumberVector>\n')
    later = first.replace(b"CCD 1", b"CCD 7").replace(b"T1", b"T9").replace(b"12.5", b"98.3")
    assert alone(first, _S) == uncached(first, _S)
    assert len(_SHAPES) == 1
    assert alone(later, _S) == uncached(later, _S)
    assert alone(later, _S)[1:3] == ("CCD 7", "T9")  # type: ignore[index]
    assert len(_SHAPES) == 1  # the same shape: no new entry


def test_the_shapes_kept_are_bounded_and_long_reads_are_not_kept() -> None:
    _SHAPES.clear()
    for i in range(readclassifier.MAX_SHAPES + 10):
        read = (b'<setTextVector device="D" name="T"><oneText name="t">' + b"x" * (i % 300)
                + b"y" * (i // 300) + b"</oneText></setTextVector>")
        assert alone(read, _S) == uncached(read, _S)
        assert len(_SHAPES) <= readclassifier.MAX_SHAPES
    _SHAPES.clear()
    long = (b'<setTextVector device="D" name="T"><oneText name="t">'
            + b"x" * readclassifier.MAX_SHAPE_BYTES + b"</oneText></setTextVector>")
    assert alone(long, _S) == uncached(long, _S) is not None
    assert not _SHAPES


def test_a_digit_anywhere_in_a_known_read_does_not_change_the_answer_its_shape_gives() -> None:
    # Every place a digit can go in every read the shortcut's tests know: what the cache
    # learnt from a read with one digit there is what a read with another digit there gets.
    for read in CLIENT_READS + DRIVER_READS:
        for at in range(len(read) + 1):
            for a, b in ((b"1", b"7"), (b"9", b"0")):
                first = read[:at] + a + read[at:]
                later = read[:at] + b + read[at:]
                for kind in (_N, _S):
                    _SHAPES.clear()
                    assert alone(first, kind) == uncached(first, kind)
                    assert alone(later, kind) == uncached(later, kind), (later, kind)


def test_reads_that_differ_in_anything_but_digits_are_each_read_afresh() -> None:
    # The shape keeps every other byte: a read one byte away from a known one (a letter, a
    # quote, markup) is never read off the known one's places.
    for read in CLIENT_READS + DRIVER_READS:
        for at in range(len(read)):
            for c in b'NSx"<> ':
                if read[at] == c:
                    continue
                later = read[:at] + bytes([c]) + read[at + 1 :]
                for kind in (_N, _S):
                    _SHAPES.clear()
                    alone(read, kind)
                    assert alone(later, kind) == uncached(later, kind), (later, kind)


# Pieces that put digits where a pattern might tell them apart: names of elements and
# attributes, character references, control characters, a second device or name attribute.
_PIECES = [b"1", b"7", b"0", b"&#9;", b"&#1;", b"&#65;", b"&amp;", b" ", b"\n", b"\x01", b"<",
           b">", b'"', b"'", b"=", b"/", b"]]>", b"\xe9", b" name=", b" device=", b"v1",
           b"2026-11-23T08:00:01", b"</oneNumber>", b"<oneNumber name='5'>"]


@st.composite
def reads(draw: st.DrawFn) -> bytes:
    """A known read with pieces put in or characters taken out at a few places."""
    base = bytearray(draw(st.sampled_from(CLIENT_READS + DRIVER_READS)))
    for _ in range(draw(st.integers(0, 3))):
        # Mostly next to markup (inside a name or value, at a tag's start or end), where a
        # pattern tells characters apart; else anywhere.
        marks = [i + 1 for i, c in enumerate(base) if c in b"<>\"'= &#"]
        at = draw(st.sampled_from(marks) if marks and draw(st.booleans())
                  else st.integers(0, len(base)))
        if draw(st.booleans()):
            base[at:at] = draw(st.sampled_from(_PIECES))
        else:
            del base[at : at + draw(st.integers(1, 3))]
    return bytes(base)


@st.composite
def same_shape(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with each digit made any digit."""
    return bytes(draw(st.sampled_from(b"0123456789")) if c in b"0123456789" else c for c in data)


@settings(max_examples=600)
@given(data=st.data(), first=reads())
def test_a_read_gets_the_answer_it_would_get_alone_after_any_read_of_its_shape(
    data: st.DataObject, first: bytes
) -> None:
    later = data.draw(same_shape(first))
    for kind in (_N, _S):
        _SHAPES.clear()
        assert alone(first, kind) == uncached(first, kind)
        assert alone(later, kind) == uncached(later, kind)  # read off `first`'s places


def test_each_classifier_keeps_its_own_shapes() -> None:
    """No shape is kept for the process: what one server's shortcut learnt is not another's
    (two servers in one process fill and empty their own, bounded, caches)."""
    one, two = ReadClassifier(), ReadClassifier()
    read = CLIENT_READS[0]
    assert one.alone(read, _N) == uncached(read, _N)
    assert len(one.shapes) == 1 and len(two.shapes) == 0
