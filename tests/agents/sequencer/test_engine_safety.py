"""The engine's side of the safety contract (issue 72 item 4) on the rig's doubles and a
clock the test drives: unsafe cuts a sky frame in hand (aborted, not saved, taken again),
holds before the next sky step, lets darks and bias go on only when the plan says so, ends
the night once `night_end` passes while held, keeps a client's pause, and a run resumed from
its journal is held again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from seqdoubles import T0
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import rigged
from test_engine import Recorder
from test_engine import east_of_meridian
from test_engine import sequencer
from waiting import until

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Safety
from indipyagents.plan.model import Target
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import CLIENT_PAUSE
from indipyagents.sequencer.engine import ENDED_UNSAFE
from indipyagents.sequencer.engine import Sequencer

LIGHTS = ["lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits",
          "lights/Red/M42_Red_Light_003.fits"]
CALIBRATION = ["darks/Darks_NoFilter_Dark_001.fits", "darks/Darks_NoFilter_Dark_002.fits",
               "biases/Darks_NoFilter_Bias_001.fits"]


def night(**safety: object) -> Plan:
    """Three light frames of M42 (slewed to), then two darks and a bias where it points."""
    return Plan("night", (
        Target("M42", east_of_meridian(120, 10), 10.0, (Batch(3, 30.0, "Red"),)),
        Target("Darks", slew=False, batches=(Batch(2, 10.0, frame_type="Dark"),
                                             Batch(1, 0.0, frame_type="Bias"))),
    ), devices=Devices(wheel="Filter Simulator", mount="Telescope Simulator"),
        safety=Safety(**safety))  # type: ignore[arg-type]


async def into_second_frame(r: Rigged) -> None:
    """The first frame saved, the second being exposed (held open by the shutter)."""
    r.camera.shutter = asyncio.Semaphore(1)
    await until(lambda: len(r.camera.exposures) == 1 and r.camera.exposing.is_set(), 10,
                "the second exposure")


def held(recorder: Recorder) -> bool:
    return bool(recorder.reports) and recorder.reports[-1].held


async def held_in_second_frame(cause: str) -> tuple[
        Rigged, MemoryJournal, MemoryStore, Recorder, Sequencer, asyncio.Task[RunState]]:
    """`night()` run on a fresh rig until its second frame is exposed, then UNSAFE for
    `cause` until the run says it is held: the rig, journal, store, recorder, the sequencer
    and its run."""
    r, journal, store, recorder = rigged(), MemoryJournal(), MemoryStore(), Recorder()
    seq = sequencer(night(), r, journal, store, observer=recorder)
    run = asyncio.create_task(seq.run())
    await into_second_frame(r)
    await seq.set_safety(False, cause)
    await until(lambda: held(recorder), 10, "the hold")
    return r, journal, store, recorder, seq, run


async def test_unsafe_aborts_the_frame_in_hand_and_it_is_taken_again_once_safe() -> None:
    """UNSAFE during the second light frame: the camera is aborted, that frame is not saved
    nor journalled, the run holds (Busy, held, the cause said) taking nothing; SAFE: the
    mount is pointed at the target again and the plan ends with exactly its frames, each
    saved and journalled once."""
    r, journal, store, recorder, seq, run = await held_in_second_frame("weather 'Weather Simulator': rain")
    report = recorder.reports[-1]
    assert (report.state, report.unsafe, report.cause) == (
        RunState.RUNNING, True, "weather 'Weather Simulator': rain")
    assert r.camera.aborted == 1
    assert store.order == LIGHTS[:1]
    assert [f["file"] for f in journal.kinds("frame")] == LIGHTS[:1]
    slews = len(r.mount.slews)
    r.camera.shutter = None
    await seq.set_safety(True)
    assert await run is RunState.DONE
    assert store.order == [*LIGHTS, *CALIBRATION]
    assert sorted(f["file"] for f in journal.kinds("frame")) == sorted(store.order)
    assert len(r.mount.slews) == slews + 1  # pointed again before the retaken frame
    assert not recorder.reports[-1].held
    assert [n["data"] for n in journal.kinds("note") if n["kind"] == "safety"] == [
        {"unsafe": True, "cause": "weather 'Weather Simulator': rain"},
        {"unsafe": False, "cause": ""}]


async def test_safe_again_during_sky_free_frames_points_the_mount_again() -> None:
    """A hold spent on sky_free_while_unsafe's darks, safe again before they are done (so the
    run never held idle): a watchdog may have parked the mount the moment it said unsafe, so
    the mount is pointed at the target again before the next light frame (a guide's night
    took its lights at the park position, the pole, issue 93)."""
    r, store, recorder = rigged(), MemoryStore(), Recorder()
    seq = sequencer(night(sky_free_while_unsafe=True), r, store=store, observer=recorder)
    run = asyncio.create_task(seq.run())
    await into_second_frame(r)
    slews = len(r.mount.slews)
    shutter = r.camera.shutter
    assert shutter is not None
    await seq.set_safety(False, "rain")
    await until(lambda: r.camera.exposing.is_set() and r.sky.log[-1][1] == "expose 10", 10,
                "the first dark exposed while unsafe")
    await seq.set_safety(True)
    r.camera.shutter = None
    shutter.release()
    assert await run is RunState.DONE
    assert sorted(store.order) == sorted([*LIGHTS, *CALIBRATION])
    assert len(r.mount.slews) == slews + 1  # pointed again before the retaken light


@pytest.mark.parametrize("sky_free", [True, False], ids=["sky free", "not sky free"])
async def test_darks_and_bias_go_on_while_unsafe_only_when_the_plan_says_so(
        sky_free: bool) -> None:
    """With sky_free_while_unsafe the darks and the bias are taken during the hold, in plan
    order, then the run holds; the light frames follow once safe. Without it nothing is
    taken while unsafe, and the plan's order is kept."""
    r, store, recorder = rigged(), MemoryStore(), Recorder()
    seq = sequencer(night(sky_free_while_unsafe=sky_free), r, store=store, observer=recorder)
    run = asyncio.create_task(seq.run())
    await into_second_frame(r)
    await seq.set_safety(False, "rain")
    r.camera.shutter = None
    await until(lambda: held(recorder), 10, "the hold")
    assert store.order == [LIGHTS[0], *(CALIBRATION if sky_free else [])]
    await seq.set_safety(True)
    assert await run is RunState.DONE
    assert store.order == ([LIGHTS[0], *CALIBRATION, *LIGHTS[1:]] if sky_free
                           else [*LIGHTS, *CALIBRATION])


