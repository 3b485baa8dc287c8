"""The sequencer's engine (`indipyagents.sequencer.engine`) on a rig of faithful doubles and a
clock the test drives: the order of the steps, dither cadence, autofocus triggers, the meridian
flip, pause/resume/abort, lost and refusing devices, and resuming from the journal after a
crash. The journal and store are in-memory doubles with the journal folder's shared names."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
from seqdoubles import SITE
from seqdoubles import T0
from seqdoubles import Crash
from seqdoubles import FocusDouble
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import rigged

from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.model import Wait
from indipyagents.rig.dither import plate_scale
from indipyagents.rig.dither import random_offset
from indipyagents.rig.dither import to_pulses
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import DeviceRefused
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import Progress
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import CLIENT_PAUSE
from indipyagents.sequencer.engine import Sequencer
from indipycore import astro
from indipycore.fits import read_header
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry


def east_of_meridian(minutes: float, dec: float = 20.0) -> float:
    """The J2000 RA of a star `minutes` of time east of the meridian at T0 from SITE."""
    lst = astro.local_sidereal_time(T0, SITE.longitude)
    ra, _ = astro.precess_to_j2000(astro.wrap_hours(lst + minutes / 60.0), dec, T0)
    return ra


def two_targets(**plan: Any) -> Plan:
    return Plan("night", (
        Target("M42", east_of_meridian(120, 10), 10.0, (Batch(2, 30.0, "Red"), Batch(1, 20.0, "Green"))),
        Target("Darks", slew=False, batches=(Batch(2, 10.0, frame_type="Dark"),)),
    ), **plan)


class Recorder:
    """The observer: every progress report and frame, as the face would see them."""

    def __init__(self) -> None:
        self.reports: list[Progress] = []
        self.frames: list[str] = []

    async def progress(self, progress: Progress) -> None:
        self.reports.append(progress)

    async def frame(self, name: str, data: bytes) -> None:
        self.frames.append(name)


def sequencer(plan: Plan, r: Rigged, journal: MemoryJournal | None = None,
              store: MemoryStore | None = None, **options: Any) -> Sequencer:
    rig = Rig(r.camera, r.wheel, r.focuser, r.mount)
    options.setdefault("retry", Retry(ConstantBackoff(5.0), retries=2))
    return Sequencer(plan, rig, journal or MemoryJournal(), store or MemoryStore(),
                     plan_text="the plan's text", clock=r.sky.clock, sleep=r.sky.sleep,
                     **options)


async def test_steps_run_in_order_and_frames_carry_the_agents_cards() -> None:
    """A plan runs as it reads: unpark and slew to the first target, each batch's filter then
    its frames, the second target's darks where the mount points, then park and warm; every
    frame is saved once, in order, journalled saved then done, and its FITS header says the
    exposure asked, the wheel's filter and the agent's OBJECT, PLAN and step."""
    r = rigged()
    r.wheel.current = 4
    journal, store, seen = MemoryJournal(), MemoryStore(), Recorder()
    seq = sequencer(two_targets(), r, journal, store, observer=seen)
    assert await seq.run() is RunState.DONE
    said = [what.split()[0] for _t, what in r.sky.log]
    assert said == ["unpark", "slew", "filter", "expose", "expose", "filter", "expose",
                    "expose", "expose", "park", "warm"]
    assert store.order == ["lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits",
                           "lights/Green/M42_Green_Light_001.fits", "darks/Darks_NoFilter_Dark_001.fits",
                           "darks/Darks_NoFilter_Dark_002.fits"]
    assert seen.frames == [name.split("/")[-1] for name in store.order]
    headers = [read_header(store.files[name]) for name in store.order]
    assert [h["EXPTIME"] for h in headers] == [30.0, 30.0, 20.0, 10.0, 10.0]
    assert [h["FILTER"] for h in headers[:3]] == ["Red", "Red", "Green"]
    assert [h["OBJECT"] for h in headers] == ["M42"] * 3 + ["Darks"] * 2
    assert headers[0]["PLAN"] == "night" and headers[0]["SEQSTEP"] == seq.frame_steps[0].id
    kinds = journal.kinds_in_order()
    first_frame = kinds.index("frame")
    assert kinds[first_frame - 1] == "begin" and kinds[first_frame + 1] == "done"
    assert kinds[0] == "start" and kinds[-1] == "finished"
    last = seen.reports[-1]
    assert (last.state, last.frames_done, last.frames_total) == (RunState.DONE, 5, 5)
    assert (last.exposure_done, last.exposure_total) == (100.0, 100.0)


@pytest.mark.parametrize("pulses", [True, False])
async def test_dither_every_n_light_frames(pulses: bool) -> None:
    """With dither every 2, seven light frames are dithered before the 3rd, 5th and 7th (never
    after the last): by guide pulses where the mount takes them, else by a small slew off the
    target; each dither is followed by its settle before the next exposure."""
    r = rigged(pulses=pulses)
    target = Target("M42", east_of_meridian(300, 10), 10.0, (Batch(7, 5.0),))
    plan = Plan("dither", (target,), dither=Dither(every=2, pixels=4, settle=3.0),
                flip=Flip(enabled=False))
    assert await sequencer(plan, r).run() is RunState.DONE
    moves = [what.split()[0] for _t, what in r.sky.log if what.split()[0] in ("expose", "pulse", "slew")]
    dither = "pulse" if pulses else "slew"
    assert moves[0] == "slew"
    assert moves[1:] == ["expose", "expose", dither, "expose", "expose", dither, "expose",
                         "expose", dither, "expose"]
    assert len(r.mount.pulsed) == (3 if pulses else 0)
    assert len(r.mount.slews) == (1 if pulses else 4)
    assert r.sky.slept.count(3.0) == 3
    if not pulses:  # small offsets: within 4 pixels of 1.19" (5.2 um behind 900 mm)
        for ra, dec in [(float(w.split()[1]), float(w.split()[2])) for w in r.sky.said("slew")[1:]]:
            assert abs(dec - 10.0) <= 4 * 1.2 / 3600 + 1e-3
            assert abs(astro.hours_between(target.ra or 0, ra)) * 15 <= 0.01


@pytest.mark.parametrize(("pixel_um", "focal_mm", "binning", "rates"), [
    (5.2, 900.0, 1, (0.5, 0.5)), (3.76, 400.0, 1, (0.5, 0.5)), (5.2, 450.0, 1, (0.5, 0.5)),
    (5.2, 900.0, 2, (0.5, 0.5)), (5.2, 900.0, 1, (0.25, 1.0)), (None, None, 1, (0.5, 0.5))])
async def test_dither_size_follows_the_plate_scale(
        pixel_um: float | None, focal_mm: float | None, binning: int,
        rates: tuple[float, float]) -> None:
    """The dither's offset is the plan's pixels at the rig's plate scale: the camera's pixel
    (CCD_INFO) behind the mount's focal length (TELESCOPE_INFO), times the frame's binning,
    indilib's simulators' 5.2 um and 900 mm where either says nothing; its pulses are timed at
    the mount's GUIDE_RATE. With one seed, the pulses are exactly `rig.dither`'s for that
    scale (so halving the focal length doubles them), and the journal says the scale used."""
    r = rigged()
    r.camera.pixel_um, r.mount.focal_mm, r.mount.rates = pixel_um, focal_mm, rates
    target = Target("M42", east_of_meridian(300, 10), 10.0, (Batch(3, 5.0, binning=binning),))
    plan = Plan("scale", (target,), dither=Dither(every=2, pixels=4, settle=1.0),
                flip=Flip(enabled=False))
    journal = MemoryJournal()
    assert await sequencer(plan, r, journal, rng=random.Random(7)).run() is RunState.DONE
    scale = plate_scale(pixel_um, focal_mm) * binning
    offset = random_offset(random.Random(7), 4, scale)
    expected = to_pulses(offset, 10.0, *rates)
    assert len(r.mount.pulsed) == 1
    assert r.mount.pulsed[0] == (pytest.approx(expected.north_ms), pytest.approx(expected.west_ms))
    base = to_pulses(random_offset(random.Random(7), 4, plate_scale(5.2, 900.0)), 10.0)
    ratio = scale / plate_scale(5.2, 900.0) * (0.5 / rates[0])
    assert r.mount.pulsed[0][0] == pytest.approx(base.north_ms * ratio)
    [note] = [n["data"] for n in journal.kinds("note") if n["kind"] == "dither"]
    assert note["method"] == "pulse"
    assert note["arcsec_per_pixel"] == pytest.approx(scale)
    assert (note["north_arcsec"], note["west_arcsec"]) == (
        pytest.approx(offset.north), pytest.approx(offset.west))


async def test_autofocus_at_start_on_filter_change_and_by_time_and_temperature() -> None:
    """Autofocus runs when the plan says: at the start of the target, on each filter change,
    once `every_minutes` passed, and when the focuser's temperature moved by the set amount;
    each run is journalled as a note, and the HFR found goes into the next frames' header."""
    r = rigged()
    focus = FocusDouble(r.sky, hfr=1.75)
    plan = Plan("focus", (Target("M42", east_of_meridian(300, 10), 10.0, (
        Batch(2, 60.0, "Red"), Batch(1, 60.0, "Green"), Batch(5, 60.0, "Green"))),),
        flip=Flip(enabled=False),
        autofocus=Autofocus(at_start=True, on_filter_change=True, every_minutes=3.5,
                            temperature_delta=1.0, exposure=2.0, points=5))
    journal, store, seen = MemoryJournal(), MemoryStore(), Recorder()
    seq = sequencer(plan, r, journal, store, focus=focus, observer=seen)

    async def cooling() -> None:  # the 8th frame starts after the focuser cooled by 1.5
        while len(r.camera.exposures) < 7:
            await asyncio.sleep(0)
        r.focuser.celsius = 8.5

    cool = asyncio.create_task(cooling())
    assert await seq.run() is RunState.DONE
    await cool
    notes = [n["data"] for n in journal.kinds("note") if n["kind"] == "autofocus"]
    # Before the 1st frame (start), the 3rd (Green after Red), the 7th (4 minutes after the
    # last run) and the 8th (cooled by 1.5 degrees); the reasons are the decisions' words.
    before = [sum(1 for start, _ in r.camera.exposures if start < t) for t in focus.calls]
    assert before == [0, 2, 6, 7]
    whys = [n["why"] for n in notes]
    assert "start" in whys[0] and "filter" in whys[1] and "4 minutes" in whys[2]
    assert "temperature" in whys[3] and "1.5" in whys[3]
    assert all(n["ok"] and n["hfr"] == 1.75 for n in notes)
    before_first = store.order[0]
    assert read_header(store.files[before_first])["AFHFR"] == 1.75
    assert read_header(store.files[before_first])["AFPOS"] == 4990
    assert len(focus.calls) == 4
    # The reports say where the run is: batch 3's first frame (the file's number is 2: the
    # second Green light of the target), of 5, with the HFD of the last autofocus.
    places = {(p.batch, p.frame, p.frames_in_batch) for p in seen.reports}
    assert (3, 1, 5) in places and (3, 5, 5) in places and (3, 6, 5) not in places
    assert seen.reports[-1].hfd == 3.5


