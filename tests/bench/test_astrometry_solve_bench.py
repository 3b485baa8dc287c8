"""bench/astrometry_solve.py (issue 80 item 7): a hinted solve, a blind one and one CENTER
from a pointing error, each figure printed with its target and the verdict."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "astrometry_solve.py"


@pytest.mark.timeout(600)
def test_one_of_each_is_measured_and_judged() -> None:
    """Each figure is printed with its target, and the smallest honest targets hold (issue
    90 item 8: a run that passed whatever the figures were could not fail): the one hinted
    and the one blind solve each solved, and the one CENTER ended within 30" in at most 3
    tries (the target's 100 % of 1; a seeded error, so the same field each run). The
    solve times' targets are printed and judged, not asserted: they are wall seconds of a
    CPU-bound solver, which the suite's other workers on a shared machine lengthen (the
    suite's rule: speed is measured in bench/, not asserted in tests)."""
    done = subprocess.run([sys.executable, str(BENCH), "--hinted", "1", "--blind", "1",
                           "--targets", "1", "--max-error", "30", "--seed", "3"],
                          capture_output=True, text=True, timeout=540, check=False,
                          env={**os.environ, "PYTHONPATH": str(BENCH.parents[1])})
    out = done.stdout
    for kind, target in (("hinted", "the agent's hinted median <= 5 s"),
                         ("blind", "each of the agent's blind solves <= 60 s")):
        cpu = {}
        for path in ("stars", "image"):  # the agent's star list first, the image its fallback
            found = re.search(rf"^{kind} by {path}: wall median [\d.]+ s, .*, 0 failed of 1; "
                              r"CPU median ([\d.]+) s, .*, 0 failed of 1$", out, re.MULTILINE)
            assert found, out
            cpu[path] = float(found[1])
        assert cpu["stars"] < cpu["image"], out  # the star list spares image2xy's CPU
        assert f"(target: {target})" in out, out
    assert re.search(r"^center: 100% within 30\" in at most 3 tries", out, re.MULTILINE), out
    last = out.rstrip().splitlines()[-1]
    assert last == "all targets met" or last.startswith("missed: "), last
    assert done.returncode == (0 if last == "all targets met" else 1), done.stderr
