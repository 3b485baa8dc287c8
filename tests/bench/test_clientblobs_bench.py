"""bench/clientblobs.py times our client library taking a Python driver's BLOBs over TCP and
on the server's Unix socket; a short run checks that each way reaches every BLOB whole through
both servers, and that on the Unix socket every one came as a memfd (the bench raises
otherwise)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "clientblobs.py"


def test_a_short_run_reports_both_ways_for_both_servers() -> None:
    """Two BLOBs a run: the table has a row per server and way, with a speed and the
    client's CPU per BLOB."""
    done = subprocess.run([sys.executable, str(BENCH), "--count", "2", "--size", "300000",
                           "-r", "1"],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    for server in ("ours", "indiserver"):
        for way in ("tcp", "unix"):
            assert re.search(rf"\| {server} \| {way} \| [0-9,]+ \([0-9,]+-[0-9,]+\) \| "
                             r"[0-9.]+ \([0-9.]+-[0-9.]+\) \|", done.stdout), done.stdout
