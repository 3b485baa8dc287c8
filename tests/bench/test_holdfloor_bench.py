"""bench/holdfloor.py bounds the never-reading scenario's ratio; its three ways of reading must
each pass every byte, or the bound it prints would compare a broken run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from serverkit import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "holdfloor.py"


@pytest.mark.parametrize("mode", ["one buffer", "held pieces", "held copies"])
def test_each_way_of_reading_passes_every_byte_and_times_it(mode: str) -> None:
    holdfloor = load_bench("holdfloor")
    blob = os.urandom(1 << 20)
    cpu, wall = holdfloor.forward(mode, blob, 5_500_000)  # ends inside a BLOB
    assert cpu > 0 and wall > 0


def test_the_command_prints_one_row_a_way_and_the_bound() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "-r", "1", "--count", "20", "--blob-mib", "1", "--fresh"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("|") for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| reads")]
    assert [r[1].strip() for r in rows] == ["one buffer", "held pieces", "held copies"]
    assert rows[0][4].strip() == "1.000"
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    assert "is held to" in done.stdout and "fresh memory" in done.stdout
