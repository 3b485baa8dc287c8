"""bench/cloud_night.py (issue 93 item 7) at its smallest honest size: two light frames of 1 s
asked, three exposures, the second through cloud (our camera simulator's SIM_CLOUDS set by the
bench), indiserver, our camera and our imager agent as processes of their own. Each figure is
printed with its target and verdict, the verdicts are held, and the exit status says whether
one was missed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from serverkit import run_bench


@pytest.mark.timeout(180)
def test_the_night_through_cloud_ends_with_the_frames_asked_none_clouded(tmp_path: Path) -> None:
    done = run_bench("cloud_night.py", "-n", "2", "--exposure", "1", folder=tmp_path,
                     timeout=160)
    out = done.stdout
    verdict = r"-> (PASS|FAIL)$"
    night = re.search(r"^night: Ok done; 3 exposures, 3 frames saved, 2 accepted, 1 rejected",
                      out, re.MULTILINE)
    assert night, out + done.stderr
    for figure in (r"accepted frames: 2 \(target: exactly 2, the night Ok\) ",
                   r"clouded accepted: 0 of 3 verdicts for 3 exposures \(target: 0, a verdict "
                   r"each\) ",
                   r"stars of the accepted frames: median [\d.]+, least \d+ \(target: each at "
                   r"least 0.7 x the median\) ",
                   r"exposures through cloud: 1 of 3 \(target: a third\) "):
        found = re.search("^" + figure + verdict, out, re.MULTILINE)
        assert found and found[1] == "PASS", (figure, out)
    assert out.rstrip().splitlines()[-1] == "all targets met", out
    assert done.returncode == 0, done.stderr
