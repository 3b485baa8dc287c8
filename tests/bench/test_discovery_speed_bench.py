"""bench/discovery_speed.py (issue 73 item 6): every server announced on lo is listed in each
rep, with the time to the first and to the last, and the medians against the targets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "discovery_speed.py"


def test_each_rep_lists_every_server_and_the_medians_are_printed() -> None:
    """Two avahi-publish'd services and the Alpaca face: each rep complete, medians said."""
    # Listings of 5 s: at load 8.7 a fresh-clone run saw one of 2 s miss a server (the
    # bench's figures are its own business; this test is about its output).
    done = subprocess.run([sys.executable, str(BENCH), "--reps", "2", "--avahi", "2",
                           "--ours", "0", "--timeout", "5"], capture_output=True, text=True,
                          timeout=280, check=False,
                          env={**os.environ, "INDIPY_MDNS_INTERFACES": "lo"})
    assert done.returncode == 0, done.stderr
    reps = re.findall(r"^rep \d: first (\d+) ms, complete (\d+) ms, (\d+) listed$", done.stdout,
                      re.MULTILINE)
    assert len(reps) == 2, done.stdout
    assert all(int(first) <= int(last) and int(count) >= 3 for first, last, count in reps)
    assert "incomplete listings 0/2" in done.stdout
    assert re.search(r"median first found \d+ ms .* median complete \d+ ms", done.stdout)
