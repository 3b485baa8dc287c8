"""bench/fleet.py loads the central side with a fleet of sites; these short runs check that
each arrangement it offers (cheap sites, sites as deployed, the sites shared by two
mqtttoredis processes) gets every site's devices into redis and times their values, so the
figures in bench/RESULTS.md measure a complete fleet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fleet.py"


@pytest.mark.parametrize("options", [[], ["--deployed"], ["--central", "2"]],
                         ids=["cheap", "deployed", "two-shares"])
def test_a_short_run_stores_every_device_and_reports_each_central_process(
        options: list[str]) -> None:
    """Five sites for a few seconds (with two shares: four in one, one in the other): all 50
    devices stored, values stored at about the rate offered (50 a second), and a
    CPU-per-message row with messages for each mqtttoredis, mosquitto and redis-server."""
    done = subprocess.run([sys.executable, str(BENCH), "-n", "5", "--seconds", "4",
                           "--settle", "60", *options],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    row = re.search(r"^\s+5\s+(\d+)\s+50\s+(\d+)\s", done.stdout, re.MULTILINE)
    assert row is not None, done.stdout
    assert int(row.group(1)) == 50, done.stdout
    assert 35 <= int(row.group(2)) <= 65, done.stdout
    centrals = 2 if "--central" in options else 1
    for k in range(1, centrals + 1):
        assert re.search(rf"^\s+5 mqtttoredis {k}\s+[0-9.]+\s+[1-9]\d*\s+[0-9.]+", done.stdout,
                         re.MULTILINE), done.stdout
    for name in ("mosquitto", "redis-server"):
        assert re.search(rf"^\s+5 {name}\s", done.stdout, re.MULTILINE), done.stdout


def test_with_the_web_client_an_open_page_and_chromium_are_timed_too() -> None:
    """``--web --browser``: the web client over redis is one more central process with its CPU
    a message, and an SSE page and a chromium page each report updates timed from the driver
    (p50, p99, max), as item 1 asks of the benchmark."""
    done = subprocess.run([sys.executable, str(BENCH), "-n", "5", "--seconds", "4", "--settle",
                           "60", "--web", "--pages", "1", "--browser", "--warm", "3"],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\s+5 web client\s+[0-9.]+\s+[1-9]\d*\s+[0-9.]+", done.stdout,
                     re.MULTILINE), done.stdout
    for page in ("1 SSE pages", "chromium page"):
        row = re.search(rf"^\s+5 {page}\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)$",
                        done.stdout, re.MULTILINE)
        assert row is not None, done.stdout
        assert int(row.group(1)) > 0 and 0 < float(row.group(2)) <= float(row.group(4))
