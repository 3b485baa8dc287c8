"""Issue 81 item 4 on the doubles: the `GuidingTrigger` (the guider started before the
night's first light frame, after the mount moved and after a hold in which the watchdog
stopped it; lights held while the star is lost, the night paused naming the guider past
[guiding] lost_wait, GUIDERMS) and the dither through the guider (PHD2's settle asked for, a
settle that failed journalled and the frame going on)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from dataclasses import field

import pytest
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import Sky
from seqdoubles import rigged
from test_triggers import at

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Dither as DitherSettings
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Guiding as GuidingSettings
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipyagents.sequencer.hands import Framed
from indipyagents.sequencer.hands import Framing
from indipyagents.sequencer.hands import Hands
from indipyagents.sequencer.hands import Held
from indipyagents.sequencer.hands import Pointed
from indipyagents.sequencer.hands import Slewed
from indipyagents.sequencer.triggers import Due
from indipyagents.sequencer.triggers import FrameAt
from indipyagents.sequencer.triggers.dithertrigger import DitherTrigger
from indipyagents.sequencer.triggers.guiding import LOOK
from indipyagents.sequencer.triggers.guiding import GuidingTrigger


@dataclass
class GuiderDouble:
    """A guider whose state the test scripts: `lost_for` looks say LostLock, then Guiding;
    `calls` what it was asked; `errors` the guide errors it reports since `mark`, `scale`
    their arcseconds a pixel (None: it says none)."""

    sky: Sky
    name: str = "Guider Agent"
    current: str = "Stopped"
    lost_for: int = 0
    settles: bool = True
    calls: list[tuple[object, ...]] = field(default_factory=list)
    errors: list[tuple[float, float]] = field(default_factory=list)
    scale: float | None = None

    async def state(self) -> str:
        if self.current == "LostLock":
            if self.lost_for <= 0:
                self.current = "Guiding"
            self.lost_for -= 1
        return self.current

    async def guide(self, pixels: float, seconds: float, timeout: float) -> None:
        self.calls.append(("guide", pixels, seconds, timeout))
        self.current = "Guiding"

    async def dither(self, amount: float, pixels: float, seconds: float,
                     timeout: float) -> None:
        self.calls.append(("dither", amount, pixels, seconds, timeout))
        if not self.settles:
            raise DeviceRefused(self.name, "AGENT_GUIDER_DITHER went Alert: not settled: "
                                           "timed out")

    async def stop(self) -> None:
        self.calls.append(("stop",))
        self.current = "Stopped"

    def mark(self) -> None:
        self.calls.append(("mark",))
        self.errors = []

    def rms(self) -> float | None:
        if not self.errors:
            return None
        return (sum(x * x + y * y for x, y in self.errors) / len(self.errors)) ** 0.5

    def rms_arcsec(self) -> float | None:
        rms = self.rms()
        return None if rms is None or self.scale is None else rms * self.scale

    def lost(self) -> bool:
        return False


def guided(r: Rigged, guider: GuiderDouble, *, lost_wait: float = 60.0,
           every: int = 1) -> tuple[Hands, Plan]:
    batches = (Batch(3, 5.0), Batch(1, 5.0, frame_type="Dark"))
    plan = Plan("p", (Target("M42", 5.5, -5.0, batches),),
                devices=Devices(camera="Cam", mount="Mount", guider=guider.name),
                dither=DitherSettings(every=every, pixels=3.0, method="guider", settle=8.0,
                                      settle_pixels=1.5, settle_timeout=40.0),
                flip=Flip(enabled=False), guiding=GuidingSettings(lost_wait=lost_wait))
    hands = Hands(plan, Rig(r.camera, r.wheel, r.focuser, r.mount, guider=guider), MemoryJournal(),
                  focus=None, clock=r.sky.clock, sleep=r.sky.sleep, rng=random.Random(3),
                  move_bound=600.0, camera_margin=120.0)
    return hands, plan


def due_of(due: Due | None) -> Due:
    assert due is not None
    return due


def notes(hands: Hands, kind: str) -> list[dict[str, object]]:
    journal = hands.journal
    assert isinstance(journal, MemoryJournal)
    return [n["data"] for n in journal.kinds("note") if n["kind"] == kind]


@dataclass
class Guided:
    """A night's light frame with the guider started on it (by the trigger itself)."""

    r: Rigged
    guider: GuiderDouble
    hands: Hands
    trigger: GuidingTrigger
    light: FrameAt


