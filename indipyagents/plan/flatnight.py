"""The night's work a plan's ``[calibration]`` section asks (`calibration.Calibration`): the
one place it becomes flat batches (`calibration_batches`), and the plan the night runs with
them (`night_plan`). Pure.

`calibration_batches` makes `count` flats by level for every (filter, binning, gain, offset)
the plan's light batches use. `night_plan` appends them as a target of their own,
``Calibration`` (no slew, no dithering, no autofocus, no flip): the panel's and the dawn
sky's after the plan's last target (the panel flats after the last light frame and before the
night's close: park, dome, warm; the dawn's then wait for the sky to brighten), the dusk
sky's before its first. Sky flats ("dusk", "dawn": `sequencer.skyflatwork`, the mount pointed
opposite the Sun) go through the filters in the order the sky allows (`skyflats.sky_order`:
narrow first at dusk, wide first at dawn). In a scheduled plan the scheduler places the sky
flats' target in the twilight (`schedule.skyflatblocks`).

With ``flat_darks = true``, `night_plan` adds after them (after the night's last target, for
dusk flats) the target `steps.FLAT_DARKS_TARGET`: a batch of darks for each flat batch, as
many as its flats, through the same filter (the frames' FILTER says which flats they go with,
saved in ``darkflats/<filter>/``); each is exposed as long as its flat was
(`sequencer.flatdarkwork`: the exposure found at night, read from the flat saved).
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
from .skyflats import Source
from .skyflats import sky_key
from .steps import FLAT_DARKS_TARGET

__all__ = ["CALIBRATION_TARGET", "FLAT_DARKS_TARGET", "calibration_batches",
           "calibration_index", "check_calibration", "flat_dark_batches", "is_calibration",
           "light_settings", "night_plan"]

#: The name of the target the panel flats are taken as (their ids and file names).
CALIBRATION_TARGET = "Calibration"
#: The flats' first exposure where nothing was learnt, seconds.
FLAT_START = 1.0
#: The level asked where the camera does not say its full scale (half a 16-bit one).
HALF_16_BIT = 32767.0


def check_calibration(plan: Plan) -> None:
    """What the section asks fits the plan: panel flats in a plan taken in order (a
    scheduled plan's panel flats are a plan of their own)."""
    flats = plan.calibration.flats
    path: KeyPath = ("calibration", "flats")
    if flats == "panel" and plan.schedule is not None:
        raise Invalid(path, f'{format_path(path)} = "panel" belongs to a plan taken in '
                      "order: a scheduled plan's panel flats are a plan of their own")
    if flats in ("dusk", "dawn") and not plan.devices.mount:
        raise Invalid(path, f'{format_path(path)} = "{flats}" needs [devices] mount: sky '
                      "flats are taken pointed opposite the Sun")


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
    camera's full scale, else of a 16-bit camera), from the panel or the twilight sky (the
    filters in the order the sky allows); "none" asks nothing."""
    calibration = plan.calibration
    source = calibration.flats
    if source == "none":
        return ()
    adu = calibration.adu if calibration.adu is not None else \
        (round(full / 2) if full else HALF_16_BIT)
    settings = light_settings(plan)
    if source != "panel":
        sky: Source = source
        settings.sort(key=lambda setting: sky_key(setting[0], sky))
    return tuple(Batch(calibration.count, FLAT_START, filter, binning, "Flat", gain=gain,
                       offset=offset, adu=float(adu), tolerance=calibration.tolerance,
                       source=source)
                 for filter, binning, gain, offset in settings)


def flat_dark_batches(flats: tuple[Batch, ...]) -> tuple[Batch, ...]:
    """A batch of darks for each of `flats`: as many, of its filter, binning, gain and
    offset; their exposure (`FLAT_START` here) is the flats' found at night."""
    return tuple(Batch(flat.count, FLAT_START, flat.filter, flat.binning, "Dark",
                       gain=flat.gain, offset=flat.offset) for flat in flats)


def _quiet(name: str, batches: tuple[Batch, ...]) -> Target:
    return Target(name, slew=False, batches=batches, dither=Dither(), autofocus=Autofocus(),
                  flip=Flip(enabled=False))


def night_plan(plan: Plan, full: float | None = None) -> Plan:
    """The plan the night runs: `plan` with its flats (`calibration_batches`) as the target
    ``Calibration``, where they are taken: before the first target at dusk, after the last
    from the panel or at dawn; with ``flat_darks``, their darks (`FLAT_DARKS_TARGET`) last.
    `plan` itself when the section asks no flats."""
    batches = calibration_batches(plan, full)
    if not batches:
        return plan
    flats = _quiet(CALIBRATION_TARGET, batches)
    darks = (_quiet(FLAT_DARKS_TARGET, flat_dark_batches(batches)),) \
        if plan.calibration.flat_darks else ()
    if plan.calibration.flats == "dusk":
        return replace(plan, targets=(flats, *plan.targets, *darks))
    return replace(plan, targets=(*plan.targets, flats, *darks))


def calibration_index(plan: Plan) -> int | None:
    """The index of the night's ``[calibration]`` flats in `plan` (`night_plan`'s: the first
    target at dusk, else the last but its flat-darks), None where it has none."""
    flats, targets = plan.calibration.flats, plan.targets
    if flats == "none" or not targets:
        return None
    index = 0 if flats == "dusk" else len(targets) - 1
    if flats != "dusk" and targets[index].name == FLAT_DARKS_TARGET and index > 0:
        index -= 1
    return index if targets[index].name == CALIBRATION_TARGET else None


def is_calibration(plan: Plan, target: Target) -> bool:
    """Whether `target` is the night's ``[calibration]`` flats (`calibration_index`)."""
    index = calibration_index(plan)
    return index is not None and plan.targets[index] is target