async def test_meridian_flip_once_after_the_limit_and_never_while_exposing() -> None:
    """A target two minutes east of the meridian, imaged for nine minutes with the flip at the
    meridian: the mount slews again exactly once, at the first frame after the hour angle
    passed 0, its pier side goes from WEST to EAST, and no exposure overlaps a slew."""
    r = rigged()
    plan = Plan("flip", (Target("M42", east_of_meridian(2.0), 20.0, (Batch(9, 60.0),)),),
                flip=Flip(hour_angle_limit=0.0, settle=5.0))
    journal = MemoryJournal()
    seq = sequencer(plan, r, journal)
    assert await seq.run() is RunState.DONE
    assert len(r.mount.slews) == 2
    sides = [n["data"]["pier_side"] for n in journal.kinds("note") if n["kind"] in ("slew", "flip")]
    assert sides == ["WEST", "EAST"]
    flip_at = r.mount.slews[1][0]
    # It flipped at the first frame boundary after the crossing (2 min after T0), not before.
    assert 120.0 <= flip_at <= 120.0 + 60.0 + 15.0
    for start, end in r.camera.exposures:
        for s_start, s_end in r.mount.slews:
            assert end <= s_start or start >= s_end
    assert len(r.camera.exposures) == 9


async def test_a_flip_that_leaves_the_pier_side_unchanged_pauses_naming_the_mount() -> None:
    """A mount that slews for the flip but stays on its side (its own meridian limits) would
    track on towards the pier: the night pauses at once with an Alert naming the mount and
    the side, takes no frame past the meridian, and START tries the flip again."""
    r = rigged()
    r.mount.keeps_side = True
    plan = Plan("flip", (Target("M42", east_of_meridian(2.0), 20.0, (Batch(9, 60.0),)),),
                flip=Flip(hour_angle_limit=0.0, settle=5.0))
    seq = sequencer(plan, r)
    assert await seq.run() is RunState.PAUSED
    assert seq.reason is not None and "Telescope Simulator" in seq.reason
    assert "still on the WEST side" in seq.reason
    taken = len(r.camera.exposures)
    assert taken < 9 and len(r.mount.slews) == 2
    r.mount.keeps_side = False
    assert await seq.run() is RunState.DONE
    assert len(r.mount.slews) == 3 and len(r.camera.exposures) == 9