async def guiding_on(index: int, *, lost_wait: float = 60.0) -> Guided:
    r = rigged()
    guider = GuiderDouble(r.sky)
    hands, plan = guided(r, guider, lost_wait=lost_wait)
    trigger = GuidingTrigger(hands)
    light = at(plan, index)
    await trigger.carry_out(light, due_of(await trigger.due(light)))
    return Guided(r, guider, hands, trigger, light)


async def test_the_guider_is_started_before_the_first_light_frame_and_after_a_move() -> None:
    """Stopped before the first light: started with the plan's settle (1.5 px, 8 s, 40 s),
    then the lights go (the errors marked); guiding: not due, its GUIDERMS in the cards; a
    dark is never held; a slew or a hold: stopped and started again on a new star."""
    r = rigged()
    guider = GuiderDouble(r.sky)
    hands, plan = guided(r, guider)
    trigger = GuidingTrigger(hands)
    light, dark = at(plan, 0), at(plan, 3)
    assert await trigger.due(dark) is None
    trigger.hear(Framing(light.step))
    due = await trigger.due(light)
    assert due is not None and "Stopped" in due.why
    await trigger.carry_out(light, due)
    assert guider.calls == [("guide", 1.5, 8.0, 40.0), ("mark",)]
    assert [n["started"] for n in notes(hands, "guiding")] == [True]
    guider.errors = [(0.3, 0.4), (0.3, -0.4)]
    assert trigger.cards() == [("GUIDERMS", 0.5, "guide RMS in the exposure, guide pixels")]
    guider.scale = 2.0  # the guider says its pixel scale: GUIDERMS in arcseconds
    assert trigger.cards() == [("GUIDERMS", 1.0, "guide RMS in the exposure, arcseconds"),
                               ("GUIDESCL", 2.0, "guide camera pixel scale, arcsec per pixel")]

    trigger.hear(Framing(light.step))
    assert trigger.cards() == []  # this frame not armed yet
    assert await trigger.due(light) is None
    assert guider.calls[-1] == ("mark",)
    for news in (Slewed(0, "WEST"), Held()):
        trigger.hear(news)
        due = await trigger.due(light)
        assert due is not None and "moved" in due.why
        guider.calls.clear()
        await trigger.carry_out(light, due)
        assert guider.calls == [("stop",), ("guide", 1.5, 8.0, 40.0), ("mark",)]


async def test_a_guider_stopped_by_the_watchdog_during_a_hold_is_started_again() -> None:
    """The watchdog's STOP_GUIDING during a hold, then the mount pointed again: the next light
    frame starts the guider with the plan's settle (no stop first: it is Stopped) before the
    lights go; once guiding, it is not due again."""
    g = await guiding_on(1)
    guider, hands, trigger, light = g.guider, g.hands, g.trigger, g.light
    trigger.hear(Held())
    await guider.stop()  # the watchdog's STOP_GUIDING
    trigger.hear(Pointed(0))  # the night's Repoint after the hold
    guider.calls.clear()
    due = await trigger.due(light)
    assert due is not None and "Stopped" in due.why and "moved" in due.why
    await trigger.carry_out(light, due)
    assert guider.calls == [("guide", 1.5, 8.0, 40.0), ("mark",)]
    assert [n["started"] for n in notes(hands, "guiding")] == [True, True]
    assert await trigger.due(light) is None


async def test_a_lost_star_holds_the_lights_until_it_is_found() -> None:
    """LostLock: the lights wait, looking every LOOK seconds, and go on once it guides."""
    g = await guiding_on(0)
    r, guider, trigger, light = g.r, g.guider, g.trigger, g.light
    guider.current, guider.lost_for = "LostLock", 5
    guider.calls.clear()
    due = await trigger.due(light)
    assert due is not None and "LostLock" in due.why
    before = r.sky.seconds
    await trigger.carry_out(light, due)
    assert guider.current == "Guiding" and guider.calls == [("mark",)]
    # Five looks said LostLock: the trigger's own, then four each followed by a nap.
    assert r.sky.seconds - before == pytest.approx(4 * LOOK)


