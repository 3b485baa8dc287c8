"""The calibration kept across restarts, pure apart from `save`/`load` (PHD2's "auto restore
calibration"): what it was made with (mount, camera, binning) decides whether it may be
reused; the declination and pier side it was made at say how to adjust it.

Adjusting follows PHD2: the RA rate scales with cos(dec) (a rate r0 at dec0 is
r0*cos(dec1)/cos(dec0) at dec1), each declination taken at most DEC_COMP_LIMIT from the
equator (PHD2's Scope::DEC_COMP_LIMIT, 60 degrees), so nothing blows up near the pole; a
pier side other than the calibration's flips it as `Calibration.flipped` does.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path

from ..journal.durable import write_whole
from .guidemath import Calibration

__all__ = ["DEC_COMP_LIMIT", "FILE_NAME", "BadCalibrationFile", "Kept", "adjusted", "from_json",
           "load", "rebinned", "reusable", "save", "to_json"]

log = logging.getLogger(__name__)

#: The largest |declination| the RA rate is compensated for, degrees (PHD2's, 60).
DEC_COMP_LIMIT = 60.0
#: The file in the guider's state folder.
FILE_NAME = "calibration.json"


class BadCalibrationFile(ValueError):
    """The saved calibration cannot be read: the guider calibrates anew."""


@dataclass(frozen=True, slots=True)
class Kept:
    """A calibration and what it depends on."""

    calibration: Calibration
    mount: str
    camera: str
    binning: int = 1


def reusable(kept: Kept, mount: str, camera: str, binning: int) -> str:
    """Why `kept` may not be reused with this mount, camera and binning ("" when it may)."""
    if kept.mount != mount:
        return f"mount changed ({kept.mount} to {mount})"
    if kept.camera != camera:
        return f"camera changed ({kept.camera} to {camera})"
    if kept.binning != binning:
        return f"binning changed ({kept.binning} to {binning})"
    return ""


def _cos(dec: float) -> float:
    return math.cos(math.radians(max(-DEC_COMP_LIMIT, min(DEC_COMP_LIMIT, dec))))


def adjusted(cal: Calibration, declination: float, pier_side: str | None,
             dec_too: bool = True) -> Calibration:
    """`cal` for a star at `declination` on `pier_side` (None: unknown, left as made)."""
    if pier_side and cal.pier_side and pier_side != cal.pier_side:
        cal = cal.flipped(dec_too)
    k = _cos(declination) / _cos(cal.declination)
    return Calibration(ra=(cal.ra[0] * k, cal.ra[1] * k), dec=cal.dec,
                       pier_side=cal.pier_side, declination=declination)


def rebinned(cal: Calibration, old: int, new: int) -> Calibration:
    """`cal` (made at binning `old`) at binning `new`: a pulse moves the star as far on the
    sky, over `old`/`new` times as many pixels (PHD2 scales its calibration so too)."""
    k = old / new
    return replace(cal, ra=(cal.ra[0] * k, cal.ra[1] * k), dec=(cal.dec[0] * k, cal.dec[1] * k))


def to_json(kept: Kept) -> bytes:
    c = kept.calibration
    return json.dumps({"mount": kept.mount, "camera": kept.camera, "binning": kept.binning,
                       "ra": list(c.ra), "dec": list(c.dec), "pier_side": c.pier_side,
                       "declination": c.declination}, indent=1).encode()


def from_json(data: bytes) -> Kept:
    """The kept calibration, or `BadCalibrationFile` saying what is wrong."""
    try:
        d = json.loads(data)
        ra = (float(d["ra"][0]), float(d["ra"][1]))
        dec = (float(d["dec"][0]), float(d["dec"][1]))
        side = d["pier_side"]
        if side not in (None, "PIER_EAST", "PIER_WEST"):
            raise ValueError(f"pier_side {side!r}")
        values = (*ra, *dec, float(d["declination"]))
        if not all(math.isfinite(v) for v in values) or abs(values[4]) > 90:
            raise ValueError("a rate or the declination is not a number in range")
        if ra[0] * dec[1] - ra[1] * dec[0] == 0:
            raise ValueError("RA and Dec rates are parallel")
        binning = int(d["binning"])
        if binning < 1:
            raise ValueError(f"binning {binning}")
        return Kept(Calibration(ra, dec, side, values[4]), str(d["mount"]), str(d["camera"]),
                    binning)
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise BadCalibrationFile(f"saved calibration unreadable ({e}): calibrate anew") \
            from e


def save(folder: Path, kept: Kept) -> None:
    """Keep `kept` durably in `folder`."""
    write_whole(folder / FILE_NAME, to_json(kept))


def load(folder: Path) -> Kept | None:
    """The calibration kept in `folder`; None when none; a bad file is logged and None."""
    try:
        data = (folder / FILE_NAME).read_bytes()
    except FileNotFoundError:
        return None
    try:
        return from_json(data)
    except BadCalibrationFile as e:
        log.warning("%s: %s", folder / FILE_NAME, e)
        return None
