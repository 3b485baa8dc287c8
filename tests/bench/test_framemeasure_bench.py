"""bench/framemeasure.py (issue 93 item 7) at its smallest honest size: a 1280 x 1024 frame of
our camera simulator's code with 300 stars, measured twice on one core. The figure is printed
with its target and verdict, the verdict held, and the exit status says whether it was
missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from serverkit import run_bench


@pytest.mark.timeout(120)
def test_the_measure_is_timed_and_judged(tmp_path: Path) -> None:
    done = run_bench("framemeasure.py", "--width", "1280", "--height", "1024", "--stars", "300",
                     "--runs", "2", folder=tmp_path, timeout=100)
    out = done.stdout
    stars = re.search(r"^measured: (\d+) stars, HFR [\d.]+ px, FWHM [\d.]+\"", out, re.MULTILINE)
    assert stars and int(stars[1]) > 100, out + done.stderr
    figure = re.search(r"^measure a 1\.3 MP frame, one core: median ([\d.]+) s of 2 .* "
                       r"\(target: under 10 s, with stars found\) -> (PASS|FAIL)$", out,
                       re.MULTILINE)
    assert figure and float(figure[1]) < 10 and figure[2] == "PASS", out
    assert out.rstrip().splitlines()[-1] == "all targets met", out
    assert done.returncode == 0, done.stderr
