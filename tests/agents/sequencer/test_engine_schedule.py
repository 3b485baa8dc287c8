"""A plan with a [schedule] run by the engine on the doubles' rig and clock (issue 82, item 4):
the blocks in tonight's schedule's order (not the plan's), a slew at each block's start, a
wait between blocks; a hold re-plans from the moment it ends; a restart (a new Sequencer on
the same journal) re-plans and takes nothing twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from seqdoubles import T0
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import rigged
from test_engine import Recorder
from test_engine import sequencer
from waiting import until

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.sequencer.contracts import RunState

LATER = T0 + timedelta(hours=2)


def scheduled() -> Plan:
    """M42 first in the plan but of lower priority than M81; M31 only after 23:00."""
    return Plan("scheduled", (
        Target("M42", 5.588, -5.39, batches=(Batch(3, 60.0, "Red"),),
               constraints=Constraints(priority=2)),
        Target("M81", 9.926, 69.07, batches=(Batch(3, 60.0, "Red"),),
               constraints=Constraints(priority=1)),
        Target("M31", 0.712, 41.27, batches=(Batch(2, 60.0, "Red"),),
               constraints=Constraints(priority=1, after=LATER)),
    ), devices=Devices(camera="CCD Simulator", wheel="Filter Simulator", mount="Mount"),
        schedule=Schedule(min_altitude=15, frame_overhead=5.0))


def targets_in_order(files: list[str]) -> list[str]:
    order: list[str] = []
    for name in files:
        target = name.split("/")[-1].split("_")[0]
        if not order or order[-1] != target:
            order.append(target)
    return order


async def test_the_blocks_are_run_in_the_schedules_order_with_a_wait_between() -> None:
    r, store, recorder = rigged(), MemoryStore(), Recorder()
    seq = sequencer(scheduled(), r, store=store, observer=recorder)
    assert await seq.run() is RunState.DONE
    assert targets_in_order(store.order) == ["M81", "M42", "M31"]
    assert len(store.order) == len(set(store.order)) == 8
    assert len(r.mount.slews) == 3  # one at each block's start
    assert r.sky.now > LATER  # waited for M31's block
    blocks = [report.block for report in recorder.reports if report.block]
    assert any(line.startswith("block ") and "M81 (3 frames); next " in line
               for line in blocks)
    assert any("M31 (2 frames)" in report.schedule for report in recorder.reports)
    assert any(report.picture.startswith("<svg") for report in recorder.reports)


async def test_a_hold_replans_from_its_end_and_takes_nothing_twice() -> None:
    r, journal, store, recorder = rigged(), MemoryJournal(), MemoryStore(), Recorder()
    seq = sequencer(scheduled(), r, journal, store, observer=recorder)
    r.camera.shutter = asyncio.Semaphore(1)
    run = asyncio.create_task(seq.run())
    await until(lambda: len(r.camera.exposures) == 1 and r.camera.exposing.is_set(), 10,
                "the second exposure")
    await seq.set_safety(False, "clouds")
    r.camera.shutter = None
    await until(lambda: bool(recorder.reports) and recorder.reports[-1].held, 10, "the hold")
    assert seq.order is not None
    r.sky.now += timedelta(minutes=40)  # clouds for 40 minutes
    safe_at = r.sky.now
    await seq.set_safety(True)
    assert await run is RunState.DONE
    assert len(store.order) == len(set(store.order)) == 8
    # the schedule was made again once safe: from the hold's end, the mount pointed again
    after = [report.schedule for report in recorder.reports
             if report.schedule and not report.unsafe]
    assert any(text.split("-")[0] >= f"{safe_at:%H:%M}" for text in after)
    assert len(r.mount.slews) == 4  # M81, M81 again, M42, M31


async def test_a_restart_replans_and_takes_nothing_twice() -> None:
    r, journal, store = rigged(), MemoryJournal(), MemoryStore()
    first = sequencer(scheduled(), r, journal, store)
    run = asyncio.create_task(first.run())
    await until(lambda: len(store.order) >= 2, 10, "two frames")
    first.pause()
    assert await run is RunState.PAUSED
    taken = list(store.order)
    second = sequencer(scheduled(), r, journal, store)
    assert await second.run() is RunState.DONE
    assert store.order[:len(taken)] == taken
    assert len(store.order) == len(set(store.order)) == 8
    assert targets_in_order(store.order) == ["M81", "M42", "M31"]


async def test_a_target_never_high_tonight_is_named_with_its_reason() -> None:
    """Issue 89 item 10: a scheduled target the night can never image (dec -80 from 50
    degrees north: never 15 degrees high) is named with the schedule's reason in the block
    line SEQUENCE_STATE's message carries, from the first report on, not only counted at the
    end; the others are taken."""
    plan = scheduled()
    low = Target("Low", 5.0, -80.0, batches=(Batch(1, 60.0, "Red"),),
                 constraints=Constraints(priority=1))
    plan = Plan(plan.name, (*plan.targets[:2], low), devices=plan.devices,
                schedule=plan.schedule)
    r, store, recorder = rigged(), MemoryStore(), Recorder()
    seq = sequencer(plan, r, store=store, observer=recorder)
    await seq.run()
    said = "not tonight: Low (never 15 degrees high while dark)"
    blocks = [report.block for report in recorder.reports if report.block]
    assert blocks and said in blocks[0], blocks[:3]
    assert any(line.startswith("block ") and said in line for line in blocks), blocks
    assert targets_in_order(store.order) == ["M81", "M42"]
