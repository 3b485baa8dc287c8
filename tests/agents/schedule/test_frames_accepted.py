"""Issue 93 item 2: the scheduler's frames done, across nights, count accepted frames only.
A night's journal (one journal holds every night of a scheduled plan) where frames were saved,
one graded rejected and another accepted, read back as a restart reads it (`reconcile`): the
rejected frame's step is not done, so `remaining_after` (what a re-plan schedules, tonight or
a later night) leaves it to take; once it is taken again and accepted it counts."""

from __future__ import annotations

import hashlib
from pathlib import Path

from indipyagents.journal import FrameStore
from indipyagents.journal import Journal
from indipyagents.journal import reconcile
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frame_steps
from indipyagents.schedule.frames import remaining_after

PLAN = Plan("graded", (Target("M42", None, None, (Batch(3, 60.0, "Red"),
                                                   Batch(2, 60.0, "Green"))),),
            Devices(camera="CCD", wheel="Wheel"))


def test_a_rejected_frame_is_left_for_another_night(tmp_path: Path) -> None:
    store = FrameStore(tmp_path / "frames")
    steps = frame_steps(expand(PLAN))
    with Journal(tmp_path / "night.journal") as journal:
        journal.start("graded", 'name = "graded"\n')

        def take(index: int, verdict: str) -> None:
            step, file = steps[index]
            data = f"{step} {verdict}".encode()
            journal.begin(step)
            store.save(file, data, overwrite=True)
            journal.frame_saved(step, file, len(data), hashlib.sha256(data).hexdigest())
            journal.done(step)
            journal.frame_graded(step, file, {"stars": 10}, verdict,
                                 ["HFR 3.0 > 1.5 x median 1.9"] if verdict == "rejected" else [])
            if verdict == "rejected":
                store.path(file).unlink()  # moved aside

        take(0, "accepted")
        take(1, "rejected")
        take(3, "accepted")
        done = reconcile(journal.state(), store, steps, journal)
        assert remaining_after(PLAN, done) == ((2, 1),)  # Red 002 and 003 left, Green 002
        take(1, "accepted")
        done = reconcile(journal.state(), store, steps, journal)
        assert remaining_after(PLAN, done) == ((1, 1),)