async def test_pause_finishes_the_frame_then_resume_continues() -> None:
    """A pause during an exposure lets that frame end and be saved, then the run stops PAUSED
    (journalled); running again continues with the next frame, and at the end each planned
    frame exists once."""
    r = rigged()
    journal, store = MemoryJournal(), MemoryStore()
    seq = sequencer(two_targets(), r, journal, store)
    run = asyncio.create_task(seq.run())
    while len(r.camera.exposures) < 1 or not r.camera.exposing.is_set():
        await asyncio.sleep(0)
    seq.pause()
    assert await run is RunState.PAUSED
    assert store.order == ["lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits"]
    assert journal.kinds("paused") == [{"reason": "paused by a client"}]
    assert await seq.run() is RunState.DONE
    assert len(store.order) == len(set(store.order)) == 5
    assert journal.kinds("resumed") == [{}]


async def test_abort_stops_the_camera_and_parks_and_warms() -> None:
    """An abort during an exposure aborts the camera at once (that frame is not saved), parks
    the mount and warms the camera as End says, and the journal records the abort."""
    r = rigged()
    journal, store = MemoryJournal(), MemoryStore()
    seq = sequencer(two_targets(), r, journal, store)
    run = asyncio.create_task(seq.run())
    await r.camera.exposing.wait()
    await seq.abort()
    assert await run is RunState.ABORTED
    assert store.order == []
    assert r.camera.aborted == 1 and r.camera.warmed == 1 and r.mount.parked
    assert journal.kinds("aborted") == [{"reason": "aborted by a client"}]
    assert "finished" not in journal.kinds_in_order()


