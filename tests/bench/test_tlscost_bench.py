"""bench/tlscost.py: CPU per round trip of our server, its driver and the client, plain port
against TLS; a broken bench must not print a figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tlscost.py"


def test_the_bench_times_both_ports_cpu_per_trip() -> None:
    """Twelve short blocks each way, all on one CPU (``--pin 0``: where the scheduler puts
    whom on a busy machine inverted the comparison, 3 blocks unpinned failed in CI), the least
    block of each compared: a row per port, each figure positive, and the TLS server
    spending more per trip than the plain one (it decrypts and encrypts every trip: a bench
    that measured the wrong process or port would not see it)."""
    done = subprocess.run([sys.executable, str(BENCH), "--blocks", "12", "--trips", "200",
                           "--pin", "0"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2:6] for line in done.stdout.splitlines()
            if line.startswith("| ours")}
    assert set(rows) == {"ours plain", "ours TLS"}
    least = {kind: [float(cell.split("/")[0]) for cell in cells] for kind, cells in rows.items()}
    assert all(x > 0 for cells in least.values() for x in cells)
    assert least["ours TLS"][0] > least["ours plain"][0]
    assert "load average" in done.stdout
