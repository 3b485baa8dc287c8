"""A night's journal written for a test (issue 93 item 5): the imager agent's plan folder
(``<folder>/.journal/<plan>.journal``) filled through the `Journal`'s own writers on a clock
the test moves, so the night's timeline (`indipyagents.journal.timeline`) and its picture come
out the same in every run.

`user_night` is the night of the guide as a user ran it (issue 93 item 5): two holds a minute
apart, one rule rejecting many frames with different figures, four targets (the lights, the
dark library, the flats, their darks).

`graded` writes the record the sequencer's grading writes (issue 93 items 1 and 2),
through ``Journal.frame_graded``; `journal_records` and `graded_records` read a night's
journal back, as the night tests check it.
"""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentkit import night
from agentkit import target

from indipyagents.journal import Journal
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.steps import expand
from indipyagents.plan.toml import plan_to_toml

#: The test night's evening: its first record at 21:00 UTC.
EVENING = datetime(2026, 12, 3, 21, 0, tzinfo=UTC)


def sample_plan(name: str = "Winter pair") -> Plan:
    """Two targets: M42 through Red and Green, M81 through Luminance."""
    return night(name, target("M42", Batch(6, 120.0, "Red"), Batch(4, 120.0, "Green"),
                              ra=5.588, dec=-5.39),
                 target("M81", Batch(8, 180.0, "Luminance"), ra=9.926, dec=69.07),
                 folder="winter", camera="Python CCD Simulator", wheel="Python Filter Wheel",
                 mount="Python Mount")


class NightWriter:
    """A journal at `nights`/`folder`/.journal/`plan`.journal written on its own clock
    (`now`, moved by `wait`)."""

    def __init__(self, nights: Path, plan: Plan, start: datetime = EVENING) -> None:
        self.plan = plan
        self.now = start
        folder = nights / (plan.folder or "night")
        self.path = folder / ".journal" / f"{plan.name}.journal"
        self.journal = Journal(self.path, clock=lambda: self.now)
        self.journal.start(plan.name, plan_to_toml(plan))
        self.steps = [step.as_frame for step in expand(plan) if step.as_frame is not None]
        self.taken = 0

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def frame(self, verdict: str | None = None, reasons: tuple[str, ...] = (),
              hfr: float = 2.0, guide_rms: float | None = 0.8,
              altitude: float | None = 45.0, step_id: str | None = None) -> str:
        """The next frame step (or `step_id`) begun, exposed and saved; graded when a
        `verdict` is given. Its step id."""
        step = next(s for s in self.steps if s.id == step_id) if step_id else \
            self.steps[self.taken]
        self.taken += step_id is None
        self.journal.begin(step.id)
        self.wait(step.batch.exposure + 3)
        self.journal.frame_saved(step.id, step.file_name, 1000, "0" * 64)
        if verdict is not None:
            self.graded(step.id, step.file_name, verdict, reasons, hfr=hfr,
                        guide_rms=guide_rms, altitude=altitude)
        self.journal.done(step.id)
        self.wait(2)
        return step.id

    def calibration(self, step_id: str, seconds: float) -> None:
        """A frame the night added to its plan (a library dark, a flat, a flat's dark), by its
        step id alone, not judged."""
        self.journal.begin(step_id)
        self.wait(seconds + 1)
        self.journal.frame_saved(step_id, step_id.replace("/", "_") + ".fits", 1000, "0" * 64)
        self.journal.done(step_id)
        self.wait(1)

    def graded(self, step: str, file: str, verdict: str, reasons: tuple[str, ...], *,
               hfr: float, guide_rms: float | None, altitude: float | None) -> None:
        """The frame measured and judged (`Journal.frame_graded`, issue 93 items 1 and 2)."""
        self.journal.frame_graded(step, file, {
            "stars": 400, "hfr_px": hfr, "fwhm_px": hfr * 2, "fwhm_arcsec": hfr * 2 * 2.49,
            "eccentricity": 0.3, "sky": 600.0, "noise": 12.0, "guide_rms_arcsec": guide_rms,
            "alt_deg": altitude}, verdict, reasons)


