"""What a plan asks of the instruments, each with the key path that asks it: a wheel for a
batch's filter, a mount for a slew or dithering, a focuser for autofocus, gain or offset on the
camera, the site for a wait on altitude, a level (a flat's adu) within the camera's range. The TOML reader checks these against the devices the
plan names, `check.check_against` against the devices as they are. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .locate import KeyPath
from .model import Autofocus
from .model import Plan
from .model import Target

NeedKind = Literal["wheel", "focuser", "mount", "guider", "gain", "offset", "site", "panel",
                   "level"]


@dataclass(frozen=True)
class Need:
    """`kind` is needed because of the value at `path` (`what` says it in words); `filter`
    is the filter a wheel must have, where that is the need; `adu` the level ("level") the
    camera's full scale must reach."""

    path: KeyPath
    kind: NeedKind
    what: str
    filter: str | int | None = None
    adu: float | None = None


def _autofocus_on(settings: Autofocus) -> bool:
    return (settings.at_start or settings.on_filter_change or settings.every_minutes > 0
            or settings.temperature_delta > 0)


def _target_needs(plan: Plan, index: int, target: Target) -> list[Need]:
    here: KeyPath = ("targets", index)
    found = []
    if target.slew:
        found.append(Need(here + ("slew",), "mount", f"slewing to {target.name}"))
    if target.wait.altitude is not None:
        found.append(Need(here + ("wait", "altitude"), "site", "waiting on altitude"))
    for number, batch in enumerate(target.batches):
        at = here + ("batches", number)
        if batch.filter is not None:
            found.append(Need(at + ("filter",), "wheel", "a filter", batch.filter))
        if batch.gain is not None:
            found.append(Need(at + ("gain",), "gain", "gain"))
        if batch.offset is not None:
            found.append(Need(at + ("offset",), "offset", "offset"))
        if batch.adu is not None and batch.source != "panel":
            found.append(Need(at + ("source",), "mount", f"{batch.source} sky flats"))
            found.append(Need(at + ("source",), "site", f"{batch.source} sky flats"))
        elif batch.adu is not None:
            found.append(Need(at + ("adu",), "panel", "flats by level"))
        if batch.adu is not None:  # the panel's flats and the sky's alike
            what = "flats by level" if batch.source == "panel" else f"{batch.source} sky flats"
            found.append(Need(at + ("adu",), "level", what, adu=batch.adu))
    if not any(batch.frame_type == "Light" for batch in target.batches):
        return found  # dithering and focus are for light frames only
    base = here if target.dither is not None else ()
    dither = plan.dither_for(target)
    if dither.every > 0:
        found.append(Need(base + ("dither", "every"), "mount", "dithering"))
        if dither.method == "guider":
            found.append(Need(base + ("dither", "method"), "guider", "dithering by the guider"))
    settings = plan.autofocus_for(target)
    base = here if target.autofocus is not None else ()
    if _autofocus_on(settings):
        found.append(Need(base + ("autofocus",), "focuser", "autofocus"))
        if settings.filter is not None:
            found.append(Need(base + ("autofocus", "filter"), "wheel", "the autofocus filter",
                              settings.filter))
    return found


def needs(plan: Plan, at: Sequence[int] | None = None) -> list[Need]:
    """Every need of the plan, in the order of the file, each once. `at`: the file's index
    of each of the plan's targets (None: their order), for a plan read without a target the
    file has but refused, so the others' paths stay true."""
    found: dict[tuple[KeyPath, NeedKind], Need] = {}
    path: KeyPath
    for index, target in zip(range(len(plan.targets)) if at is None else at, plan.targets,
                             strict=True):
        for need in _target_needs(plan, index, target):
            found.setdefault((need.path, need.kind), need)
    if plan.grading is not None and plan.grading.hfr_autofocus_ratio is not None:
        path = ("grading", "hfr_autofocus_ratio")
        found.setdefault((path, "focuser"), Need(path, "focuser", "autofocus as the HFR grows"))
    calibration = plan.calibration
    if calibration.flats == "panel":
        path = ("calibration", "adu" if calibration.adu is not None else "flats")
        found.setdefault((path, "panel"), Need(path, "panel", "panel flats"))
    if calibration.flats != "none" and calibration.adu is not None:  # None: half the range
        path = ("calibration", "adu")
        found.setdefault((path, "level"), Need(path, "level", f"{calibration.flats} flats",
                                               adu=calibration.adu))
    return list(found.values())
