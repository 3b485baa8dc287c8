"""Issue 78 item 2: each trigger between frames on its own (`indipyagents.sequencer.triggers`),
on the rig's doubles and a clock the test drives: when it is due, what it does through the
rig, the note it journals, the memory it keeps from the news of the others' acts, and the
memory it restores from a journal's notes (as the old engine wrote them)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from seqdoubles import SITE
from seqdoubles import FocusDouble
from seqdoubles import MemoryJournal
from seqdoubles import Rigged
from seqdoubles import rigged
from test_engine import east_of_meridian

from indipyagents.plan.model import Autofocus as AutofocusSettings
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither as DitherSettings
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.plan.steps import FrameStep
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frames
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.hands import Flipped
from indipyagents.sequencer.hands import Framed
from indipyagents.sequencer.hands import Framing
from indipyagents.sequencer.hands import Hands
from indipyagents.sequencer.hands import Held
from indipyagents.sequencer.hands import Slewed
from indipyagents.sequencer.triggers import KINDS
from indipyagents.sequencer.triggers import FrameAt
from indipyagents.sequencer.triggers import triggers
from indipyagents.sequencer.triggers.centre import CentreTarget
from indipyagents.sequencer.triggers.dithertrigger import DitherTrigger
from indipyagents.sequencer.triggers.dometrigger import OpenDome
from indipyagents.sequencer.triggers.flip import MeridianFlip
from indipyagents.sequencer.triggers.focustrigger import AutofocusTrigger
from indipyagents.sequencer.triggers.guiding import GuidingTrigger
from indipyagents.sequencer.triggers.librarydarks import LibraryDarks
from indipyagents.sequencer.triggers.repoint import Repoint


def hands_on(r: Rigged, plan: Plan, **options: Any) -> Hands:
    return Hands(plan, Rig(r.camera, r.wheel, r.focuser, r.mount), MemoryJournal(),
                 focus=options.pop("focus", None), clock=r.sky.clock, sleep=r.sky.sleep,
                 rng=random.Random(3), move_bound=600.0, camera_margin=120.0,
                 listeners=options.pop("listeners", tuple))


def at(plan: Plan, index: int, *, unsafe: bool = False) -> FrameAt:
    step: FrameStep = frames(expand(plan))[index]
    return FrameAt(step, plan.targets[step.target_index], unsafe)


def notes(hands: Hands, kind: str) -> list[dict[str, Any]]:
    journal = hands.journal
    assert isinstance(journal, MemoryJournal)
    return [n["data"] for n in journal.kinds("note") if n["kind"] == kind]


def test_the_triggers_are_one_of_each_kind_in_their_order() -> None:
    """The dark library's decision first (issue 92 item 4: nothing done for a dark not
    taken), then the dome opened (issue 79 item 1), then the mount pointed, a flip before the
    centring (issue 80 item 4), the guider guiding before a dither through it (a flip resets
    the count), autofocus last: adding a trigger is a module and a line in `KINDS`."""
    r = rigged()
    made = triggers(hands_on(r, Plan("p", (Target("T", 1.0, 10.0, (Batch(1, 1.0),)),))))
    assert [type(t) for t in made] == [LibraryDarks, OpenDome, Repoint, MeridianFlip,
                                      CentreTarget, GuidingTrigger, DitherTrigger,
                                      AutofocusTrigger]
    assert [type(t) for t in made] == list(KINDS)


async def test_repoint_after_a_restart_or_a_hold_not_after_its_own_slew() -> None:
    """Due before a light frame of a slewed target this run has not pointed at (a restart),
    never before a dark or a target that does not slew; carried out: unpark, slew, the note
    "repoint"; then not due, nor after the slew step's news; a hold forgets it all."""
    r = rigged()
    plan = Plan("p", (Target("M42", east_of_meridian(300, 10), 10.0,
                             (Batch(1, 5.0), Batch(1, 5.0, frame_type="Dark"))),
                      Target("Flats", slew=False, batches=(Batch(1, 1.0, frame_type="Flat"),))))
    hands = hands_on(r, plan, listeners=lambda: [repoint])  # the trigger, made from them
    repoint = Repoint(hands)
    repoint.restore({"slew": {"target": 0, "pier_side": "WEST"}})  # nothing to restore
    light, dark, flat = at(plan, 0), at(plan, 1), at(plan, 2)
    assert await repoint.due(dark) is None and await repoint.due(flat) is None
    due = await repoint.due(light)
    assert due is not None
    await repoint.carry_out(light, due)
    assert r.sky.said("unpark") and len(r.mount.slews) == 1 and not r.mount.parked
    assert notes(hands, "repoint") == [{"target": 0}]
    assert await repoint.due(light) is None
    repoint.hear(Held())
    assert await repoint.due(light) is not None
    repoint.hear(Slewed(0, "WEST"))
    assert await repoint.due(light) is None