async def test_lost_device_is_retried_by_the_retry_policy() -> None:
    """A camera lost twice (its driver restarting) has its frame taken again after the retry
    policy's delays, and the plan ends with every frame once."""
    r = rigged()
    r.camera.failing.errors = [None, DeviceLost("CCD Simulator", "driver died"),
                               DeviceLost("CCD Simulator", "driver died")]
    store = MemoryStore()
    assert await sequencer(two_targets(), r, store=store).run() is RunState.DONE
    assert len(store.order) == 5
    assert r.sky.slept.count(5.0) == 2


async def test_lost_for_good_pauses_naming_the_device_and_resumes_later() -> None:
    """A mount that stays lost past the retries pauses the run with the reason naming it (in
    the state, the report and the journal); started again once the mount is back, the run
    retries that step and ends."""
    r = rigged()
    r.mount.failing.always = DeviceLost("Telescope Simulator", "not connected")
    journal, seen = MemoryJournal(), Recorder()
    seq = sequencer(two_targets(), r, journal, observer=seen)
    assert await seq.run() is RunState.PAUSED
    assert "Telescope Simulator" in seq.reason and "not connected" in seq.reason
    assert "Telescope Simulator" in journal.kinds("paused")[0]["reason"]
    assert seen.reports[-1].state is RunState.PAUSED and "Telescope Simulator" in seen.reports[-1].reason
    assert r.camera.exposures == []
    r.mount.failing.always = None
    assert await seq.run() is RunState.DONE
    assert len(r.camera.exposures) == 5


