"""bench/parse_scaling.py parses whole elements of each size and reports a time for each."""

from __future__ import annotations

from serverkit import load_bench


def test_every_size_is_parsed_whole_and_timed() -> None:
    """The bench checks each parse before timing it; a broken one must not report a figure."""
    bench = load_bench("parse_scaling")
    times = bench.measure((1, 2), repeat=1)
    assert sorted(times) == [1, 2] and all(t > 0 for t in times.values())
