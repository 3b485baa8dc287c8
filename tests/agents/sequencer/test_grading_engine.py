"""Issue 93 item 2 in the engine, on the rig's doubles with the sky's clock: a rejected frame
is taken again before the mount leaves its target (the verdict is taken in before the slew to
the next one), and before the night's end (the end is not done while a frame it closes on was
rejected). The camera double draws our camera simulator's stars, sharp, or none at all (a
frame through thick cloud) for the exposures the test names. Killed between a frame's save and
its verdict, the resumed night's verdict carries the altitude the frame's header has (issue 93
item 5)."""

from __future__ import annotations

from typing import Any

import pytest
from seqdoubles import Crash
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import Rigged
from seqdoubles import rigged
from test_engine import east_of_meridian
from test_engine import sequencer

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import Frame
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipycore.fits import fits_bytes
from indipycore.fits import read_header
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor
from indipysimulators.ccd import SimulatedCamera

WIDTH, HEIGHT = 320, 256


def starry(r: Rigged, faults: dict[int, str]) -> None:
    """`r`'s camera draws stars; on the exposures (counted from 1) `faults` names, through
    "cloud" (none but a hot pixel or two) or "trailed" (each star drawn along 12 pixels)."""
    def camera(stars: int, trail: float = 0.0) -> SimulatedCamera:
        drawn = SimulatedCamera(Sensor(WIDTH, HEIGHT, 5.2), stars=stars)
        drawn.seeing_jitter = 0.0
        if trail:
            drawn.stars = [(x + trail * k / 12, y, flux / 12) for x, y, flux in drawn.stars
                           for k in range(12)]
        return drawn

    cameras = {"": camera(40), "cloud": camera(0), "trailed": camera(40, 12.0)}
    plain = r.camera.expose

    async def expose(seconds: float, **options: Any) -> Frame:
        taken = await plain(seconds, **options)
        cards = [(key, value, "") for key, value in read_header(taken.data).values.items()
                 if key in ("EXPTIME", "FILTER", "IMAGETYP", "XBINNING")]
        cards.append(("OBJCTALT", 41.25 + len(r.camera.exposures), ""))  # the camera's own
        drawn = cameras[faults.get(len(r.camera.exposures), "")]
        image = drawn.render(Exposure(seconds, 0, 0, WIDTH, HEIGHT))
        return Frame(fits_bytes(WIDTH, HEIGHT, image.pixels, cards=cards))

    r.camera.expose = expose  # type: ignore[method-assign]


def plan() -> Plan:
    return Plan("graded", (
        Target("M42", east_of_meridian(120, 10), 10.0, (Batch(3, 30.0, "Red"),)),
        Target("M43", east_of_meridian(130, 10), 10.0, (Batch(1, 30.0, "Red"),)),
    ), grading=Grading(hfr_ratio=1.5, stars_ratio=0.5, eccentricity_max=0.6, min_frames=1))


async def test_a_rejected_frame_is_taken_again_before_the_slew_and_the_end() -> None:
    r = rigged()
    starry(r, {3: "cloud", 5: "trailed"})  # M42's third frame (a ratio), M43's first (a limit)
    journal, store = MemoryJournal(), MemoryStore()
    assert await sequencer(plan(), r, journal, store).run() is RunState.DONE
    events = [(record["kind"], record.get("step"), record.get("verdict"))
              for record in journal.records() if record["kind"] in ("begin", "graded")]
    m42, m43 = "M42/0/Red/Light/003", "M43/0/Red/Light/001"
    assert events == [
        ("begin", "M42/slew", None),
        ("begin", "M42/0/Red/Light/001", None),
        ("begin", "M42/0/Red/Light/002", None),
        ("graded", "M42/0/Red/Light/001", "accepted"),
        ("begin", m42, None),
        ("graded", "M42/0/Red/Light/002", "accepted"),
        ("begin", "M43/slew", None),
        ("graded", m42, "rejected"),  # taken in before the mount leaves M42
        ("begin", m42, None),
        ("begin", "M43/slew", None),
        ("graded", m42, "accepted"),
        ("begin", m43, None),
        ("begin", "end", None),
        ("graded", m43, "rejected"),  # taken in before the end
        ("begin", m43, None),
        ("begin", "end", None),
        ("graded", m43, "accepted")]
    assert len(r.camera.exposures) == 6
    assert sorted(name for name in store.frames() if name.startswith("lights/")) == [
        "lights/Red/M42_Red_Light_001.fits", "lights/Red/M42_Red_Light_002.fits",
        "lights/Red/M42_Red_Light_003.fits", "lights/Red/M43_Red_Light_001.fits"]
    assert sorted(name for name in store.frames() if name.startswith("rejected/")) == [
        "rejected/Red/M42_Red_Light_003.fits", "rejected/Red/M43_Red_Light_001.fits"]
    state = journal.state()
    assert state.rejected == {m42: 1, m43: 1} and state.finished


async def test_a_plan_without_grading_judges_nothing() -> None:
    r = rigged()
    starry(r, {1: "cloud", 2: "trailed", 3: "cloud", 4: "trailed"})
    journal, store = MemoryJournal(), MemoryStore()
    no_grading = Plan("plain", plan().targets)
    assert await sequencer(no_grading, r, journal, store).run() is RunState.DONE
    assert journal.kinds("graded") == [] and len(r.camera.exposures) == 4
    assert "HFR" not in read_header(store.path("lights/Red/M42_Red_Light_001.fits")
                                    .read_bytes()).values


async def test_a_frame_judged_after_a_kill_carries_the_altitude_its_header_has() -> None:
    """Killed after the first frame was saved and journalled, before its verdict (the
    ``graded`` record never written: a SIGKILL there), the night started again judges it late,
    the altitude at its mid exposure unknown now: the verdict's ``alt_deg`` is the frame's
    OBJCTALT (not null), the header's card left as it was; the frames judged in their own run
    keep the mount's altitude at mid exposure."""
    r = rigged()
    starry(r, {})
    journal, store = MemoryJournal(), MemoryStore()
    journal.crash_at = "graded"
    with pytest.raises(Crash):
        await sequencer(plan(), r, journal, store).run()
    first = "M42/0/Red/Light/001"
    assert journal.state().ungraded == {first: "lights/Red/M42_Red_Light_001.fits"}
    header = read_header(store.path("lights/Red/M42_Red_Light_001.fits").read_bytes()).values
    told = {"the plan's text": plan()}
    again = Sequencer.resume(journal, store, Rig(r.camera, r.wheel, r.focuser, r.mount),
                             parse=lambda text, source: told[text], clock=r.sky.clock,
                             sleep=r.sky.sleep)
    assert await again.run() is RunState.DONE
    graded = {record["step"]: record["measure"] for record in journal.kinds("graded")}
    assert isinstance(header["OBJCTALT"], float)
    assert graded[first]["alt_deg"] == header["OBJCTALT"]
    assert read_header(store.path("lights/Red/M42_Red_Light_001.fits").read_bytes()
                       ).values["OBJCTALT"] == header["OBJCTALT"]
    cameras = {41.25 + n for n in range(1, 10)}
    assert all(measure["alt_deg"] is not None and measure["alt_deg"] not in cameras
               for step, measure in graded.items() if step != first), graded