async def test_refusal_pauses_with_the_devices_message() -> None:
    """A device that answers Alert is not retried: the run pauses at once with its message."""
    r = rigged()
    r.camera.failing.errors = [DeviceRefused("CCD Simulator", "CCD_EXPOSURE went Alert: too cold")]
    seq = sequencer(two_targets(), r)
    assert await seq.run() is RunState.PAUSED
    assert seq.reason == "CCD Simulator: CCD_EXPOSURE went Alert: too cold"
    assert r.sky.slept == []


@pytest.mark.parametrize("crash_at", ["mid-exposure", "frame", "done", "note"])
async def test_resume_after_a_crash_takes_each_frame_exactly_once(crash_at: str) -> None:
    """The run is killed (mid-exposure, after a frame was saved but before the journal says so,
    between saved and done, while journalling a decision), and a new Sequencer built from the
    journal's plan continues it: at the end exactly the planned frames exist, none taken twice
    (the store refuses a second save), a frame on disk the journal lacked counted as done."""
    r = rigged()
    plan = two_targets(dither=Dither(every=1, settle=1.0))
    journal, store = MemoryJournal(), MemoryStore()
    first = sequencer(plan, r, journal, store)
    if crash_at == "mid-exposure":
        run = asyncio.create_task(first.run())
        while len(r.camera.exposures) < 2 or not r.camera.exposing.is_set():
            await asyncio.sleep(0)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
    else:
        async def after_the_second_frame_is_saved() -> None:
            while len(store.order) < 2:
                await asyncio.sleep(0)
            journal.crash_at = crash_at  # the next such record kills the run

        arm = asyncio.create_task(after_the_second_frame_is_saved())
        with pytest.raises(Crash):
            await first.run()
        await arm
    texts = {"the plan's text": plan}
    second = Sequencer.resume(journal, store, Rig(r.camera, r.wheel, r.focuser, r.mount),
                              parse=lambda text, source: texts[text], clock=r.sky.clock,
                              sleep=r.sky.sleep)
    assert await second.run() is RunState.DONE
    # the frames, and the night's calibration.json (issue 92 item 4: it took darks)
    assert sorted(set(store.files) - {"calibration.json"}) == sorted(
        step.file_name for step in second.frame_steps)
    assert "calibration.json" in store.files
    assert len(store.order) == 5
    done = {d["step"] for d in journal.kinds("done")}
    assert {step.id for step in second.frame_steps} <= done


async def test_wait_for_altitude_sleeps_until_the_target_is_high_enough() -> None:
    """A target low in the east waits (bounded naps on the clock) until it stands 30 degrees
    high before its first frame; one that never rises that high pauses with the reason."""
    r = rigged()
    ra = east_of_meridian(5 * 60, 10)
    plan = Plan("wait", (Target("M42", ra, 10.0, (Batch(1, 5.0),), wait=Wait(altitude=30.0)),),
                flip=Flip(enabled=False))
    seq = sequencer(plan, r)
    assert await seq.run() is RunState.DONE
    def altitude_after(seconds: float) -> float:
        when = T0 + timedelta(seconds=seconds)
        ra_now, dec_now = astro.precess_from_j2000(ra, 10.0, when)
        lst = astro.local_sidereal_time(when, SITE.longitude)
        return astro.altitude(astro.hour_angle(lst, ra_now), dec_now, SITE.latitude)

    first = r.camera.exposures[0][0]
    assert altitude_after(0) < 20.0
    assert 30.0 <= altitude_after(first) <= 31.0  # it started as soon as it could (30 s naps)
    assert max(r.sky.slept) <= 30.0

    low = Plan("low", (Target("South", ra, -60.0, (Batch(1, 5.0),), wait=Wait(altitude=30.0)),))
    seq = sequencer(low, rigged())
    assert await seq.run() is RunState.PAUSED
    assert "never rises above" in seq.reason


async def test_a_silent_device_is_lost_within_its_bound_never_a_hang() -> None:
    """A mount that stops answering mid-slew is lost once the call's bound passes, retried,
    and the run pauses naming it: a wait on the rig is always bounded."""
    r = rigged()
    r.mount.silent = True
    seq = sequencer(two_targets(), r, move_bound=0.05)
    assert await asyncio.wait_for(seq.run(), 10) is RunState.PAUSED
    assert seq.reason.startswith("Telescope Simulator: no answer within 0.05 s")
    assert r.sky.slept.count(5.0) == 2  # two retries, then the pause


