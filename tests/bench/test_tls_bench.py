"""bench/tls.py (issue 60 item 8): BLOBs through our TLS port, our plain port and indiserver behind
stunnel4, and round trips over TLS and plain; a broken bench must not print a figure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tls.py"


def test_the_bench_streams_through_all_three_and_times_the_round_trips() -> None:
    """One short rep: a row per server with a positive speed, round trip figures for ours
    plain and TLS, the three ratios against the issue's bars and the load average."""
    done = subprocess.run([sys.executable, str(BENCH), "-r", "1", "--count", "3", "--trips",
                           "100", "--rt-reps", "2"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|") for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| server")}
    assert set(rows) == {"ours plain", "ours TLS", "indiserver+stunnel"}
    for name, cells in rows.items():
        assert float(cells[2].replace(",", "")) > 0
        if name != "indiserver+stunnel":
            assert float(cells[4].replace(",", "")) > 0
    assert "load average" in done.stdout
    assert "TLS / plain BLOBs" in done.stdout and "round trip p50 TLS / plain" in done.stdout
    # The round trip's figure is the median of the per-pair ratios (module doc), with its range.
    assert re.search(r"round trip p50 TLS / plain [\d.]+ \(bar <= 1.2; median of 2 pairs, "
                     r"range [\d.]+-[\d.]+, <= 1.2 in \d\)", done.stdout)
    # A row a pair on stderr, the start order alternated.
    assert re.findall(r"^\| (\d) \| ([AB]) \|", done.stderr, re.MULTILINE) == [("1", "A"),
                                                                              ("2", "B")]


def test_an_a_a_run_times_plain_against_plain_without_blobs() -> None:
    """``--aa``: the noise floor of the round trip's ratio, plain against plain, no BLOBs."""
    done = subprocess.run([sys.executable, str(BENCH), "--aa", "--trips", "50", "--rt-reps",
                           "2"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "MB/s" not in done.stderr
    assert re.search(r"A/A, ours plain against itself: B/A p50: median [\d.]+ \(range "
                     r"[\d.]+-[\d.]+\)", done.stdout)


def test_trips_only_in_blocks_times_both_ports_without_blobs() -> None:
    """``--trips-only --block N``: no BLOB is streamed, both ports get their round trips, N in
    a row each, and the figures say so."""
    done = subprocess.run([sys.executable, str(BENCH), "--trips-only", "--trips", "40",
                           "--rt-reps", "1", "--block", "20"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "MB/s" not in done.stderr and "(20 in a row)" in done.stdout
    rows = {line.split("|")[1].strip(): line.split("|") for line in done.stdout.splitlines()
            if line.startswith("| ours")}
    for name in ("ours plain", "ours TLS"):
        assert rows[name][2].strip() == "-" and float(rows[name][4].replace(",", "")) > 0