async def test_the_flip_once_past_the_limit_and_its_memory_restored() -> None:
    """East of the meridian: not due; past the limit: due with the hour angle, slews again,
    the pier side changes (note "flip" with it), not due again for that target; a new slew
    of the target makes it due again. Restored from the notes "slew" and "flip" of a journal:
    not due (already flipped). Never for a dark frame."""
    r = rigged()
    plan = Plan("p", (Target("M42", east_of_meridian(2.0), 20.0,
                             (Batch(2, 60.0), Batch(1, 5.0, frame_type="Dark"))),),
                flip=Flip(hour_angle_limit=0.0, settle=5.0))
    hands = hands_on(r, plan, listeners=lambda: [flip])
    flip = MeridianFlip(hands)
    await r.mount.slew_to(plan.targets[0].ra or 0, 20.0)
    flip.hear(Slewed(0, r.mount.side))
    light = at(plan, 0)
    assert r.mount.side == "WEST" and await flip.due(light) is None
    await r.sky.pass_time(180)
    due = await flip.due(light)
    assert due is not None and due.reading is not None and due.reading > 0
    assert await flip.due(at(plan, 2)) is None
    await flip.carry_out(light, due)
    assert r.mount.side == "EAST" and 5.0 in r.sky.slept
    assert notes(hands, "flip") == [{"target": 0, "hour_angle": due.reading,
                                     "pier_side": "EAST"}]
    assert await flip.due(light) is None
    flip.hear(Slewed(0, "WEST"))
    assert await flip.due(light) is not None

    again = MeridianFlip(hands)
    again.restore({"slew": {"target": 0, "pier_side": "WEST"},
                   "flip": {"target": 0, "hour_angle": 0.8, "pier_side": "EAST"}})
    assert await again.due(light) is None


async def test_the_flip_follows_the_site_the_mount_says_now() -> None:
    """The mount's site moved mid-night (a GPS fix, a client's GEOGRAPHIC_COORD) so that the
    target, east of the old meridian, is past the new one: the flip is due at once, by the
    site the mount chooses its pier side by, and the flip's slew changes the side; the plan's
    own site only where the mount says none."""
    r = rigged()
    plan = Plan("p", (Target("M42", east_of_meridian(2.0), 20.0, (Batch(2, 60.0),)),),
                flip=Flip(hour_angle_limit=0.0), site=Site(0.0, -150.0))
    hands = hands_on(r, plan)
    flip = MeridianFlip(hands)
    await r.mount.slew_to(plan.targets[0].ra or 0, 20.0)
    flip.hear(Slewed(0, r.mount.side))
    light = at(plan, 0)
    assert r.mount.side == "WEST" and await flip.due(light) is None
    assert r.mount.where is not None
    r.mount.where = replace(r.mount.where, longitude=r.mount.where.longitude + 1.0)
    due = await flip.due(light)  # 4 minutes past the meridian, no time passed
    assert due is not None and due.reading is not None and due.reading > 0
    await flip.carry_out(light, due)
    assert r.mount.side == "EAST"
    r.mount.where = None  # the mount says none: the last it said, not the plan's
    assert await hands.site() == replace(SITE, longitude=SITE.longitude + 1.0)
    assert await hands_on(r, plan).site() == plan.site


async def test_a_flip_that_leaves_the_side_is_refused_naming_the_mount() -> None:
    r = rigged()
    r.mount.keeps_side = True
    plan = Plan("p", (Target("M42", east_of_meridian(2.0), 20.0, (Batch(1, 60.0),)),),
                flip=Flip(hour_angle_limit=0.0))
    hands = hands_on(r, plan)
    flip = MeridianFlip(hands)
    await r.mount.slew_to(plan.targets[0].ra or 0, 20.0)
    flip.hear(Slewed(0, r.mount.side))
    await r.sky.pass_time(300)
    due = await flip.due(at(plan, 0))
    assert due is not None
    with pytest.raises(DeviceRefused, match="still on the WEST side"):
        await flip.carry_out(at(plan, 0), due)
    assert notes(hands, "flip") == [] and await flip.due(at(plan, 0)) is not None


