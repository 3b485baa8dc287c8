"""Tonight's darks from the library (``darks = "library"``) and the flats' darks
(``flat_darks = true``): pure, a plan in, the plan with its darks out.

`with_library_darks` adds, after the plan's last target (before its ``[calibration]`` flats
when they come last: the panel's, the dawn's), the target `LIBRARY_TARGET` (no slew: darks need no sky, so they are taken at the end of the night, or while a hold keeps
the sky closed when the plan has ``sky_free_while_unsafe``) with one batch of darks per
setting and exposure of the plan's light frames (and, with `flat_darks`, per exposure of its
flats that have a fixed one). Which of these the night really takes is decided at its first
frame, at the end of the night, by the `LibraryDarks` trigger: only what the library lacks
for the lights taken tonight (`NightLibrary`).

A plan's ``[calibration]`` section asks for them: ``darks = "library"``, ``flat_darks``,
``dark_max_age_days``, ``dark_temperature_tolerance`` (`plan.calibration`; the Imager Agent's
night adds them after `flatnight.night_plan`, its library in its state folder's ``darks/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path

from ..plan.flatnight import is_calibration
from ..plan.model import Batch
from ..plan.model import Plan
from ..plan.model import Target
from .library import DarkLibrary

__all__ = ["LIBRARY_COUNT", "LIBRARY_TARGET", "NightLibrary", "with_library_darks"]

#: The target the library's darks are taken under (its frames in ``darks/``).
LIBRARY_TARGET = "Dark library"
#: Darks a master is stacked from, by default (Siril rejects outliers from three up).
LIBRARY_COUNT = 15


@dataclass(frozen=True)
class NightLibrary:
    """The night's dark library and the folder its frames are saved in (where the lights'
    temperatures are read, and the darks taken are kept from)."""

    library: DarkLibrary
    folder: Path


def _dark_batches(plan: Plan, count: int, flat_darks: bool) -> list[Batch]:
    wanted: list[Batch] = []
    for target in plan.targets:
        for batch in target.batches:
            if batch.frame_type == "Light" or (flat_darks and batch.frame_type == "Flat"
                                               and batch.adu is None):
                dark = Batch(count, batch.exposure, None, batch.binning, "Dark", batch.gain,
                             batch.offset)
                if dark not in wanted:
                    wanted.append(dark)
    return wanted


def with_library_darks(plan: Plan, count: int = LIBRARY_COUNT, *,
                       flat_darks: bool = False) -> Plan:
    """`plan` with the `LIBRARY_TARGET` of darks last (see the module docstring); the plan
    itself when it has no light frames (nor flats, with `flat_darks`) or has the target
    already."""
    if count < 1:
        raise ValueError("a dark library's master needs at least one dark")
    if any(target.name == LIBRARY_TARGET for target in plan.targets):
        return plan
    batches = _dark_batches(plan, count, flat_darks)
    if not batches:
        return plan
    darks = Target(LIBRARY_TARGET, slew=False, batches=tuple(batches))
    targets = plan.targets
    if targets and is_calibration(plan, targets[-1]):  # before the panel's or dawn's flats
        return replace(plan, targets=(*targets[:-1], darks, targets[-1]))
    return replace(plan, targets=(*targets, darks))