async def test_still_unsafe_past_night_end_parks_warms_and_ends() -> None:
    """The plan's night_end passes while held: the mount parks, the camera warms (the plan's
    End), the run ends ABORTED with "ended: unsafe past the end of the night", journalled
    as aborted, the frame cut short never saved."""
    r, journal, store = rigged(), MemoryJournal(), MemoryStore()
    seq = sequencer(night(night_end=T0 + timedelta(hours=2)), r, journal, store)
    run = asyncio.create_task(seq.run())
    await into_second_frame(r)
    await seq.set_safety(False, "rain")
    assert await run is RunState.ABORTED
    assert seq.reason == ENDED_UNSAFE
    assert r.sky.now >= T0 + timedelta(hours=2)
    assert r.mount.parked and r.camera.warmed == 1
    assert store.order == LIGHTS[:1]
    assert journal.kinds("aborted") == [{"reason": ENDED_UNSAFE}]
    assert journal.state().aborted


async def test_a_clients_pause_during_a_hold_stands_after_safe() -> None:
    """A pause while held stops the run PAUSED (journalled as a client's); SAFE then starts
    nothing; the client's run() continues to exactly the plan's frames."""
    r, journal, store, _, seq, run = await held_in_second_frame("rain")
    seq.pause()
    assert await run is RunState.PAUSED
    r.camera.shutter = None
    exposures = len(r.camera.exposures)
    await seq.set_safety(True)
    for _ in range(20):
        await asyncio.sleep(0)
    assert seq.state is RunState.PAUSED and len(r.camera.exposures) == exposures
    assert journal.state().paused == CLIENT_PAUSE
    assert await seq.run() is RunState.DONE
    assert store.order == [*LIGHTS, *CALIBRATION]


async def test_a_run_resumed_from_its_journal_while_unsafe_is_held_until_safe() -> None:
    """The run stopped while held (its task gone, as in a kill), and a new Sequencer resumed
    from the journal: it holds at once, unsafe with the journalled cause, taking nothing;
    SAFE finishes the plan with exactly its frames."""
    r, journal, store, recorder = rigged(), MemoryJournal(), MemoryStore(), Recorder()
    plan = night()
    text = plan_to_toml(plan)
    first = Sequencer(plan, Rig(r.camera, r.wheel, r.focuser, r.mount), journal, store,
                      plan_text=text, clock=r.sky.clock, sleep=r.sky.sleep, observer=recorder)
    run = asyncio.create_task(first.run())
    await into_second_frame(r)
    await first.set_safety(False, "rain")
    await until(lambda: held(recorder), 10, "the hold")
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    r.camera.shutter = None
    exposures = len(r.camera.exposures)
    again = Recorder()
    second = Sequencer.resume(journal, store, Rig(r.camera, r.wheel, r.focuser, r.mount),
                              parse=parse_plan, clock=r.sky.clock, sleep=r.sky.sleep,
                              observer=again)
    assert second.plan == plan
    resumed = asyncio.create_task(second.run())
    await until(lambda: held(again), 10, "the hold after the restart")
    assert second.unsafe and again.reports[-1].cause == "rain"
    assert len(r.camera.exposures) == exposures
    await second.set_safety(True)
    assert await resumed is RunState.DONE
    assert store.order == [*LIGHTS, *CALIBRATION]
    assert sorted(f["file"] for f in journal.kinds("frame")) == sorted(store.order)


async def test_a_run_started_unsafe_holds_before_its_first_slew() -> None:
    """Told unsafe before it starts (a watchdog's verdict kept by the face), a run holds at
    once: no slew, no exposure, the journal saying unsafe; SAFE lets the whole plan run."""
    r, journal, store, recorder = rigged(), MemoryJournal(), MemoryStore(), Recorder()
    seq = sequencer(night(), r, journal, store, observer=recorder)
    await seq.set_safety(False, "clouds")
    run = asyncio.create_task(seq.run())
    await until(lambda: held(recorder), 10, "the hold")
    assert r.mount.slews == [] and r.camera.exposures == []
    assert journal.state().notes["safety"] == {"unsafe": True, "cause": "clouds"}
    await seq.set_safety(True)
    assert await run is RunState.DONE
    assert store.order == [*LIGHTS, *CALIBRATION]
