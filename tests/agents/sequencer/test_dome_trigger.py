"""Issue 79 item 1, on the rig's doubles and a clock the test drives: never a light frame or a
flat through a closed dome. The plan's dome is opened before the first sky frame and again
after a hold (the watchdog parked it), and closed at the end when [end] says so; a dome the
watchdog guards that the plan does not name pauses the night, its Alert naming the dome,
until the user opens it and presses START; darks go on. And `closed_reason`, the rig's pure
word on whether a dome is open, fails closed."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from seqdoubles import DomeDouble
from seqdoubles import GuardedDouble
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import rigged
from test_engine import Recorder
from test_engine import east_of_meridian
from waiting import until

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import End
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frames
from indipyagents.rig.dome import DomeReading
from indipyagents.rig.dome import closed_reason
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipyagents.sequencer.hands import Hands
from indipyagents.sequencer.triggers import FrameAt
from indipyagents.sequencer.triggers.dometrigger import OpenDome
from indipycore.protocol import State
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry

DOME = "Dome Simulator"
LIGHTS = ["lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits",
          "lights/Red/M42_Red_Light_003.fits"]


def night(dome: str = DOME, **end: bool) -> Plan:
    """Three light frames of M42, then a dark where the mount points."""
    return Plan("night", (
        Target("M42", east_of_meridian(120, 10), 10.0, (Batch(3, 30.0, "Red"),)),
        Target("Darks", slew=False, batches=(Batch(1, 10.0, frame_type="Dark"),)),
    ), devices=Devices(wheel="Filter Simulator", mount="Telescope Simulator", dome=dome),
        end=End(**end))


def rig_of(r: Rigged, dome: DomeDouble | None, *guarded: DomeDouble) -> Rig:
    return Rig(r.camera, r.wheel, r.focuser, r.mount, dome=dome,
               guarded=GuardedDouble(*guarded))


def sequencer(plan: Plan, rig: Rig, r: Rigged, **options: Any) -> Sequencer:
    return Sequencer(plan, rig, options.pop("journal", MemoryJournal()), MemoryStore(),
                     plan_text="the plan's text", clock=r.sky.clock, sleep=r.sky.sleep,
                     retry=Retry(ConstantBackoff(5.0), retries=2), **options)


def dome_at_each_exposure(r: Rigged, dome: DomeDouble) -> list[tuple[str, str | None]]:
    """(frame type, the dome's `closed()`) at the start of each exposure, as it happens."""
    seen: list[tuple[str, str | None]] = []
    expose = r.camera.expose

    async def watched(seconds: float, **options: Any) -> Any:
        seen.append((options.get("frame_type", "Light"), dome.closed()))
        return await expose(seconds, **options)

    r.camera.expose = watched  # type: ignore[method-assign]
    return seen


def said(r: Rigged) -> list[str]:
    return [what.split()[0] if not what.startswith("dome") else what for _t, what in r.sky.log]


async def test_the_plans_dome_is_opened_before_the_first_light_and_closed_at_the_end() -> None:
    """A parked dome with its shutter closed: opened (unparked, the shutter open) after the
    slew, before the first light frame, once; at the end closed after the mount's park and
    before the warm; the act journalled as the note "dome"."""
    r, journal = rigged(), MemoryJournal()
    dome = DomeDouble(r.sky)
    seen = dome_at_each_exposure(r, dome)
    seq = sequencer(night(), rig_of(r, dome, dome), r, journal=journal)
    assert await seq.run() is RunState.DONE
    assert said(r) == ["unpark", "slew", "dome open", "expose", "expose", "expose", "expose",
                       "park", "dome close", "warm"]
    assert seen == [("Light", None)] * 3 + [("Dark", None)]
    assert [n["data"] for n in journal.kinds("note") if n["kind"] == "dome"] == [
        {"opened": DOME, "was": "parked, its shutter closed"}]
    assert dome.parked


async def test_after_a_hold_that_closed_the_dome_it_is_opened_before_the_next_light() -> None:
    """Unsafe during the second light; the watchdog parks the dome (and its shutter is
    closed); safe: the dome is opened again before the frame cut short is taken again, and
    every light frame began with the dome open."""
    r = rigged()
    dome = DomeDouble(r.sky)
    seen = dome_at_each_exposure(r, dome)
    recorder = Recorder()
    seq = sequencer(night(), rig_of(r, dome, dome), r, observer=recorder)
    run = asyncio.create_task(seq.run())
    r.camera.shutter = asyncio.Semaphore(1)
    await until(lambda: len(r.camera.exposures) == 1 and r.camera.exposing.is_set(), 10,
                "the second exposure")
    await seq.set_safety(False, "rain")
    await until(lambda: bool(recorder.reports) and recorder.reports[-1].held, 10, "the hold")
    await dome.close()  # the watchdog's park
    dome.shutter_open = False
    r.camera.shutter = None
    await seq.set_safety(True)
    assert await run is RunState.DONE
    opened = [what for what in said(r) if what.startswith("dome")]
    assert opened == ["dome open", "dome close", "dome open", "dome close"]
    assert [closed for kind, closed in seen if kind == "Light"] == [None] * 4  # 2nd twice
    assert seq.store.order[:3] == LIGHTS


async def test_a_guarded_dome_the_plan_does_not_name_pauses_the_night_naming_it() -> None:
    """The plan names no dome, the watchdog guards one that is parked: before the first light
    the night pauses (SEQUENCE_STATE Alert, the reason naming the dome and why), no frame
    begun; opened by the user, START takes every frame, and the night never closes a dome it
    was not given."""
    r = rigged()
    guarded = DomeDouble(r.sky)
    seen = dome_at_each_exposure(r, guarded)
    recorder = Recorder()
    seq = sequencer(night(dome=""), rig_of(r, None, guarded), r, observer=recorder)
    assert await seq.run() is RunState.PAUSED
    assert seq.reason == (f"{DOME}: the dome is closed (parked, its shutter closed): no light "
                          "frame or flat is started through it; the plan names no dome to "
                          "open: open it, then START")
    assert recorder.reports[-1].reason == seq.reason
    assert r.camera.exposures == [] and seen == []
    guarded.parked, guarded.shutter_open = False, True
    assert await seq.run() is RunState.DONE
    assert [closed for _kind, closed in seen] == [None] * 4
    assert not any(what.startswith("dome") for what in said(r))
    assert not guarded.parked


async def test_darks_need_no_open_dome_and_a_dome_that_will_not_open_is_refused() -> None:
    """A guarded dome closed: a plan of darks alone runs to its end. A plan-named dome
    whose shutter does not move: the night pauses naming it ("it did not open"), no light
    frame begun."""
    r = rigged()
    guarded = DomeDouble(r.sky)
    darks = Plan("darks", (Target("Darks", slew=False,
                                  batches=(Batch(2, 10.0, frame_type="Dark"),)),))
    assert await sequencer(darks, rig_of(r, None, guarded), r).run() is RunState.DONE
    assert len(r.camera.exposures) == 2
    r = rigged()
    stuck = DomeDouble(r.sky)
    stuck.stuck = True
    seq = sequencer(night(), rig_of(r, stuck), r)
    assert await seq.run() is RunState.PAUSED
    assert seq.reason.startswith(f"{DOME}: the dome is closed (parked, its shutter closed)")
    assert seq.reason.endswith("it did not open")
    assert r.camera.exposures == []


async def test_close_dome_false_leaves_it_open_and_an_abort_closes_it() -> None:
    """[end] close_dome = false: the dome stays open at the end (the mount still parked).
    An abort carries out the End as the end would: the dome closed after the park."""
    r = rigged()
    dome = DomeDouble(r.sky)
    assert await sequencer(night(close_dome=False), rig_of(r, dome), r).run() is RunState.DONE
    assert not dome.parked and dome.shutter_open and said(r)[-2:] == ["park", "warm"]
    r = rigged()
    dome = DomeDouble(r.sky)
    seq = sequencer(night(), rig_of(r, dome), r)
    r.camera.shutter = asyncio.Semaphore(0)
    run = asyncio.create_task(seq.run())
    await until(lambda: r.camera.exposing.is_set(), 10, "the first exposure")
    await seq.abort()
    assert await run is RunState.ABORTED
    assert said(r)[-4:] == ["abort", "park", "dome close", "warm"] and dome.parked


async def test_the_trigger_is_due_only_before_a_sky_frame_of_a_closed_dome() -> None:
    """Due before a light or a flat while the dome is closed, saying why; never before a
    dark or a bias; not due once open."""
    r = rigged()
    dome = DomeDouble(r.sky)
    plan = Plan("p", (Target("T", slew=False, batches=(
        Batch(1, 1.0), Batch(1, 1.0, frame_type="Flat"), Batch(1, 1.0, frame_type="Dark"),
        Batch(1, 0.0, frame_type="Bias"))),), devices=Devices(dome=DOME))
    hands = Hands(plan, rig_of(r, dome), MemoryJournal(), focus=None, clock=r.sky.clock,
                  sleep=r.sky.sleep, rng=random.Random(1), move_bound=600.0,
                  camera_margin=120.0)
    trigger = OpenDome(hands)
    steps = frames(expand(plan))
    due = [await trigger.due(FrameAt(step, plan.targets[0], False)) for step in steps]
    assert [d.why if d else None for d in due] == [
        f"the dome {DOME!r} is closed (parked, its shutter closed)"] * 2 + [None, None]
    light = due[0]
    assert light is not None
    await trigger.carry_out(FrameAt(steps[0], plan.targets[0], False), light)
    assert await trigger.due(FrameAt(steps[1], plan.targets[0], False)) is None


def test_closed_reason_in_words() -> None:
    """Parked, a shutter closed, moves under way, a dome that says nothing."""
    ok = State.OK
    assert closed_reason(DomeReading(ok, "UNPARK"), DomeReading(ok, "SHUTTER_OPEN")) is None
    assert closed_reason(DomeReading(State.IDLE, "UNPARK"), None) is None  # indilib's Idle unpark
    assert closed_reason(None, DomeReading(ok, "SHUTTER_OPEN")) is None  # a roll-off roof
    assert closed_reason(DomeReading(ok, "PARK"), DomeReading(ok, "SHUTTER_OPEN")) == "parked"
    assert closed_reason(DomeReading(ok, "UNPARK"), DomeReading(ok, "SHUTTER_CLOSE")) == "its shutter closed"
    assert closed_reason(DomeReading(State.BUSY, "UNPARK"), DomeReading(State.BUSY, "SHUTTER_OPEN")) == \
        "its park moving, its shutter moving"
    assert closed_reason(None, None) == \
        "it says neither DOME_PARK nor DOME_SHUTTER (is it connected?)"


seen_states = st.builds(DomeReading, st.sampled_from(list(State)),
                        st.sampled_from(["", "PARK", "UNPARK", "SHUTTER_OPEN", "SHUTTER_CLOSE"]))


@given(st.none() | seen_states, st.none() | seen_states)
def test_a_dome_is_open_only_when_it_says_so(park: DomeReading | None, shutter: DomeReading | None) -> None:
    """Open (None) exactly when it says something, every vector it has says open (UNPARK,
    SHUTTER_OPEN) and nothing moves; every other case has its reason in words."""
    def says_open(seen: DomeReading | None, member: str) -> bool:
        return seen is None or (seen.on == member and seen.state is not State.BUSY)

    open_ = (park is not None or shutter is not None) and says_open(park, "UNPARK") \
        and says_open(shutter, "SHUTTER_OPEN")
    reason = closed_reason(park, shutter)
    assert (reason is None) == open_
    assert reason is None or reason.strip()
