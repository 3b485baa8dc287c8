"""The little astronomy a mount needs: sidereal time, hour angle, altitude, angle wrapping.

Pure functions of their arguments (no clock is read here): the mount role passes the time and
site in, so the same code serves the role's limit checks, the simulators and the tests.
Accuracy is what pointing a telescope at a target for a goto limit needs (seconds of time),
not an ephemeris: no nutation, no refraction.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = [
    "SIDEREAL_DAY_SECONDS",
    "SIDEREAL_HOURS_PER_SECOND",
    "altitude",
    "hour_angle",
    "hours_between",
    "local_sidereal_time",
    "wrap_hours",
]

#: One turn of the Earth relative to the stars, in SI seconds.
SIDEREAL_DAY_SECONDS = 86164.0905
#: How fast the hour angle of a fixed star grows (hours of angle per second of time).
SIDEREAL_HOURS_PER_SECOND = 24.0 / SIDEREAL_DAY_SECONDS

_J2000 = datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)


def wrap_hours(hours: float) -> float:
    """An angle in hours brought into [0, 24)."""
    wrapped = hours % 24.0
    # -1e-17 % 24.0 is 24.0 in floating point: keep the half-open interval.
    return 0.0 if wrapped >= 24.0 else wrapped


def hours_between(start: float, end: float) -> float:
    """The shortest signed way from `start` to `end` (hours of RA), in [-12, 12)."""
    delta = (end - start + 12.0) % 24.0 - 12.0
    return -12.0 if delta >= 12.0 else delta


def local_sidereal_time(when: datetime, longitude: float) -> float:
    """Local mean sidereal time (hours, [0, 24)) at `when` (aware, or naive meaning UTC) for a
    site at `longitude` degrees, east positive (INDI's GEOGRAPHIC_COORD.LONG, 0..360)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = (when - _J2000).total_seconds() / 86400.0
    gmst = 18.697374558 + 24.06570982441908 * days
    return wrap_hours(gmst + longitude / 15.0)


def hour_angle(lst: float, ra: float) -> float:
    """The hour angle (hours, [-12, 12)) of right ascension `ra` at local sidereal time `lst`;
    negative east of the meridian (rising), positive west (setting)."""
    return hours_between(ra, lst)


def altitude(ha: float, dec: float, latitude: float) -> float:
    """Altitude above the horizon (degrees) of hour angle `ha` (hours) and declination `dec`
    (degrees) seen from `latitude` (degrees, north positive)."""
    h = math.radians(ha * 15.0)
    d = math.radians(dec)
    phi = math.radians(latitude)
    sine = math.sin(phi) * math.sin(d) + math.cos(phi) * math.cos(d) * math.cos(h)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))