@pytest.mark.parametrize("pulses", [True, False])
async def test_the_dither_counts_light_frames_and_is_reset_by_a_slew_or_a_flip(
        pulses: bool) -> None:
    """Due once `every` light frames were saved since the last dither, slew or flip (darks
    do not count); carried out by pulses where the mount takes them, else a small slew, the
    note "dither" saying how and the scale, then the settle; the count starts again."""
    r = rigged(pulses=pulses)
    plan = Plan("p", (Target("M42", east_of_meridian(300, 10), 10.0,
                             (Batch(3, 5.0), Batch(1, 5.0, frame_type="Dark"))),),
                dither=DitherSettings(every=2, pixels=4, settle=3.0), flip=Flip(enabled=False))
    hands = hands_on(r, plan)
    dither = DitherTrigger(hands)
    light, dark = at(plan, 0), at(plan, 3)
    dither.hear(Framed(light.step))
    dither.hear(Framed(dark.step))
    assert await dither.due(light) is None
    dither.hear(Framed(at(plan, 1).step))
    due = await dither.due(light)
    assert due is not None and await dither.due(dark) is None
    for news in (Slewed(0, "WEST"), Flipped(0, "EAST")):
        dither.hear(news)
        assert await dither.due(light) is None
        dither.hear(Framed(light.step))
        dither.hear(Framed(light.step))
    await dither.carry_out(light, due)
    assert len(r.mount.pulsed) == (1 if pulses else 0)
    assert len(r.mount.slews) == (0 if pulses else 1)
    assert r.sky.slept == [3.0]
    [note] = notes(hands, "dither")
    assert note["method"] == ("pulse" if pulses else "offset")
    assert note["arcsec_per_pixel"] == pytest.approx(206.265 * 5.2 / 900.0)
    assert await dither.due(light) is None


async def test_autofocus_when_due_its_cards_and_its_memory_restored() -> None:
    """Due at a target's start (the reason in words), not before a dark while unsafe;
    carried out: the focus run, the note "autofocus" (why, at, temperature, HFR, position),
    AFHFR and AFPOS for the headers; then due on a filter change, on a temperature change.
    Restored from a journal's note: its cards, and no second run at the start of that
    target."""
    r = rigged()
    focus = FocusDouble(r.sky, hfr=1.6)
    plan = Plan("p", (Target("M42", east_of_meridian(300, 10), 10.0, (
        Batch(1, 60.0, "Red"), Batch(1, 60.0, "Green"), Batch(1, 5.0, frame_type="Dark"))),),
        flip=Flip(enabled=False),
        autofocus=AutofocusSettings(at_start=True, on_filter_change=True,
                                    temperature_delta=1.0, points=3))
    hands = hands_on(r, plan, focus=focus)
    autofocus = AutofocusTrigger(hands)
    red, green = at(plan, 0), at(plan, 1)
    autofocus.hear(Framing(red.step))
    assert await autofocus.due(at(plan, 2, unsafe=True)) is None
    due = await autofocus.due(red)
    assert due is not None and "start" in due.why and due.reading == 10.0
    assert autofocus.cards() == []
    await autofocus.carry_out(red, due)
    assert len(focus.calls) == 1
    [note] = notes(hands, "autofocus")
    assert (note["target"], note["ok"], note["hfr"], note["position"]) == (0, True, 1.6, 4990)
    assert note["temperature"] == 10.0 and note["at"] == r.sky.now.isoformat()
    assert [card[:2] for card in autofocus.cards()] == [("AFHFR", 1.6), ("AFPOS", 4990)]
    autofocus.hear(Framed(red.step))
    autofocus.hear(Framing(green.step))
    assert "filter" in ((await autofocus.due(green)) or due).why
    autofocus.hear(Framed(green.step))
    assert await autofocus.due(green) is None
    r.focuser.celsius = 8.5
    moved = await autofocus.due(green)
    assert moved is not None and "temperature" in moved.why

    restored = AutofocusTrigger(hands_on(r, plan, focus=focus))
    restored.restore({"autofocus": {**note, "at": (r.sky.now - timedelta(minutes=5)).isoformat()}})
    assert [card[:2] for card in restored.cards()] == [("AFHFR", 1.6), ("AFPOS", 4990)]
    restored.hear(Framing(red.step))
    r.focuser.celsius = 10.0
    assert await restored.due(red) is None
