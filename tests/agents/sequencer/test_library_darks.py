"""Issue 92 item 4: the night takes only the darks its dark library lacks. A plan with the
library's darks (`with_library_darks`: a batch of darks per light exposure, last) runs on
the doubles with a real `DarkLibrary` in the test's folder: the darks the library has fresh
are skipped (journalled why), the ones it lacks are taken at the end of the night and kept
in it, ``calibration.json`` names the night's and the library's, and the next night takes
none; while a hold keeps the sky closed with
``sky_free_while_unsafe``, the library's darks are taken before the lights."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from seqdoubles import T0
from seqdoubles import MemoryJournal
from seqdoubles import MemoryStore
from seqdoubles import rigged

from indipyagents.calframes.library import DarkLibrary
from indipyagents.calframes.tonight import LIBRARY_COUNT
from indipyagents.calframes.tonight import LIBRARY_TARGET
from indipyagents.calframes.tonight import NightLibrary
from indipyagents.calframes.tonight import tonight_plan
from indipyagents.calframes.tonight import with_library_darks
from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.flatnight import CALIBRATION_TARGET
from indipyagents.plan.flatnight import FLAT_DARKS_TARGET
from indipyagents.plan.flatnight import is_calibration
from indipyagents.plan.flatnight import night_plan
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Safety
from indipyagents.plan.model import Target
from indipyagents.rig.protocols import Rig
from indipyagents.sequencer.contracts import RunState
from indipyagents.sequencer.engine import Sequencer
from indipycore.fits import fits_bytes


def night(**safety: object) -> Plan:
    lights = Target("M42", slew=False, batches=(Batch(2, 30.0, "Red"), Batch(1, 60.0, "Green")))
    plan = Plan("night", (lights,), safety=Safety(**safety))  # type: ignore[arg-type]
    return with_library_darks(plan, count=2)


def run_with(plan: Plan, library: DarkLibrary, *, unsafe: bool = False,
             days: float = 0.0) -> tuple[Sequencer, MemoryStore, MemoryJournal]:
    r = rigged()
    r.sky.now += timedelta(days=days)
    store, journal = MemoryStore(), MemoryJournal()
    seq = Sequencer(plan, Rig(r.camera, r.wheel, r.focuser, r.mount), journal, store,
                    plan_text="the plan's text", clock=r.sky.clock, sleep=r.sky.sleep)
    seq.hands.night_library = NightLibrary(library, store.folder)
    return seq, store, journal


def dark_file(path: Path, seconds: float, days_old: float) -> Path:
    taken = (T0 - timedelta(days=days_old)).strftime("%Y-%m-%dT%H:%M:%S")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fits_bytes(4, 4, [0] * 16, cards=[
        ("IMAGETYP", "Dark", ""), ("EXPTIME", seconds, ""), ("XBINNING", 1, ""),
        ("DATE-OBS", taken, "")]))
    return path


def test_the_plan_gets_a_batch_of_darks_per_light_exposure_last() -> None:
    plan = night()
    assert plan.targets[-1].name == LIBRARY_TARGET and not plan.targets[-1].slew
    assert [(b.exposure, b.frame_type, b.count) for b in plan.targets[-1].batches] == [
        (30.0, "Dark", 2), (60.0, "Dark", 2)]
    assert with_library_darks(plan) is plan  # once
    flats = Target("Flats", slew=False, batches=(Batch(3, 1.5, "Red", frame_type="Flat"),
                                                 Batch(3, 1.0, "Red", frame_type="Flat",
                                                       adu=30000)))
    base = Plan("night", (night().targets[0], flats))
    with_flat_darks = with_library_darks(base, count=2, flat_darks=True)
    assert [b.exposure for b in with_flat_darks.targets[-1].batches] == [30.0, 60.0, 1.5]
    assert [b.exposure for b in with_library_darks(base).targets[-1].batches] == [30.0, 60.0]


async def test_only_what_the_library_lacks_is_taken_and_kept(tmp_path: Path) -> None:
    """The library has fresh 30 s darks: tonight takes the 60 s ones only, at the end, and
    keeps them; a second night takes none; a month on, the darks are stale and taken again."""
    library = DarkLibrary(tmp_path / "library", max_age_days=30)
    library.keep([dark_file(tmp_path / "old" / f"D30_{n}.fits", 30.0, 2) for n in range(3)])
    seq, store, journal = run_with(night(), library)
    assert await seq.run() is RunState.DONE
    assert store.order == ["lights/Red/M42_Red_Light_001.fits",
                           "lights/Red/M42_Red_Light_002.fits",
                           "lights/Green/M42_Green_Light_001.fits",
                           "darks/Dark_library_NoFilter_Dark_003.fits",
                           "darks/Dark_library_NoFilter_Dark_004.fits"]
    skipped = [note["data"] for note in journal.kinds("note") if note["kind"] == "skipped"]
    assert [note["step"] for note in skipped] == ["Dark_library/0/NoFilter/Dark/001",
                                                  "Dark_library/0/NoFilter/Dark/002"]
    assert skipped[0]["why"] == "the library has fresh darks for camera bin 1, gain None, " \
        "offset None, 30 s at no cooler"
    assert sorted(dark.exposure for dark in library.darks()) == [30.0] * 3 + [60.0] * 2
    sheet = json.loads((store.folder / "calibration.json").read_text())
    groups = {group["exposure"]: group for group in sheet["groups"]}
    assert groups[60.0]["darks"] == ["darks/Dark_library_NoFilter_Dark_003.fits",
                                     "darks/Dark_library_NoFilter_Dark_004.fits"]
    assert len(groups[30.0]["darks"]) == 3 and all(  # the library's, where they are kept
        Path(p).is_relative_to(library.folder.resolve()) for p in groups[30.0]["darks"])
    seq, store, _ = run_with(night(), library, days=1)
    assert await seq.run() is RunState.DONE
    assert not any(name.startswith("darks/") for name in store.order)
    seq, store, _ = run_with(night(), library, days=31)
    assert await seq.run() is RunState.DONE
    assert sum(name.startswith("darks/") for name in store.order) == 4
    assert sorted(dark.exposure for dark in library.darks()) == [30.0] * 2 + [60.0] * 2


async def test_while_held_the_librarys_darks_are_taken_first(tmp_path: Path) -> None:
    """Unsafe from the start with ``sky_free_while_unsafe``: the library's darks are taken
    during the hold (no light yet: the sky is closed, they cost nothing), then the lights once
    safe."""
    library = DarkLibrary(tmp_path / "library")
    seq, store, _ = run_with(night(sky_free_while_unsafe=True), library)
    await seq.set_safety(False, "rain")
    run = asyncio.ensure_future(seq.run())
    for _ in range(2000):
        await asyncio.sleep(0)
        if len(store.order) == 4:
            break
    assert store.order == [f"darks/Dark_library_NoFilter_Dark_00{n}.fits"
                           for n in range(1, 5)]
    await seq.set_safety(True)
    assert await run is RunState.DONE
    assert len(store.order) == 7 and len(library.darks()) == 4


def test_the_librarys_darks_come_before_the_panels_flats_at_the_end() -> None:
    """A ``[calibration]`` with panel flats (taken last, `flatnight.night_plan`): the
    library's darks go after the lights and before those flats, which stay last."""
    plan = replace(night(), calibration=CalibrationFrames(flats="panel", count=2,
                                                          darks="library"))
    plan = Plan(plan.name, (plan.targets[0],), calibration=plan.calibration)
    ran = with_library_darks(night_plan(plan, 65535.0), count=2)
    assert [target.name for target in ran.targets] == ["M42", LIBRARY_TARGET,
                                                       CALIBRATION_TARGET]
    assert is_calibration(ran, ran.targets[-1])