async def test_a_star_lost_past_lost_wait_pauses_the_night_naming_the_guider() -> None:
    """Still lost after [guiding] lost_wait: DeviceRefused naming the guider and the bound,
    journalled (the engine pauses the night with it: Alert)."""
    g = await guiding_on(0, lost_wait=20.0)
    guider, hands, trigger, light = g.guider, g.hands, g.trigger, g.light
    guider.current, guider.lost_for = "LostLock", 1000
    due = await trigger.due(light)
    assert due is not None
    with pytest.raises(DeviceRefused) as refused:
        await trigger.carry_out(light, due)
    assert refused.value.device == "Guider Agent"
    assert "lost_wait = 20 s" in refused.value.reason and "LostLock" in refused.value.reason
    assert notes(hands, "guiding")[-1]["started"] is False


@pytest.mark.parametrize("settles", [True, False])
async def test_the_dither_through_the_guider_waits_for_its_settle(settles: bool) -> None:
    """method = "guider": the guider asked to dither by the plan's pixels with PHD2's settle;
    no pulses, no slew of our own; a dither that did not settle is journalled and the frame
    goes on."""
    r = rigged()
    guider = GuiderDouble(r.sky, settles=settles)
    hands, plan = guided(r, guider)
    dither = DitherTrigger(hands)
    light = at(plan, 1)
    dither.hear(Framed(at(plan, 0).step))
    due = await dither.due(light)
    assert due is not None
    await dither.carry_out(light, due)
    assert guider.calls == [("dither", 3.0, 1.5, 8.0, 40.0)]
    assert r.mount.pulsed == [] and r.mount.slews == []
    [note] = notes(hands, "dither")
    assert note["method"] == "guider" and note["settled"] is settles
    assert await dither.due(light) is None


def guided_night(r: Rigged, guider: GuiderDouble) -> Sequencer:
    """The whole sequencer on the doubles, with the guider of `guided`'s plan."""
    _hands, plan = guided(r, guider)
    rig = Rig(r.camera, r.wheel, r.focuser, r.mount, guider=guider)
    return Sequencer(plan, rig, MemoryJournal(), MemoryStore(), plan_text="the plan's text",
                     clock=r.sky.clock, sleep=r.sky.sleep)


async def test_the_nights_end_stops_its_guider_before_the_park() -> None:
    """Issue 89 item 7: the plan done, the End stops the guider the plan names, then parks (a
    guider left on pulsed the parked mount, 23 refusals in two minutes)."""
    r = rigged()
    guider = GuiderDouble(r.sky)
    assert await guided_night(r, guider).run() is RunState.DONE
    assert guider.current == "Stopped" and ("stop",) in guider.calls
    assert r.mount.parked


async def test_an_abort_stops_the_guider() -> None:
    """An abort during a guided light frame: the guider stopped, the mount parked."""
    r = rigged()
    guider = GuiderDouble(r.sky)
    seq = guided_night(r, guider)
    run = asyncio.create_task(seq.run())
    await r.camera.exposing.wait()
    assert guider.current == "Guiding"
    await seq.abort()
    assert await run is RunState.ABORTED
    assert guider.current == "Stopped" and r.mount.parked


async def test_a_pause_stops_the_guider_and_the_next_start_guides_again() -> None:
    """A pause: the frame in hand ends, then the guider is stopped (the night no longer
    images); START again: the guider is started before the next light frame."""
    r = rigged()
    guider = GuiderDouble(r.sky)
    seq = guided_night(r, guider)
    run = asyncio.create_task(seq.run())
    await r.camera.exposing.wait()
    seq.pause()
    assert await run is RunState.PAUSED
    assert guider.current == "Stopped"
    guides = sum(call[0] == "guide" for call in guider.calls)
    assert await seq.run() is RunState.DONE
    assert sum(call[0] == "guide" for call in guider.calls) > guides
