"""Issue 93 item 2: a graded night killed with SIGKILL right after a frame was rejected, and
started again with the same command (no client action), keeps every verdict.

Our server as a child process holds the imager agent and our camera, focuser (with its wheel)
and mount simulators; indilib's ``indi_setprop``/``indi_getprop`` are the only client. The
plan asks three 0.5 s frames through Red, graded by ``hfr_ratio = 1.5`` once one is accepted.
After the first accepted verdict the focuser simulator's best position is moved far from the
focuser; at the first rejected verdict the whole server is killed. Started again (the
simulators in focus again), the night ends Ok with three accepted frames in lights/Red, the
rejected ones in rejected/Red, none at its own name, and the journal's verdicts from before the
kill still there: the state the resume folds counts each step's rejections and acceptances,
and every rejected step was taken again after it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from agentkit import write_plan
from powercutkit import Rig
from powercutkit import frames_on_disk
from powercutkit import night_plan
from waiting import wait_for

from indipyagents.journal import Journal
from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipysimulators import focus

FRAMES = [f"lights/Red/High_Red_Light_{n:03d}.fits" for n in range(1, 4)]


def verdicts(folder: Path) -> list[dict[str, Any]]:
    found = []
    for journal in folder.glob(".journal/*.journal"):
        for line in journal.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:  # a line being written
                continue
            if record.get("kind") == "graded":
                found.append(record)
    return found


@pytest.mark.timeout(300)
def test_a_graded_night_killed_after_a_rejection_keeps_every_verdict(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    plan = night_plan("night", count=3, dither=False)
    plan = replace(plan, targets=(replace(plan.targets[0], batches=(Batch(3, 0.5, "Red"),)),),
                   devices=replace(plan.devices, focuser=focus.FOCUSER),
                   grading=Grading(hfr_ratio=1.5, min_frames=1))
    path = write_plan(tmp_path / "plan.toml", plan)
    folder = rig.images / "night"
    try:
        rig.start()
        rig.load_and_start(path)
        wait_for(lambda: any(r["verdict"] == "accepted" for r in verdicts(folder)), 90,
                 lambda: f"a frame accepted\n{rig.log_tail()}", interval=0.05)
        rig.set(f"{focus.FOCUSER}.FOCUS_SIMULATION.BEST_POSITION={focus.START + 400}")
        wait_for(lambda: any(r["verdict"] == "rejected" for r in verdicts(folder)), 90,
                 lambda: f"a frame rejected\n{rig.log_tail()}", interval=0.005)
        rig.kill_all()
        before = verdicts(folder)
        rig.start()  # the same command; no client action follows
        rig.wait_seen("Ok", at_least=3, timeout=120)
        after = verdicts(folder)
        assert after[:len(before)] == before  # every verdict before the kill kept
        state = Journal(next(folder.glob(".journal/*.journal"))).state()
        assert state.finished
        assert sum(state.rejected.values()) == len([r for r in after
                                                    if r["verdict"] == "rejected"]) >= 1
        accepted = [r["file"] for r in after if r["verdict"] == "accepted"]
        assert sorted(set(accepted)) == FRAMES
        for step in state.rejected:
            last = [r for r in after if r["step"] == step][-1]
            assert last["verdict"] == "accepted", (step, after)  # taken again, accepted
        on_disk = frames_on_disk(folder)
        assert [name for name in on_disk if name.startswith("lights/")] == FRAMES
        aside = [name for name in on_disk if name.startswith("rejected/")]
        assert len(aside) == sum(state.rejected.values()), on_disk
        assert all(name.startswith("rejected/Red/") for name in aside)
    finally:
        rig.stop()
