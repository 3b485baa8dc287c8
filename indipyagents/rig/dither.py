"""Dithering's arithmetic: a random offset of up to N pixels, as timed guide pulses or as a
small RA/Dec offset for a mount that takes no pulses. Pure: the random source is passed in
(a seeded `random.Random`, so a test or a resumed night repeats it), no device is touched;
`apply` is the one step that drives a `Mount`.

The size on the sky comes from the plate scale: 206.265 x pixel size (um) / focal length (mm)
arcsec per pixel, the pixel size from the camera's CCD_INFO (CCD_PIXEL_SIZE) and the focal
length from the mount's TELESCOPE_INFO; where either is unknown, indilib's simulators' values
stand in (`DEFAULT_PIXEL_UM`, `DEFAULT_FOCAL_MM`). A pulse moves the pointing at the guide rate
(GUIDE_RATE, a fraction of the sidereal rate): north/south straight in Dec, west/east in RA,
whose angle on the sky shrinks by cos(Dec), so the west pulse is lengthened by 1/cos(Dec).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import wrap_hours

from .protocols import Mount

__all__ = ["DEFAULT_FOCAL_MM", "DEFAULT_PIXEL_UM", "Offset", "Pulses", "apply", "offset_target",
           "plate_scale", "random_offset", "to_pulses"]

#: indilib's CCD simulator's pixel (CCD_INFO's CCD_PIXEL_SIZE, um).
DEFAULT_PIXEL_UM = 5.2
#: indilib's telescope simulator's focal length (TELESCOPE_INFO, mm).
DEFAULT_FOCAL_MM = 900.0
#: Arcseconds a radian.
ARCSEC_PER_RADIAN = 206264.806
#: The sidereal rate in arcseconds (of RA angle) per second of time.
SIDEREAL_ARCSEC_PER_S = SIDEREAL_DEG_PER_S * 3600.0
#: cos(Dec) is floored here, so a dither near the pole asks no endless west pulse.
_MIN_COS_DEC = 0.1


@dataclass(frozen=True)
class Offset:
    """A move on the sky in arcseconds: north positive, west positive."""

    north: float
    west: float


@dataclass(frozen=True)
class Pulses:
    """Guide pulse lengths in ms: north positive (negative: south), west positive (east)."""

    north_ms: float
    west_ms: float


def plate_scale(pixel_um: float | None = None, focal_mm: float | None = None) -> float:
    """Arcseconds a pixel for a `pixel_um` pixel behind a `focal_mm` focal length (defaults
    where None)."""
    pixel = DEFAULT_PIXEL_UM if pixel_um is None else pixel_um
    focal = DEFAULT_FOCAL_MM if focal_mm is None else focal_mm
    if not (pixel > 0 and focal > 0):
        raise ValueError(f"pixel size {pixel!r} um and focal length {focal!r} mm must be > 0")
    return ARCSEC_PER_RADIAN * pixel * 1e-3 / focal


def random_offset(rng: random.Random, pixels: float, scale: float) -> Offset:
    """Up to `pixels` on each axis (uniform in [-pixels, pixels]) at `scale` arcsec/pixel."""
    if pixels < 0 or scale <= 0:
        raise ValueError(f"dither of {pixels!r} pixels at {scale!r} arcsec/pixel")
    return Offset(rng.uniform(-pixels, pixels) * scale, rng.uniform(-pixels, pixels) * scale)


def _cos_dec(dec: float) -> float:
    return max(_MIN_COS_DEC, math.cos(math.radians(dec)))


def to_pulses(offset: Offset, dec: float, rate_ns: float = 0.5,
              rate_we: float = 0.5) -> Pulses:
    """The pulses that move the pointing (at Dec `dec`) by `offset`, at guide rates `rate_ns`
    and `rate_we` (x sidereal)."""
    if not (rate_ns > 0 and rate_we > 0):
        raise ValueError(f"guide rates {rate_ns!r}, {rate_we!r} must be > 0")
    north_ms = offset.north / (rate_ns * SIDEREAL_ARCSEC_PER_S) * 1000.0
    west_ms = offset.west / _cos_dec(dec) / (rate_we * SIDEREAL_ARCSEC_PER_S) * 1000.0
    return Pulses(north_ms, west_ms)


def offset_target(ra: float, dec: float, offset: Offset) -> tuple[float, float]:
    """RA (hours) and Dec (degrees) moved by `offset`: west is towards smaller RA."""
    new_dec = max(-90.0, min(90.0, dec + offset.north / 3600.0))
    new_ra = wrap_hours(ra - offset.west / _cos_dec(dec) / 3600.0 / 15.0)
    return new_ra, new_dec


async def apply(mount: Mount, offset: Offset, *, target: tuple[float, float],
                rates: tuple[float, float] = (0.5, 0.5), by_pulses: bool = True) -> None:
    """Dither `mount` by `offset`: pulses at `rates` (north/south, west/east) where it takes
    them (and `by_pulses`: a plan's method "offset" says False), else a slew to `target` (the
    target's J2000 RA, Dec: offsets do not pile up) moved by `offset`. The caller waits the
    settle time."""
    if by_pulses and mount.can_pulse():
        pulses = to_pulses(offset, target[1], *rates)
        await mount.pulse(pulses.north_ms, pulses.west_ms)
    else:
        await mount.slew_to(*offset_target(target[0], target[1], offset))