def sample_night(nights: Path) -> NightWriter:
    """The night every night test draws: M42's frames, an autofocus, a rain hold of 25 min,
    rejected frames (soft, clouds) and their retakes, a meridian flip, M81's frames with the
    camera lost for 10 min, and the end."""
    w = NightWriter(nights, sample_plan())
    w.journal.note("slew", target=0, pier_side="PIER_WEST")
    w.wait(60)
    w.journal.note("autofocus", target=0, why="start", ok=True, position=50010, hfr=1.9,
                   frames=9, reason="", at=w.now.isoformat(), temperature=8.5)
    w.wait(30)
    w.frame("accepted", hfr=1.9, altitude=38.0)
    w.frame("accepted", hfr=2.0, altitude=39.5)
    soft = w.frame("rejected", ("hfr",), hfr=3.4, altitude=41.0)
    w.frame("accepted", hfr=2.1, altitude=42.0, step_id=soft)  # taken again
    w.journal.note("safety", unsafe=True, cause="rain")
    w.wait(25 * 60)
    w.journal.note("safety", unsafe=False, cause="")
    clouded = w.frame("rejected", ("stars", "background"), hfr=2.6, guide_rms=2.4,
                      altitude=44.0)
    w.frame("accepted", hfr=2.0, altitude=45.0, step_id=clouded)
    w.frame("accepted", hfr=2.0, altitude=46.0)
    w.journal.note("flip", target=0, hour_angle=0.1, pier_side="PIER_EAST")
    w.wait(120)
    for _ in range(4):
        w.frame("accepted", hfr=2.2, guide_rms=0.9, altitude=47.0)
    w.journal.note("slew", target=1, pier_side="PIER_WEST")
    w.wait(90)
    w.frame("accepted", hfr=2.3, guide_rms=1.0, altitude=60.0)
    w.frame("accepted", hfr=2.3, guide_rms=1.1, altitude=61.0)
    w.journal.note("device", lost="Python CCD Simulator", reason="no answer")
    w.wait(10 * 60)
    w.journal.note("device", back="Python CCD Simulator", at=w.now.isoformat())
    w.frame("rejected", ("guide_rms",), hfr=2.4, guide_rms=3.1, altitude=62.0)
    w.frame(None)  # not judged (no grade: a journal from before grading)
    w.journal.aborted("dawn: the night ended before M81 was done")
    w.journal.close()
    return w


def user_night(nights: Path) -> NightWriter:
    """The guide's night (`/night`'s phone test): M1 through Red and Green (3 s frames), the
    weather unsafe and a minute later the dome closed (two holds a minute apart), the dark
    library (bias and darks), eight Green frames rejected by one rule (stars under half the
    median, each with its own figures) then given up, the flats and their darks, the end."""
    plan = night("M1 graded", target("M1", Batch(5, 3.0, "Red"), Batch(5, 3.0, "Green"),
                                     ra=5.575, dec=22.01),
                 folder="graded", camera="Python CCD Simulator", wheel="Python Filter Wheel",
                 mount="Python Mount")
    w = NightWriter(nights, plan)
    w.journal.note("slew", target=0, pier_side="WEST")
    w.wait(20)
    for _ in range(3):
        w.frame("accepted", hfr=1.6, guide_rms=None, altitude=59.0)
    w.journal.note("safety", unsafe=True,
                   cause="weather 'Weather Simulator': WEATHER_STATUS is Alert")
    w.wait(60)
    w.journal.paused("Dome Simulator: the dome is closed (parked, its shutter closed): no "
                     "light frame or flat is started through it; open it, then start again")
    for index in range(15):
        w.calibration(f"Dark_library/0/NoFilter/Bias/{index + 1:03d}", 0.0)
    w.journal.note("safety", unsafe=False, cause="")
    for index in range(15):
        w.calibration(f"Dark_library/1/NoFilter/Dark/{index + 1:03d}", 3.0)
    w.journal.resumed()
    w.wait(10)
    for _ in range(2):
        w.frame("accepted", hfr=1.6, guide_rms=None, altitude=59.4)
    given_up = w.frame("rejected", ("stars 153 < 0.5 x median 1107",), altitude=59.4)
    for stars in (150, 149, 148, 147, 146, 145, 154):
        w.frame("rejected", (f"stars {stars} < 0.5 x median 1107",), altitude=59.4,
                step_id=given_up)
    for batch, colour in enumerate(("Red", "Green")):
        for index in range(3):
            w.calibration(f"Calibration/{batch}/{colour}/Flat/{index + 1:03d}", 1.0)
    for batch, colour in enumerate(("Red", "Green")):
        for index in range(3):
            w.calibration(f"Flat_darks/{batch}/{colour}/Dark/{index + 1:03d}", 1.0)
    w.journal.finished()
    w.journal.close()
    return w


def journal_records(folder: Path) -> list[dict[str, Any]]:
    """The records of the journals of the night's `folder` (its ``.journal/``), in order."""
    found: list[dict[str, Any]] = []
    for journal in sorted(folder.glob(".journal/*.journal")):
        found += [json.loads(line) for line in journal.read_text().splitlines()]
    return found


def graded_records(folder: Path) -> list[dict[str, Any]]:
    """The night's ``graded`` records (each frame's verdict), in order."""
    return [record for record in journal_records(folder) if record.get("kind") == "graded"]
