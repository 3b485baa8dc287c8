"""bench/alpaca_polling.py and bench/alpaca_imagebytes.py at a tiny size: the figures of issue
59's item 6 rest on them, so each must still start our server with the face, drive it as
its table says (pollers that really polled, a frame really exposed and downloaded whole) and
print the table and the ratios."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_polling_bench_times_both_arms_with_pollers_that_polled() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "alpaca_polling.py"), "-r", "2", "-n", "30", "--settle",
         "0", "--clients", "2", "--hz", "5", "--members", "2"],
        capture_output=True, text=True, timeout=240, check=True,
    ).stdout
    rows = re.findall(r"^\| (\d) \| (\w+) \| (\d+) \| (\d+) \| ([\d.]+) \| (\d+) \| (\d+) \| "
                      r"([\d.]+) \| (\d+) \| (\d+) \|", out, re.MULTILINE)
    assert [(rep, first) for rep, first, *_ in rows] == [("1", "quiet"), ("2", "polled")]
    for row in rows:
        assert all(int(t) > 0 for t in row[2:4] + row[5:7])
        assert int(row[8]) > 0, "the pollers made no request"
        assert row[9] == "0", "some Alpaca requests failed"
    assert "2 Alpaca clients at 5 Hz, 2 GETs each poll" in out
    assert re.search(r"polled/quiet p99: median [\d.]+, geometric mean [\d.]+", out)


def test_the_imagebytes_bench_times_fresh_frames_with_round_trips_beside_them() -> None:
    """At a tiny size, one arm: the fresh frame (from the image reaching the face, as the
    child reported it, to the end of its download), the repeated download and both plain
    payloads are timed, round trips really ran beside the fresh frames and the plain
    download, and the ratios are printed with their targets."""
    out = subprocess.run(
        [sys.executable, str(BENCH / "alpaca_imagebytes.py"), "--size", "64", "-r", "2"],
        capture_output=True, text=True, timeout=240, check=True,
    ).stdout
    assert f"| {64}x{64} 16-bit, {44 + 2 * 64 * 64} bytes, median of 2 |" in out
    row = re.search(r"^\| after \(this checkout\) \| (\d+) \| (\d+) \| ([\d.]+) \| (\d+) \| "
                    r"(\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", out, re.MULTILINE)
    assert row, out
    fresh, to_ready = int(row[1]), int(row[2])
    assert fresh >= to_ready
    assert float(row[3]) > 0 and float(row[9]) > 0, "no round trip ran beside a download"
    trips = re.search(r"worst INDI round trip meanwhile [\d.]+ ms of (\d+) \(target <= 20\)",
                      out)
    assert trips and int(trips[1]) > 0, out
    assert re.search(r"fresh / plain bytes [\d.]+ \(target <= 6\)", out)
