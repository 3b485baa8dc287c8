"""Stand-ins for shared names other folders provide: `expand` and its steps (``plan/steps.py``),
the pure decisions (``plan/decisions.py``) and the resume rule (``journal/``'s `reconcile`).

They have the shared names and signatures, and the least behaviour the engine needs, so the
engine and its tests run before those folders are merged; the lead then imports the real ones
in `engine` (one import block) and deletes this module. Nothing here is meant to stay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from indipycore import astro

from ..plan.model import Autofocus
from ..plan.model import Batch
from ..plan.model import Dither
from ..plan.model import Flip
from ..plan.model import Plan
from .contracts import FrameStore
from .contracts import Journal
from .contracts import JournalState


@dataclass(frozen=True)
class SlewStep:
    id: str
    target_index: int


@dataclass(frozen=True)
class WaitStep:
    id: str
    target_index: int


@dataclass(frozen=True)
class FrameStep:
    id: str
    file_name: str
    target_index: int
    batch_index: int
    number: int
    batch: Batch


@dataclass(frozen=True)
class EndStep:
    id: str


Step = SlewStep | WaitStep | FrameStep | EndStep


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text) or "_"


def expand(plan: Plan) -> list[Step]:
    """The plan's steps in order: per target a slew (if it slews), a wait (if it waits), one
    step per frame; then the end. Ids depend on the plan only."""
    steps: list[Step] = []
    for t, target in enumerate(plan.targets):
        name = _safe(target.name)
        if target.slew:
            steps.append(SlewStep(f"{name}/slew", t))
        if target.wait.until is not None or target.wait.altitude is not None:
            steps.append(WaitStep(f"{name}/wait", t))
        counters: dict[tuple[str, str], int] = {}
        for b, batch in enumerate(target.batches):
            filt = "NoFilter" if batch.filter is None else _safe(str(batch.filter))
            for _ in range(batch.count):
                key = (filt, batch.frame_type)
                counters[key] = number = counters.get(key, 0) + 1
                steps.append(FrameStep(f"{name}/{b}/{filt}/{batch.frame_type}/{number:03d}",
                                       f"{name}_{filt}_{batch.frame_type}_{number:03d}.fits",
                                       t, b, number, batch))
    steps.append(EndStep("end"))
    return steps


def dither_due(frames_since: int, dither: Dither) -> bool:
    return dither.every > 0 and frames_since >= dither.every


def autofocus_due(settings: Autofocus, *, first_of_target: bool, filter_changed: bool,
                  minutes_since: float | None, temperature_moved: float | None) -> str | None:
    if settings.at_start and first_of_target:
        return "start of the target"
    if settings.on_filter_change and filter_changed:
        return "filter changed"
    if settings.every_minutes > 0 and minutes_since is not None \
            and minutes_since >= settings.every_minutes:
        return f"{minutes_since:.0f} minutes since the last"
    if settings.temperature_delta > 0 and temperature_moved is not None \
            and abs(temperature_moved) >= settings.temperature_delta:
        return f"temperature moved {temperature_moved:+.1f} degrees"
    return None


def hour_angle(ra_hours: float, lst_hours: float) -> float:
    degrees = astro.hour_angle(lst_hours, ra_hours) * 15.0
    return 180.0 if degrees <= -180.0 else degrees


def flip_due(ha_deg: float, flip: Flip, pier_side_before: str | None) -> bool:
    return flip.enabled and ha_deg > flip.hour_angle_limit and pier_side_before != "EAST"


def reconcile(state: JournalState, store: FrameStore, frame_steps: Sequence[tuple[str, str]],
              journal: Journal) -> set[str]:
    done = set(state.done)
    for step_id, file_name in frame_steps:
        if step_id not in done and store.exists(file_name):
            journal.note("recovered", step=step_id, file=file_name)
            journal.done(step_id)
            done.add(step_id)
    return done
