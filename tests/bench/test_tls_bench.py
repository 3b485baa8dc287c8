"""bench/tls.py (issue 60 item 8): BLOBs through our TLS port, our plain port and indiserver behind
stunnel4, and round trips over TLS and plain; a broken bench must not print a figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tls.py"


def test_the_bench_streams_through_all_three_and_times_the_round_trips() -> None:
    """One short rep: a row per server with a positive speed, round trip figures for ours
    plain and TLS, the three ratios against the issue's bars and the load average."""
    done = subprocess.run([sys.executable, str(BENCH), "-r", "1", "--count", "3", "--trips",
                           "100"], capture_output=True, text=True, timeout=300, check=False)
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
