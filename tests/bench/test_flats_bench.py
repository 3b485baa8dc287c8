"""bench/flats.py (issue 92 item 9) at its smallest honest size: one rep, one flat through
each of its four filters (binned 2: the test exposures a level needs do not hang on the
binning), our server and the imager agent as processes of their own. Each figure is printed
with its target and verdict, the verdicts are held, and the exit status says whether one was
missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from serverkit import run_bench


@pytest.mark.timeout(180)
def test_each_figure_is_measured_and_judged(tmp_path: Path) -> None:
    """At most 3 test exposures a filter on the first night, none on the next (the
    exposures learnt), each night's flats all kept."""
    done = run_bench("flats.py", "-r", "1", "-n", "1", "--binning", "2", folder=tmp_path,
                     timeout=160)
    out = done.stdout
    verdict = r"(PASS|FAIL)$"
    rep = re.search(r"^rep 1: first night tests (\{.*\}) kept (\d+) in [\d.]+ s; "
                    r"next night tests (\{.*\}) kept (\d+) in [\d.]+ s$", out, re.MULTILINE)
    assert rep, out + done.stderr
    assert rep[2] == rep[4] == "4", out  # a flat through each filter, both nights
    first = re.search(r"^test exposures a filter, first night: median [\d.]+, max (\d+) "
                      r"\(target: at most 3\) -> " + verdict, out, re.MULTILINE)
    assert first and int(first[1]) <= 3 and first[2] == "PASS", out
    following = re.search(r"^test exposures a filter, next night: max (\d+) \(target: 0\) -> "
                          + verdict, out, re.MULTILINE)
    assert following and following[1] == "0" and following[2] == "PASS", out
    for night in ("first", "next"):
        assert re.search(rf"^{night} night, 4 filters x 1 flats: median [\d.]+ s", out,
                         re.MULTILINE), out
    assert out.rstrip().splitlines()[-1] == "all targets met", out
    assert done.returncode == 0, done.stderr
