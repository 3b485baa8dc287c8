"""bench/inprocblobs.py compares two ways to the same base64: the driver's encoding and the
server's, step by step, of a memfd holding the image (what it times must be what clients get)."""

from __future__ import annotations

import base64
import os

from serverkit import load_bench


def test_both_ways_give_the_same_base64() -> None:
    bench = load_bench("inprocblobs")
    for size in (1, 3 * 64 * 1024, 3 * 64 * 1024 + 2, 1_000_001):
        data = os.urandom(size)
        assert b"".join(bench.attached(data)) == b"".join(bench.direct(data)) \
            == base64.b64encode(data)
