"""Issue 93 item 1 in the engine: the night's measuring worker (`stars.measureworker`) killed
while the night runs (SIGKILL as the third exposure starts, the second frame's measure just
sent) never stops the night: the frame it measured, if its answer was lost, counts ungraded
with a log line naming the dead worker, and the frames after are measured by a new worker."""

from __future__ import annotations

import logging
import os
import signal
from typing import Any

import pytest
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import rigged
from test_engine import east_of_meridian
from test_engine import sequencer
from test_grading_engine import starry
from waiting import until

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import Frame
from indipyagents.sequencer.contracts import RunState


async def test_a_worker_killed_mid_night_costs_one_verdict_at_most(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    r = rigged()
    starry(r, {})
    plan = Plan("graded", (Target("M42", east_of_meridian(120, 10), 10.0,
                                  (Batch(4, 30.0, "Red"),)),),
                grading=Grading(hfr_ratio=1.5, stars_ratio=0.5, min_frames=1))
    journal, store = MemoryJournal(), MemoryStore()
    seq = sequencer(plan, r, journal, store)
    worker, drawn, killed = seq.work.grades.worker, r.camera.expose, []

    async def expose(seconds: float, **options: Any) -> Frame:
        if len(r.camera.exposures) == 2:  # the third: the second frame's measure under way
            pid = await until(worker.pid, what="the night's worker")
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return await drawn(seconds, **options)

    r.camera.expose = expose  # type: ignore[method-assign]
    assert await seq.run() is RunState.DONE
    assert killed and sorted(name for name in store.frames() if name.startswith("lights/")) \
        == [f"lights/Red/M42_Red_Light_00{n}.fits" for n in range(1, 5)]
    graded = [record["step"] for record in journal.kinds("graded")]
    frames = [f"M42/0/Red/Light/00{n}" for n in range(1, 5)]
    assert graded[-2:] == frames[-2:]  # after the kill: a new worker
    lost = [step for step in frames if step not in graded]
    assert len(lost) <= 1, graded
    said = [record.getMessage() for record in caplog.records]
    assert all(any(f"{step}: not graded: the measuring worker died" in line for line in said)
               for step in lost), said
    assert worker.pid() is None  # ended with the run
