"""A large read that begins inside an element: `Framer.feed` finishes that element on its own
(`Framer._finish_pending`) so that the rest of the read takes the fast path.

What it protects: the frames and errors are exactly those of the scanner whatever the split
(fuzzed with the thresholds lowered so that every feed goes through the new step, for each kind
of framer the server makes), and a burst of small elements read in 64 KiB pieces is framed by
the fast path, not scanned (the 10k burst of `bench/run.py` measured 134k against 155k msg/s).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_acceptance_protocol import _damage
from test_properties import EVENTS
from test_properties import JUNK
from test_properties import MARKUP_BYTES
from test_properties import SETTINGS
from test_properties import feed_split

from indipycore.protocol import Frame
from indipycore.protocol import Number
from indipycore.protocol import ProtocolError
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import framing
from indipycore.protocol import serialise
from indipycore.protocol.frames import FrameChunk
from indipycore.protocol.frames import FrameEnd
from indipycore.protocol.frames import FrameHead
from indipycore.protocol.framing import INDI_TAGS
from indipycore.protocol.framing import Framer

FRAMERS: dict[str, Callable[[], Framer]] = {
    "plain": Framer,
    "driver": lambda: Framer(known_tags=INDI_TAGS),
    "client": lambda: Framer(known_tags=INDI_TAGS, check_nesting=True),
    "blobs": lambda: Framer(stream_tags={"setBLOBVector"}, known_tags=INDI_TAGS, stream_min=64),
}


@contextmanager
def every_feed_finishes_the_pending_element(reach: int = 64, tags: int = 3) -> Iterator[None]:
    """Lower the thresholds so that any feed after a cut takes the new step, and the step's
    own limits (how far, how many tags) are reached too."""
    saved = framing._SPLIT_MIN, framing._SPLIT_REACH, framing._SPLIT_TAGS
    framing._SPLIT_MIN, framing._SPLIT_REACH, framing._SPLIT_TAGS = 0, reach, tags
    try:
        yield
    finally:
        framing._SPLIT_MIN, framing._SPLIT_REACH, framing._SPLIT_TAGS = saved


def summary(items: list[Any]) -> list[object]:
    """Frames and errors as comparable values; a streamed element as its pieces joined (the
    pieces themselves follow the reads)."""
    out: list[object] = []
    streamed: list[bytes] = []
    for x in items:
        if isinstance(x, Frame):
            out.append((x.tag, x.attrs, bytes(x.data)))
        elif isinstance(x, ProtocolError):
            out.append(("error", str(x), x.offset))
        elif isinstance(x, FrameHead):
            streamed = [bytes(x.data)]
            out.append(("head", x.tag, x.attrs))
        elif isinstance(x, FrameChunk):
            streamed.append(bytes(x.data))
        else:
            assert isinstance(x, FrameEnd)
            streamed.append(bytes(x.data))
            out.append(("streamed", b"".join(streamed), x.complete))
    return out


def whole(kind: str, data: bytes) -> list[object]:
    return summary(FRAMERS[kind]().feed(data))


def split(kind: str, data: bytes, cuts: list[int], reach: int = 64, tags: int = 3) -> list[object]:
    framer = FRAMERS[kind]()
    with every_feed_finishes_the_pending_element(reach, tags):
        out = summary(feed_split(framer, data, cuts))
    return out


def split_before(kind: str, data: bytes, cuts: list[int]) -> list[object]:
    """The same reads without the new step (as before it)."""
    framer = FRAMERS[kind]()
    saved = framing._SPLIT_MIN
    framing._SPLIT_MIN = 1 << 62
    try:
        return summary(feed_split(framer, data, cuts))
    finally:
        framing._SPLIT_MIN = saved


def check(kind: str, data: bytes, cuts: list[int], reach: int = 64, tags: int = 3) -> None:
    """The same frames and errors as the same reads gave before; and, for a framer that hands
    nothing out in pieces, as the stream fed whole."""
    got = split(kind, data, cuts, reach, tags)
    assert got == split_before(kind, data, cuts)
    if kind != "blobs":
        assert got == whole(kind, data)


@SETTINGS
@given(MARKUP_BYTES, st.lists(st.integers(0, 200), max_size=8),
       st.sampled_from(sorted(FRAMERS)), st.integers(1, 80), st.integers(1, 5))
def test_any_markup_split_anywhere_frames_as_fed_whole(
    data: bytes, cuts: list[int], kind: str, reach: int, tags: int
) -> None:
    check(kind, data, cuts, reach, tags)


@SETTINGS
@given(st.lists(st.tuples(JUNK, EVENTS, st.booleans(), st.integers(0, 10_000),
                          st.integers(0, 3), st.integers(0, 255)), min_size=1, max_size=5),
       st.lists(st.integers(0, 3000), max_size=6), st.sampled_from(sorted(FRAMERS)))
def test_serialised_elements_some_damaged_split_anywhere_frame_as_fed_whole(
    items: list[tuple[str, Any, bool, int, int, int]], cuts: list[int], kind: str
) -> None:
    stream = b"".join(
        junk.encode() + (_damage(serialise(e), pos, act, byte) if damaged else serialise(e))
        for junk, e, damaged, pos, act, byte in items
    )
    check(kind, stream, cuts)


def burst(count: int) -> bytes:
    """`count` sets of one number vector, differing in value and timestamp, as
    bench/burstpath.py feeds them: the serialiser's lines, each member indented by two spaces
    as the traffic driver writes it."""
    return b"".join(
        serialise(SetNumberVector("Bench", "NUM", (Number("v", str(i)),), state=State.OK,
                                  timestamp=f"2026-11-23T06:33:42.{i % 1000:03d}"))
        .replace(b"\n<oneNumber", b"\n  <oneNumber")
        for i in range(count)
    )


def test_a_burst_in_64_kib_reads_is_framed_by_the_fast_path_with_the_same_frames() -> None:
    """Each read but the first begins inside an element: only that element's rest and the
    last element's start are scanned, not the whole read (as before: every byte of it)."""
    data = burst(5000)
    framer = Framer(stream_tags={"setBLOBVector"}, known_tags=INDI_TAGS)
    scanned = [0]
    scan = framer._scanner._scan

    def counting_scan(work: Any, out: list[Any], pos: int = 0) -> int:
        scanned[0] += len(work) - pos
        return scan(work, out, pos)

    framer._scanner._scan = counting_scan  # type: ignore[method-assign]
    step = 65536
    out = feed_split(framer, data, list(range(step, len(data), step)))
    assert summary(out) == whole("blobs", data)  # as fed whole, which never scans
    assert len(out) == 5000
    reads = len(data) // step + 1
    assert scanned[0] < reads * 400, (scanned[0], len(data))  # a few tags per read, no more


def test_a_blob_streamed_across_reads_is_left_to_the_scanner() -> None:
    """An element handed out in pieces (a BLOB) is never split off: its reads go on as
    pieces, and the small elements after it still come out whole."""
    blob = (b'<setBLOBVector device="Cam" name="CCD1"><oneBLOB name="CCD1" size="9000" '
            b'format=".fits">' + b"QUJD" * 30_000 + b"</oneBLOB></setBLOBVector>\n")
    data = burst(100) + blob + burst(200)
    cuts = list(range(5000, len(data), 5000))
    framer = FRAMERS["blobs"]()
    out = summary(feed_split(framer, data, cuts))  # the real thresholds: reads of 5000 bytes
    assert out == split_before("blobs", data, cuts)
    assert [x[0] for x in out].count("streamed") == 1
    assert len(out) == 302
