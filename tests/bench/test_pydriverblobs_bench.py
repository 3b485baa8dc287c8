"""bench/pydriverblobs.py compares a Python driver's BLOBs as memfds and inline through both
servers; these short runs check that every BLOB it times reaches its client in each mode
(it raises when one is missing), over TCP and on the Unix socket."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pydriverblobs.py"


@pytest.mark.parametrize("client", ["tcp", "unix"])
def test_a_short_run_reports_both_modes_for_both_servers(client: str) -> None:
    """Two BLOBs a run, each mode on each server: the table has a row per server with a
    speed for memfd and for inline."""
    done = subprocess.run([sys.executable, str(BENCH), "--client", client, "--count", "2",
                           "--size", "300000", "-r", "1"],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    for server in ("ours", "indiserver"):
        assert re.search(rf"\| {server} \| [0-9,]+ \([0-9,]+-[0-9,]+\) \| [0-9,]+ "
                         r"\([0-9,]+-[0-9,]+\) \| [0-9.]+ \|", done.stdout), done.stdout
