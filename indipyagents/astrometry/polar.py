"""Polar alignment from solved frames: pure, no I/O.

Three frames solved with the mount turned in RA between them (Ekos's and INDIGO's assistants'
way) lie on a circle about the mount's RA axis. In the Earth-fixed equatorial frame (hour
angle, declination of date: the sky's turning taken out by each frame's sidereal time) the
axis is the normal of the plane through the three points (`fit_axis`); its altitude less the
site's latitude is the altitude error, its azimuth (east of north, -180..180) the azimuth
error (`polar_error`).

While the user turns the knobs, a frame solved where the mount still points moves with the
axis: the altitude knob turns the mount about the east-west line, the azimuth knob about the
vertical, and the two turns that carry the expected point (the third, tracked on about the old
axis since) onto the solved one are solved for (`knob_turns`, to first order): the axis moved
by the same turns (`mount_to_sky`).

Vectors: x towards hour angle 0 on the equator, y towards the east (hour angle -6 h), z the
pole. Angles: hour angles in hours, declinations and errors in degrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import altitude
from indipycore.astro import azimuth

__all__ = ["EAST", "PolarError", "fit_axis", "from_vector", "knob_turns", "mount_to_sky",
           "polar_error", "rotate", "to_vector", "tracked", "zenith"]

Vector = tuple[float, float, float]


def to_vector(ha: float, dec: float) -> Vector:
    h, d = math.radians(ha * 15.0), math.radians(dec)
    return math.cos(d) * math.cos(h), -math.cos(d) * math.sin(h), math.sin(d)


def from_vector(v: Vector) -> tuple[float, float]:
    """(hour angle hours, dec degrees) of a vector (normalised here)."""
    norm = math.sqrt(sum(c * c for c in v))
    x, y, z = (c / norm for c in v)
    return math.degrees(math.atan2(-y, x)) / 15.0, math.degrees(math.asin(max(-1, min(1, z))))


#: The east point of the horizon: a right-hand turn about it takes the pole towards the zenith.
EAST: Vector = (0.0, 1.0, 0.0)


def _neg(a: Vector) -> Vector:
    return -a[0], -a[1], -a[2]


def _sub(a: Vector, b: Vector) -> Vector:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _cross(a: Vector, b: Vector) -> Vector:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def rotate(v: Vector, axis: Vector, degrees: float) -> Vector:
    """`v` turned by `degrees` about `axis` (right hand; Rodrigues' formula)."""
    norm = math.sqrt(_dot(axis, axis))
    k = (axis[0] / norm, axis[1] / norm, axis[2] / norm)
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    kv = _cross(k, v)
    kd = _dot(k, v) * (1 - c)
    return (v[0] * c + kv[0] * s + k[0] * kd, v[1] * c + kv[1] * s + k[1] * kd,
            v[2] * c + kv[2] * s + k[2] * kd)


def zenith(latitude: float) -> Vector:
    return to_vector(0.0, latitude)


def fit_axis(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The axis (hour angle, dec) of the circle through three (hour angle, dec) points, the
    one on the north side; ValueError when they are (nearly) on one great circle's line."""
    if len(points) != 3:
        raise ValueError("three points are needed")
    v1, v2, v3 = (to_vector(*point) for point in points)
    normal = _cross(_sub(v2, v1), _sub(v3, v1))
    if math.sqrt(_dot(normal, normal)) < 1e-9:
        raise ValueError("the three frames are too close together to find the axis")
    if normal[2] < 0:
        normal = (-normal[0], -normal[1], -normal[2])
    return from_vector(normal)


@dataclass(frozen=True, slots=True)
class PolarError:
    """The RA axis' `altitude` above the pole and `azimuth` east of it, and the `total`
    angle between them (degrees); the corrections' directions as INDIGO shows them: raise
    the axis (`up`) when it is below the pole, turn it clockwise seen from above (`cw`,
    towards the east) when it is west of the pole."""

    altitude: float
    azimuth: float
    total: float

    @property
    def up(self) -> bool:
        return self.altitude < 0

    @property
    def cw(self) -> bool:
        return self.azimuth < 0


def polar_error(axis: tuple[float, float], latitude: float) -> PolarError:
    """The error of an axis at (hour angle, dec) for a site at `latitude` (north)."""
    ha, dec = axis
    alt = altitude(ha, dec, latitude) - latitude
    az = (azimuth(ha, dec, latitude) + 180.0) % 360.0 - 180.0
    pole = to_vector(0.0, 90.0)
    total = math.degrees(math.acos(max(-1.0, min(1.0, _dot(to_vector(ha, dec), pole)))))
    return PolarError(alt, az, total)


def tracked(point: tuple[float, float], axis: tuple[float, float],
            seconds: float) -> tuple[float, float]:
    """Where a mount tracking about `axis` points `seconds` after it pointed at `point`."""
    return from_vector(rotate(to_vector(*point), to_vector(*axis),
                              -SIDEREAL_DEG_PER_S * seconds))


def knob_turns(expected: tuple[float, float], seen: tuple[float, float], latitude: float,
               before: PolarError) -> tuple[float, float]:
    """The turns (degrees) of the altitude knob (about the east-west line, up positive) and
    the azimuth knob (about the vertical, eastwards positive) that carry `expected` (where
    the point would be with the axis `before`) to `seen`. The azimuth base carries the
    altitude axis (`mount_to_sky`), so the turns are found on that model, by Gauss-Newton
    from no turn; ValueError where the point cannot tell the knobs apart (at the zenith,
    about which the azimuth knob turns)."""
    alt, az = before.altitude, before.azimuth
    fixed = rotate(rotate(to_vector(*expected), _neg(zenith(latitude)), -az), EAST, -alt)
    target = to_vector(*seen)
    turns = [0.0, 0.0]
    step = 1e-5
    for _ in range(6):
        here = mount_to_sky(fixed, alt + turns[0], az + turns[1], latitude)
        moved = _sub(target, here)
        columns = []
        for k in range(2):
            other = list(turns)
            other[k] += step
            there = mount_to_sky(fixed, alt + other[0], az + other[1], latitude)
            columns.append(tuple(c / step for c in _sub(there, here)))
        a, b = columns
        aa, ab, bb = _dot(a, a), _dot(a, b), _dot(b, b)  # type: ignore[arg-type]
        am, bm = _dot(a, moved), _dot(b, moved)  # type: ignore[arg-type]
        det = aa * bb - ab * ab
        if abs(det) < 1e-6 * max(aa, bb, 1e-30) ** 2:
            raise ValueError("this point cannot tell the two knobs apart (too near the "
                             "zenith): point the mount elsewhere and calculate again")
        turns[0] += (bb * am - ab * bm) / det
        turns[1] += (aa * bm - ab * am) / det
    return turns[0], turns[1]


def mount_to_sky(v: Vector, alt: float, az: float, latitude: float) -> Vector:
    """A direction fixed to a mount whose axis is `alt` degrees above the pole and `az` east
    of it, in the Earth-fixed frame: the altitude turn (about the east line, the pole towards
    the zenith), then the azimuth turn (about the vertical, north towards east)."""
    v = rotate(v, EAST, alt)
    return rotate(v, _neg(zenith(latitude)), az)
