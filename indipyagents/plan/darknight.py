"""Tonight's darks from the library (``darks = "library"``) and the flats' darks
(``flat_darks = true``): pure, a plan in, the plan with its darks out (standard library only,
so that the scheduler's command schedules the night the agent runs).

`with_library_darks` adds, after the plan's last target (before its ``[calibration]`` flats
when they come last: the panel's, the dawn's), the target `LIBRARY_TARGET` (no slew: darks
need no sky, so they are taken at the end of the night, or while a hold keeps the sky closed
when the plan has ``sky_free_while_unsafe``) with one batch of darks per setting and exposure
of the plan's light frames (and, with `flat_darks`, per exposure of its flats that have a
fixed one), and (the Imager Agent's night: `biases`) one batch of bias frames per binning,
gain and offset of its light frames. Which of these the night really takes is decided at its
first frame, at the end of the night, by the `LibraryDarks` trigger: only what the library
lacks for the lights taken tonight (`calframes.tonight.NightLibrary`).

A plan's ``[calibration]`` section asks for them: ``darks = "library"``, ``flat_darks``,
``dark_max_age_days``, ``dark_temperature_tolerance`` (`plan.calibration`; the Imager Agent's
night adds them after `flatnight.night_plan`, its library in its state folder's ``darks/``).
"""

from __future__ import annotations

from dataclasses import replace

from .flatnight import calibration_index
from .flatnight import night_plan
from .model import Batch
from .model import Plan
from .model import Target

__all__ = ["LIBRARY_COUNT", "LIBRARY_TARGET", "tonight_plan", "with_library_darks"]

#: The target the library's darks are taken under (its frames in ``darks/``).
LIBRARY_TARGET = "Dark library"
#: Darks a master is stacked from, by default (Siril rejects outliers from three up).
LIBRARY_COUNT = 15


def _dark_batches(plan: Plan, count: int, flat_darks: bool, biases: bool) -> list[Batch]:
    wanted: list[Batch] = []
    for target in plan.targets:
        for batch in target.batches:
            bias = Batch(count, 0.0, None, batch.binning, "Bias", batch.gain, batch.offset)
            if biases and batch.frame_type == "Light" and bias not in wanted:
                wanted.append(bias)
            if batch.frame_type == "Light" or (flat_darks and batch.frame_type == "Flat"
                                               and batch.adu is None):
                dark = Batch(count, batch.exposure, None, batch.binning, "Dark", batch.gain,
                             batch.offset)
                if dark not in wanted:
                    wanted.append(dark)
    return wanted


def with_library_darks(plan: Plan, count: int = LIBRARY_COUNT, *,
                       flat_darks: bool = False, biases: bool = False) -> Plan:
    """`plan` with the `LIBRARY_TARGET` of darks last (see the module docstring), and with
    `biases` a batch of bias frames per binning, gain and offset of its light frames (the
    library's too: taken only where it lacks them); the plan itself when it has no light
    frames (nor flats, with `flat_darks`) or has the target already."""
    if count < 1:
        raise ValueError("a dark library's master needs at least one dark")
    if any(target.name == LIBRARY_TARGET for target in plan.targets):
        return plan
    batches = _dark_batches(plan, count, flat_darks, biases)
    if not batches:
        return plan
    darks = Target(LIBRARY_TARGET, slew=False, batches=tuple(batches))
    targets, index = plan.targets, calibration_index(plan)
    if index is not None and plan.calibration.flats != "dusk":  # before the panel's or
        return replace(plan, targets=(*targets[:index], darks, *targets[index:]))  # dawn's
    return replace(plan, targets=(*targets, darks))


def tonight_plan(plan: Plan, full: float | None = None) -> Plan:
    """The plan the Imager Agent's night runs: its ``[calibration]`` flats and flat-darks
    (`flatnight.night_plan`, `full` the camera's full scale), and with ``darks = "library"``
    the library's darks and bias (`with_library_darks`). Its `Plan.frames_total` is the
    night's from the plan's load (SEQUENCE_STATE's PROGRESS_TOTAL): the frames the library
    has are skipped, done, never left out."""
    plan = night_plan(plan, full)
    calibration = plan.calibration
    if calibration.darks == "library":  # its darks, where the library lacks them
        plan = with_library_darks(plan, flat_darks=calibration.flat_darks, biases=True)
    return plan
