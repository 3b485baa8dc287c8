"""The benchmarks' raw client counts what it was sent, however the stream is cut into reads.

Its counts are the benchmarks' evidence (a BLOB delivered, an exposure done), and it skips
most of a BLOB's base64 to stay cheaper than the servers it measures: a skipped region must
never hide a pattern.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from rawclient import Counter

BASE64 = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkw" * 60  # no '<' or '>'


def blob(text: bytes) -> bytes:
    return (b"<setBLOBVector device='CCD Simulator' name='CCD1'>\n<oneBLOB name='CCD1' "
            b"size='3' format='.fits'>" + BASE64 * 8 + b"</oneBLOB>\n</setBLOBVector>\n"
            b"<setNumberVector device='CCD Simulator'\n  name='CCD_EXPOSURE'\n  state='Ok'>"
            b"<oneNumber name='V'>0</oneNumber></setNumberVector>\n"
            b"<message device='d' message='x'/><setTextVector device='d' name='t'><oneText "
            b"name='a'>" + text + b"</oneText></setTextVector>\n")


STREAM = blob(b"done r1") + blob(b"x" * 3000 + b"done r2") + blob(b"done r3")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=40))
def test_counts_do_not_depend_on_where_reads_end(cuts: list[int]) -> None:
    """Every pattern is counted once per occurrence wherever the reads cut the stream,
    the text after a long tag-free run and an attribute after a cut inside a tag included."""
    counter = Counter()
    counter.watch("ok", b"name='CCD_EXPOSURE'\n  state='Ok'")
    counter.watch("done", b"done r")
    points = sorted({0, len(STREAM), *cuts})
    for a, b in itertools.pairwise(points):
        counter.feed(STREAM[a:b], 0.0)
    assert counter.counts["setBLOB"] == 3
    assert counter.counts["setNumber"] == 3
    assert counter.counts["setText"] == 3
    assert counter.counts["ok"] == 3
    assert counter.counts["done"] == 3


def test_a_chunk_of_base64_alone_counts_nothing() -> None:
    """A long read inside a BLOB's body counts no pattern (and needs no scan)."""
    counter = Counter()
    counter.feed(BASE64 * 100, 0.0)
    assert all(v == 0 for v in counter.counts.values())
    assert counter.nbytes == len(BASE64) * 100