async def test_abort_while_paused_parks_and_a_later_run_continues_without_repeats() -> None:
    """A paused run can be aborted (journalled, parked, warmed, nothing exposed); running it
    again continues from its journal: the frames already saved are not taken again."""
    r = rigged()
    journal, store = MemoryJournal(), MemoryStore()
    seq = sequencer(two_targets(), r, journal, store)
    run = asyncio.create_task(seq.run())
    await r.camera.exposing.wait()
    seq.pause()
    assert await run is RunState.PAUSED
    exposures = len(r.camera.exposures)
    await seq.abort("clouds")
    assert seq.state is RunState.ABORTED and r.mount.parked and r.camera.warmed == 1
    assert journal.kinds("aborted") == [{"reason": "clouds"}]
    assert len(r.camera.exposures) == exposures == 1
    assert await seq.run() is RunState.DONE
    assert len(store.order) == len(set(store.order)) == 5


async def test_a_finished_plan_run_again_takes_nothing_and_says_all_done() -> None:
    """START on a plan whose journal says finished takes no frame and reports every frame
    done (it used to say "0 of 5")."""
    r = rigged()
    journal, store = MemoryJournal(), MemoryStore()
    assert await sequencer(two_targets(), r, journal, store).run() is RunState.DONE
    exposures = len(r.camera.exposures)
    seen = Recorder()
    again = sequencer(two_targets(), r, journal, store, observer=seen)
    assert await again.run() is RunState.DONE
    assert len(r.camera.exposures) == exposures
    assert (seen.reports[-1].frames_done, seen.reports[-1].frames_total) == (5, 5)


async def test_a_resumed_run_still_writes_the_last_autofocus_into_its_frames() -> None:
    """Autofocus at the start, then a crash after the first frame: the resumed run, which
    does not focus again (the journal says it did), still writes that autofocus's HFR and the
    position it left the focuser at (AFHFR, AFPOS) into the frames it takes."""
    r = rigged()
    focus = FocusDouble(r.sky, hfr=1.5)
    plan = Plan("af", (Target("M42", east_of_meridian(300, 10), 10.0, (Batch(3, 10.0),)),),
                flip=Flip(enabled=False), autofocus=Autofocus(at_start=True, points=3))
    journal, store = MemoryJournal(), MemoryStore()
    first = sequencer(plan, r, journal, store, focus=focus)

    async def after_the_first_frame() -> None:
        while len(store.order) < 1:
            await asyncio.sleep(0)
        journal.crash_at = "frame"

    arm = asyncio.create_task(after_the_first_frame())
    with pytest.raises(Crash):
        await first.run()
    await arm
    second = Sequencer.resume(journal, store, Rig(r.camera, r.wheel, r.focuser, r.mount),
                              parse=lambda text, source: plan, clock=r.sky.clock,
                              sleep=r.sky.sleep, focus=focus)
    assert await second.run() is RunState.DONE
    assert len(focus.calls) == 1
    last = read_header(store.files[store.order[-1]])
    assert (last["AFHFR"], last["AFPOS"]) == (1.5, 4990)
async def test_a_restarted_run_points_the_mount_at_its_target_again() -> None:
    """Killed after the first frame (its slew journalled done), a new Sequencer on the journal
    slews to the target again before its next frame, once (the darks do not slew), because a
    mount whose driver or power came back may point anywhere; a pause and START of the same
    Sequencer does not slew again."""
    r = rigged()
    plan = two_targets()
    journal, store = MemoryJournal(), MemoryStore()
    first = sequencer(plan, r, journal, store)
    run = asyncio.create_task(first.run())
    while len(store.order) < 1:
        await asyncio.sleep(0)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    r.mount.at = (0.0, 90.0)  # the mount's driver restarted at its park position
    slewed, mark = len(r.mount.slews), len(r.sky.log)
    second = sequencer(plan, r, journal, store)
    paused = asyncio.create_task(second.run())
    while len(store.order) < 2:
        await asyncio.sleep(0)
    second.pause()
    assert await paused is RunState.PAUSED
    assert await second.run() is RunState.DONE
    assert len(r.mount.slews) == slewed + 1
    moves = [what.split()[0] for _t, what in r.sky.log[mark:]
             if what.split()[0] in ("slew", "expose")]
    assert moves[0] == "slew" and moves.count("slew") == 1, moves
    assert [n["data"] for n in journal.kinds("note") if n["kind"] == "repoint"] == [{"target": 0}]
    assert len(store.order) == len(set(store.order)) == 5


