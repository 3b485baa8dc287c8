"""The night's work a plan's ``[calibration]`` section asks (`calibration.Calibration`): the
one place it becomes flat batches (`calibration_batches`), and the plan the night runs with
them (`night_plan`). Pure.

`calibration_batches` makes `count` flats by level for every (filter, binning, gain, offset)
the plan's light batches use. `night_plan` appends the panel's as a target of their own,
``Calibration`` (no slew, no dithering, no autofocus, no flip), after the plan's last: the
panel flats are taken at the end of the night, after the last light frame and before the
night's close (park, dome, warm). Sky flats ("dusk", "dawn") are not made here yet:
`sky_flats_note` is what the night says of them until their work plugs in here.
"""

from __future__ import annotations

from dataclasses import replace

from .fields import Invalid
from .locate import KeyPath
from .locate import format_path
from .model import Autofocus
from .model import Batch
from .model import Dither
from .model import Flip
from .model import Plan
from .model import Target

__all__ = ["CALIBRATION_TARGET", "calibration_batches", "check_calibration", "is_calibration",
           "light_settings", "night_plan", "sky_flats_note"]

#: The name of the target the panel flats are taken as (their ids and file names).
CALIBRATION_TARGET = "Calibration"
#: The flats' first exposure where nothing was learnt, seconds.
FLAT_START = 1.0
#: The level asked where the camera does not say its full scale (half a 16-bit one).
HALF_16_BIT = 32767.0


def check_calibration(plan: Plan) -> None:
    """What the section asks fits the plan: panel flats in a plan taken in order (a
    scheduled plan's panel flats are a plan of their own)."""
    if plan.calibration.flats == "panel" and plan.schedule is not None:
        path: KeyPath = ("calibration", "flats")
        raise Invalid(path, f'{format_path(path)} = "panel" belongs to a plan taken in '
                      "order: a scheduled plan's panel flats are a plan of their own")


def light_settings(plan: Plan) -> list[tuple[str | int | None, int, float | None, float | None]]:
    """(filter, binning, gain, offset) of every light batch of the plan, each once, in the
    order the plan first asks it."""
    found: list[tuple[str | int | None, int, float | None, float | None]] = []
    for target in plan.targets:
        for batch in target.batches:
            key = (batch.filter, batch.binning, batch.gain, batch.offset)
            if batch.frame_type == "Light" and key not in found:
                found.append(key)
    return found


def calibration_batches(plan: Plan, full: float | None = None) -> tuple[Batch, ...]:
    """The flat batches the section asks of the night: `count` flats by level for each
    (filter, binning, gain, offset) its light frames use, at `adu` (None: half `full`, the
    camera's full scale, else of a 16-bit camera). Panel flats only: sky flats are not yet
    made here (`sky_flats_note`), "none" asks nothing."""
    calibration = plan.calibration
    if calibration.flats != "panel":
        return ()
    adu = calibration.adu if calibration.adu is not None else \
        (round(full / 2) if full else HALF_16_BIT)
    return tuple(Batch(calibration.count, FLAT_START, filter, binning, "Flat", gain=gain,
                       offset=offset, adu=float(adu), tolerance=calibration.tolerance)
                 for filter, binning, gain, offset in light_settings(plan))


def night_plan(plan: Plan, full: float | None = None) -> Plan:
    """The plan the night runs: `plan` with its panel flats (`calibration_batches`) as the
    target ``Calibration`` after its last, where they are taken. `plan` itself when the
    section asks none."""
    batches = calibration_batches(plan, full)
    if not batches:
        return plan
    flats = Target(CALIBRATION_TARGET, slew=False, batches=batches, dither=Dither(),
                   autofocus=Autofocus(), flip=Flip(enabled=False))
    return replace(plan, targets=(*plan.targets, flats))


def is_calibration(plan: Plan, target: Target) -> bool:
    """Whether `target` is the night's ``[calibration]`` panel flats (`night_plan`'s)."""
    return plan.calibration.flats == "panel" and target.name == CALIBRATION_TARGET \
        and bool(plan.targets) and plan.targets[-1] is target


def sky_flats_note(plan: Plan) -> str | None:
    """What the night says when the section asks sky flats, which it does not take yet."""
    flats = plan.calibration.flats
    if flats not in ("dusk", "dawn"):
        return None
    return (f'[calibration] flats = "{flats}": sky flats are not taken yet by this agent; '
            "the night takes no flats")
