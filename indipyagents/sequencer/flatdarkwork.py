"""`flat_dark_exposure`: how long a flat-dark is exposed (``[calibration]``'s ``flat_darks``,
the target `plan.steps.FLAT_DARKS_TARGET` that `plan.flatnight.night_plan` adds): as long as
the flat it goes with was, read from that flat's saved FITS header (EXPTIME: the exposure
found at night, by the panel's test exposures or the twilight's), so a night resumed after a
crash takes the same. The n-th dark of a batch goes with the n-th flat kept of the night's
flat batch of the same place (`flatnight.flat_dark_batches` makes one for each); a batch
whose flats were all given up has no flat-darks (`SkipFrame`, said why).
"""

from __future__ import annotations

from pathlib import Path

from ..calframes.library import read_facts
from ..plan.flatnight import calibration_index
from ..plan.model import Plan
from ..plan.steps import FLAT_DARKS_TARGET
from ..plan.steps import FrameStep
from ..plan.steps import expand
from ..plan.steps import filter_label
from ..plan.steps import frames
from ..plan.steps import place_in_batch
from .hands import SkipFrame

__all__ = ["flat_dark_exposure", "is_flat_dark"]


def is_flat_dark(plan: Plan, step: FrameStep) -> bool:
    """Whether `step` is a flat-dark (a dark of the target `FLAT_DARKS_TARGET`)."""
    return plan.targets[step.target_index].name == FLAT_DARKS_TARGET \
        and step.batch.frame_type == "Dark"


def flat_dark_exposure(plan: Plan, folder: Path, step: FrameStep) -> float:
    """The seconds the flat-dark `step` is exposed: its flat's (see the module docstring).
    `SkipFrame` when no flat of its batch was kept tonight."""
    index = calibration_index(plan)
    every = frames(expand(plan))
    flats = [other for other in every if other.target_index == index
             and other.batch_index == step.batch_index] if index is not None else []
    seconds = []
    for flat in flats:
        facts = read_facts(folder / flat.file_name) if (folder / flat.file_name).is_file() \
            else None
        if facts is not None:
            seconds.append(facts.exposure)
    if not seconds:
        raise SkipFrame(f"no flat of {filter_label(step.batch.filter)} (bin "
                        f"{step.batch.binning}) was kept tonight: no flat-darks for it")
    return seconds[(place_in_batch(every, step) - 1) % len(seconds)]
