"""bench/mqttblobs.py runs the bridges as deployed against a bare aiomqtt pair; these short runs
check that each arrangement it offers delivers every BLOB and value it times (it raises
when one is missing), so the figures in bench/RESULTS.md measure complete transfers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mqttblobs.py"


@pytest.mark.parametrize("feed", ["direct", "server"])
def test_a_short_run_of_each_feed_reports_both_paths_and_the_value_bursts(feed: str) -> None:
    """With the driver behind our server or serving the site itself, two runs of 3 BLOBs
    and of 300 values cross mosquitto and the bridges whole, and the table has both rows."""
    done = subprocess.run([sys.executable, str(BENCH), "--feed", feed, "--count", "3",
                           "--size", "200000", "-r", "2", "--numbers", "300"],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    first = "trafficdriver" if feed == "direct" else "indipyserver"
    assert re.search(rf"\| {first} -> inditomqtt -> mosquitto -> mqtttoport -> client "
                     r"\| [0-9.]+ \|", done.stdout)
    assert re.search(r"\| aiomqtt publisher -> mosquitto -> aiomqtt subscriber \| [0-9.]+ \|",
                     done.stdout)
    assert re.search(r"bursts of 300 setNumberVector through the bridge: [0-9,]+ msg/s",
                     done.stdout)