def test_the_nights_total_counts_its_calibration_frames_from_the_load() -> None:
    """`tonight_plan` (the plan the Imager Agent's night runs, and whose total its face shows
    from the load: SEQUENCE_STATE's PROGRESS_TOTAL): the lights, each filter's flats and as
    many flat-darks, the library's darks per light exposure and bias per light setting; the
    camera's full scale (known only once the night starts) changes no count."""
    lights = Target("M42", slew=False, batches=(Batch(2, 30.0, "Red"), Batch(1, 60.0, "Green")))
    plan = Plan("night", (lights,), calibration=CalibrationFrames(
        flats="panel", count=3, flat_darks=True, darks="library"))
    ran = tonight_plan(plan)
    assert [target.name for target in ran.targets] == ["M42", LIBRARY_TARGET,
                                                       CALIBRATION_TARGET, FLAT_DARKS_TARGET]
    assert ran.frames_total == 3 + 2 * 3 + 2 * 3 + 2 * LIBRARY_COUNT + LIBRARY_COUNT
    assert tonight_plan(plan, 65535.0).frames_total == ran.frames_total
    assert [(b.frame_type, b.exposure) for b in ran.targets[1].batches] == [
        ("Bias", 0.0), ("Dark", 30.0), ("Dark", 60.0)]
    assert tonight_plan(lights_only := Plan("night", (lights,))) == lights_only