async def test_a_pause_is_journalled_when_asked_so_a_kill_before_the_frame_ends_keeps_it() -> None:
    """PAUSE during an exposure, then the run killed before that frame ends: the journal
    already says a client paused it (what the agent reads to not resume it after a restart);
    a client's START later continues it."""
    r = rigged()
    journal, store = MemoryJournal(), MemoryStore()
    r.camera.shutter = asyncio.Semaphore(0)
    seq = sequencer(two_targets(), r, journal, store)
    run = asyncio.create_task(seq.run())
    while not r.camera.exposing.is_set():
        await asyncio.sleep(0)
    seq.pause()
    seq.pause()  # asked twice, journalled once
    assert journal.state().paused == CLIENT_PAUSE
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert journal.kinds("paused") == [{"reason": CLIENT_PAUSE}]
    assert store.order == []
    r.camera.shutter = None
    second = sequencer(two_targets(), r, journal, store)
    assert await second.run() is RunState.DONE  # a client's START continues it
    assert journal.state().paused is None and len(store.order) == 5


async def test_an_abort_is_journalled_when_asked() -> None:
    """ABORT during an exposure: the journal says aborted as soon as `abort()` returns, before
    the run has stopped (a kill then must not resume the night), and once at the end."""
    r = rigged()
    journal = MemoryJournal()
    r.camera.shutter = asyncio.Semaphore(0)
    seq = sequencer(two_targets(), r, journal)
    run = asyncio.create_task(seq.run())
    while not r.camera.exposing.is_set():
        await asyncio.sleep(0)
    await seq.abort()
    assert journal.state().aborted
    assert await run is RunState.ABORTED
    assert journal.kinds("aborted") == [{"reason": "aborted by a client"}]


async def test_wait_until_a_time_takes_no_frame_before_it() -> None:
    """A target's `until` (an aware time) holds its first frame until then (bounded naps on
    the clock, no frame early), and a time already past waits for nothing."""
    r = rigged()
    ra = east_of_meridian(30 * 60, 10)
    until = T0 + timedelta(minutes=7)
    plan = Plan("time", (Target("M42", ra, 10.0, (Batch(1, 5.0),), wait=Wait(until=until)),),
                flip=Flip(enabled=False))
    assert await sequencer(plan, r).run() is RunState.DONE
    first = r.camera.exposures[0][0]
    assert 7 * 60 <= first <= 7 * 60 + 31  # started as soon as it could (30 s naps at most)
    assert max(r.sky.slept) <= 30.0

    r = rigged()
    past = Plan("past", (Target("M42", ra, 10.0, (Batch(1, 5.0),),
                                wait=Wait(until=T0 - timedelta(hours=1))),),
                flip=Flip(enabled=False))
    assert await sequencer(past, r).run() is RunState.DONE
    assert r.camera.exposures[0][0] < 60


async def test_frames_carry_the_batchs_gain_and_offset_for_the_calibration() -> None:
    """Issue 92 item 4: GAIN and OFFSET (what Siril and PixInsight group calibration frames
    by, and the dark library keys) in each frame of a batch that sets them, beside the
    camera's IMAGETYP, EXPTIME and XBINNING; none where the batch leaves them alone."""
    r = rigged()
    plan = Plan("night", (Target("Darks", slew=False, batches=(
        Batch(1, 10.0, frame_type="Dark", binning=2, gain=120.0, offset=30.0),
        Batch(1, 10.0, frame_type="Dark"))),))
    store = MemoryStore()
    assert await sequencer(plan, r, store=store).run() is RunState.DONE
    first, second = (read_header(store.files[name]) for name in store.order)
    assert (first["GAIN"], first["OFFSET"], first["XBINNING"]) == (120.0, 30.0, 2)
    assert first["IMAGETYP"] == "Dark" and first["EXPTIME"] == 10.0
    assert "GAIN" not in second.values and "OFFSET" not in second.values
