"""bench/wakecost.py (issue 61 item 2): the central bridge's own work on one message, timed
back to back and after each gap, beside a reference that is not the bridge's code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "wakecost.py"


def test_each_work_is_timed_back_to_back_and_at_each_gap_with_its_ratio() -> None:
    """A row per work and gap, a positive CPU time, the ratio 1.0 at gap 0 and the load."""
    done = subprocess.run([sys.executable, str(BENCH), "-n", "50", "--at-gap", "5", "--gaps",
                           "0", "0.002"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", done.stdout,
                      re.MULTILINE)
    assert [(work, gap) for work, gap, _, _ in rows] == [
        ("mqtttoredis store path", "0"), ("mqtttoredis store path", "2"),
        ("json reference", "0"), ("json reference", "2")]
    assert all(float(cpu) > 0 for _, _, cpu, _ in rows)
    assert rows[0][3] == "1.0" and rows[2][3] == "1.0"
    assert "load average" in done.stdout
