"""bench/burstpath.py routes a real burst through the server's objects; a broken bench must not
report a figure."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from serverkit import library_elsewhere
from serverkit import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "burstpath.py"


def test_every_set_reaches_every_client_exactly_in_reads_that_split_elements() -> None:
    burstpath = load_bench("burstpath")
    data = burstpath.burst(500)
    elapsed, written = asyncio.run(burstpath.measure(data, 4096 + 7, 3))
    assert elapsed > 0
    # Each element went on as received (the newlines between elements aside): nothing
    # dropped, duplicated or rebuilt, for each of the three clients.
    assert written == [data.replace(b">\n<", b"><").rstrip(b"\n")] * 3


def test_the_command_measures_the_checkout_it_is_pointed_at(tmp_path: Path) -> None:
    """--ours-root must take the server from that folder, not from this checkout."""
    other = library_elsewhere(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH), "-n", "2000", "-r", "1", "--ours-root", str(other)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"({other})" in done.stdout and "us per set" in done.stdout
