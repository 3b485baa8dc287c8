"""bench/slowcost.py measures our server's CPU and page faults beside a never-reading client;
a broken bench must not print a figure."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
from pathlib import Path

from serverkit import library_elsewhere
from serverkit import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "slowcost.py"


def test_usage_reads_this_process_cpu_and_faults_as_they_grow() -> None:
    slowcost = load_bench("slowcost")
    cpu0, faults0 = slowcost.usage(os.getpid())
    # A fresh mapping, each of its 2048 pages written: faults, whatever the heap had free.
    with mmap.mmap(-1, 8 << 20) as fresh:
        for at in range(0, len(fresh), mmap.PAGESIZE):
            fresh[at] = 1
    sum(range(200_000))
    cpu1, faults1 = slowcost.usage(os.getpid())
    assert cpu1 > cpu0 > 0
    assert faults1 - faults0 >= 1000


def test_the_command_streams_to_both_kinds_of_server_and_reports_each_stream(
    tmp_path: Path,
) -> None:
    """One round, two short streams per server, for a library given by folder."""
    other = library_elsewhere(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH), f"ours={other}", "-r", "1", "--streams", "2",
         "--count", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith(f"| ours={other} |")]
    assert [row.split("|")[2:4] for row in rows] == [
        [" fast alone ", " 1 "], [" fast alone ", " 2 "],
        [" fast + never-reading ", " 1 "], [" fast + never-reading ", " 2 "],
    ]
    for row in rows:
        speed, cpu, faults = (float(x.replace(",", "")) for x in row.split("|")[4:7])
        assert speed > 0 and cpu > 0 and faults >= 0
