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


def test_the_imagebytes_bench_downloads_the_whole_frame_and_the_plain_bytes() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "alpaca_imagebytes.py"), "--size", "64", "-r", "2"],
        capture_output=True, text=True, timeout=240, check=True,
    ).stdout
    assert f"({64}x{64} 16-bit, {44 + 2 * 64 * 64} bytes)" in out
    for title in ("ImageBytes, the first", "ImageBytes through the face",
                  "plain: Response of the bytes", "plain: FileResponse"):
        assert re.search(rf"^\| {re.escape(title)}[^|]* \| \d+ \| \d+ \|$", out, re.MULTILINE)
    assert re.search(r"face / plain bytes [\d.]+, face / plain file [\d.]+ \(target >= 0.8\)",
                     out)
