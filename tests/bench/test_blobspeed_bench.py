"""bench/blobspeed.py times BLOB streams with each process's CPU, for several servers
alternated; a broken bench must not print a figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from serverkit import library_elsewhere, load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "blobspeed.py"


def test_cpu_ms_reads_all_threads_of_this_process_as_they_work() -> None:
    blobspeed = load_bench("blobspeed")
    before = blobspeed.cpu_ms(os.getpid())
    end = before + 50
    while blobspeed.cpu_ms(os.getpid()) < end:  # the clock ticks in steps of 10 ms
        sum(range(100_000))
    assert blobspeed.cpu_ms(os.getpid()) >= end


def test_the_command_streams_through_indiserver_and_two_libraries(tmp_path: Path) -> None:
    """One rep of three short streams for indiserver, this checkout and a library by folder:
    one row each with a positive speed. CPU times are read in clock ticks of 10 ms, so a
    process that did little in three BLOBs (the pre-encoded driver) may show 0; never less."""
    other = library_elsewhere(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH), "indiserver", "ours", f"ours={other}", "-r", "1",
         "--count", "3"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| server")}
    assert set(rows) == {"indiserver", "ours", f"ours={other}"}
    for row in rows.values():
        speed, server, driver, client = (float(x.replace(",", "")) for x in row.split("|")[2:6])
        assert speed > 0 and server >= 0 and driver >= 0 and client >= 0


def test_an_unknown_server_is_refused_before_anything_starts() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "nginx"], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode != 0 and "unknown library 'nginx'" in done.stderr
