"""A plan's ``[calibration]`` section: the calibration frames the whole night's light frames
want, read and checked (`read_calibration`) and written back (`calibration_pairs`). Pure.

``flats`` ("panel", "dusk", "dawn" or "none") asks flats to the level ``adu`` (None: half the
camera's full scale, NINA's 50 %) within ``tolerance``, ``count`` of them for every filter,
binning, gain and offset tonight's light frames use. The darks' keys (``flat_darks``,
``darks``, ``dark_max_age_days``, ``dark_temperature_tolerance``) are read and checked here,
and carried on `CalibrationFrames` for the darks' own work.

The section becomes the night's work in `flatnight` (`calibration_batches`, `night_plan`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import fields
from .fields import Table
from .locate import KeyPath

__all__ = ["CALIBRATION_KEYS", "CalibrationFrames", "calibration_pairs", "read_calibration"]

FlatsAsked = Literal["panel", "dusk", "dawn", "none"]
FLATS_ASKED: tuple[FlatsAsked, ...] = ("panel", "dusk", "dawn", "none")
DarkSource = Literal["none", "library"]
DARK_SOURCES: tuple[DarkSource, ...] = ("none", "library")
CALIBRATION_KEYS = ("flats", "adu", "tolerance", "count", "flat_darks", "darks",
                    "dark_max_age_days", "dark_temperature_tolerance")
#: The largest level asked for (a 16-bit camera's full scale); the rig's is checked later.
MAX_ADU = 65535.0


@dataclass(frozen=True)
class CalibrationFrames:
    """The ``[calibration]`` section. `adu` None: half the camera's full scale.
    `flat_darks`, `darks` ("library": masters' frames kept across nights),
    `dark_max_age_days` and `dark_temperature_tolerance` (degrees C) are the darks' work's."""

    flats: FlatsAsked = "none"
    adu: float | None = None
    tolerance: float = 0.1
    count: int = 20
    flat_darks: bool = False
    darks: DarkSource = "none"
    dark_max_age_days: float = 30.0
    dark_temperature_tolerance: float = 1.0


def read_calibration(data: Table | None) -> CalibrationFrames:
    """The section (None: not given, the defaults: nothing taken)."""
    if data is None:
        return CalibrationFrames()
    path: KeyPath = ("calibration",)
    fields.only_known(data, path, CALIBRATION_KEYS)
    base = CalibrationFrames()
    adu = None if "adu" not in data else fields.number(
        data, path, "adu", None, low=0, high=MAX_ADU, above=True,
        hint="the flats' median in ADU, e.g. adu = 30000")
    return CalibrationFrames(
        flats=fields.choice(data, path, "flats", base.flats, FLATS_ASKED),
        adu=adu,
        tolerance=fields.number(data, path, "tolerance", base.tolerance, low=0, high=0.5,
                                above=True, hint="a share of adu, e.g. 0.1"),
        count=fields.whole(data, path, "count", base.count, low=1, cap=1000,
                           hint="flats a filter, e.g. 20"),
        flat_darks=fields.boolean(data, path, "flat_darks", base.flat_darks),
        darks=fields.choice(data, path, "darks", base.darks, DARK_SOURCES),
        dark_max_age_days=fields.number(data, path, "dark_max_age_days",
                                        base.dark_max_age_days, low=0, cap=3650, above=True),
        dark_temperature_tolerance=fields.number(
            data, path, "dark_temperature_tolerance", base.dark_temperature_tolerance,
            low=0, cap=20, above=True),
    )


def calibration_pairs(calibration: CalibrationFrames) -> dict[str, object]:
    """The section's keys as `plan_to_toml` writes them (adu left out when None)."""
    return {"flats": calibration.flats, "adu": calibration.adu,
            "tolerance": calibration.tolerance, "count": calibration.count,
            "flat_darks": calibration.flat_darks, "darks": calibration.darks,
            "dark_max_age_days": calibration.dark_max_age_days,
            "dark_temperature_tolerance": calibration.dark_temperature_tolerance}
