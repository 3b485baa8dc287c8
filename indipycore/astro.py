"""The little astronomy both sides need: sidereal time and the sidereal rate, hour angle,
altitude, azimuth, angle wrapping, and what a camera's FITS header needs: precession between
J2000 and the date (a mount's JNow EQUATORIAL_EOD_COORD to OBJCTRA/OBJCTDEC) and airmass.

One copy for the driver side (the mount role's limit checks and pier side, the simulators,
the camera's header, the Alpaca mounts consumed) and the client side (the Alpaca face's
SiderealTime, Altitude/Azimuth and guide rates). Pure functions of their arguments (no clock
is read here): the callers pass the time and site in.
Accuracy is what pointing a telescope at a target for a goto limit needs (seconds of time),
not an ephemeris: no nutation, no refraction.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

__all__ = [
    "SIDEREAL_DAY_SECONDS",
    "SIDEREAL_DEG_PER_S",
    "SIDEREAL_HOURS_PER_SECOND",
    "airmass",
    "altitude",
    "azimuth",
    "hour_angle",
    "hours_between",
    "local_sidereal_time",
    "precess_from_j2000",
    "precess_to_j2000",
    "precession_matrix",
    "wrap_hours",
]

#: One turn of the Earth relative to the stars, in SI seconds.
SIDEREAL_DAY_SECONDS = 86164.0905
#: How fast the hour angle of a fixed star grows (hours of angle per second of time).
SIDEREAL_HOURS_PER_SECOND = 24.0 / SIDEREAL_DAY_SECONDS
#: The sidereal rate (a star's apparent motion, what a mount tracks at) in degrees per second;
#: INDI's guide and slew rates are multiples of it.
SIDEREAL_DEG_PER_S = 360.0 / SIDEREAL_DAY_SECONDS

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


def azimuth(ha: float, dec: float, latitude: float) -> float:
    """Azimuth (degrees east of north, [0, 360)) of hour angle `ha` (hours) and declination
    `dec` (degrees) seen from `latitude` (degrees)."""
    h = math.radians(ha * 15.0)
    d = math.radians(dec)
    phi = math.radians(latitude)
    y = -math.sin(h) * math.cos(d)
    x = math.cos(phi) * math.sin(d) - math.sin(phi) * math.cos(d) * math.cos(h)
    azimuth = math.degrees(math.atan2(y, x)) % 360.0
    # A tiny negative angle (due north, -1e-15) wraps to exactly 360.0: that is north, 0.
    return 0.0 if azimuth >= 360.0 else azimuth


def _precession_angles(when: datetime) -> tuple[float, float, float]:
    """IAU 1976 precession angles zeta, z, theta (radians) from J2000 to `when` (Lieske 1977,
    as in Meeus, Astronomical Algorithms ch. 21; UTC is used for TT, a minute apart at most,
    which moves a star by less than 0.001")."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    t = (when - _J2000).total_seconds() / (86400.0 * 36525.0)
    arcsec = math.pi / (180.0 * 3600.0)
    zeta = (2306.2181 * t + 0.30188 * t * t + 0.017998 * t ** 3) * arcsec
    z = (2306.2181 * t + 1.09468 * t * t + 0.018203 * t ** 3) * arcsec
    theta = (2004.3109 * t - 0.42665 * t * t - 0.041833 * t ** 3) * arcsec
    return zeta, z, theta


def precess_from_j2000(ra: float, dec: float, when: datetime) -> tuple[float, float]:
    """J2000 right ascension (hours) and declination (degrees) as of the mean equator and
    equinox of `when` (JNow, what INDI's EQUATORIAL_EOD_COORD holds)."""
    zeta, z, theta = _precession_angles(when)
    a = math.radians(ra * 15.0) + zeta
    d = math.radians(dec)
    x = math.cos(theta) * math.cos(d) * math.cos(a) - math.sin(theta) * math.sin(d)
    y = math.cos(d) * math.sin(a)
    s = math.sin(theta) * math.cos(d) * math.cos(a) + math.cos(theta) * math.sin(d)
    return (wrap_hours(math.degrees(math.atan2(y, x) + z) / 15.0),
            math.degrees(math.asin(max(-1.0, min(1.0, s)))))


Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def _product(a: Matrix, b: Matrix) -> Matrix:
    r = [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    return ((r[0][0], r[0][1], r[0][2]), (r[1][0], r[1][1], r[1][2]),
            (r[2][0], r[2][1], r[2][2]))


def precession_matrix(when: datetime) -> Matrix:
    """`precess_from_j2000`'s rotation as a 3 x 3 matrix (rows) taking a J2000 unit vector
    (x towards RA 0, z the pole) to the mean equator and equinox of `when`: for many stars
    at once, a few products a star instead of its trigonometry."""
    zeta, z, theta = _precession_angles(when)
    cz, sz, ct, st = math.cos(zeta), math.sin(zeta), math.cos(theta), math.sin(theta)
    # RA turned by zeta, the pole tipped by theta, RA turned by z (as precess_from_j2000).
    turn = ((cz, -sz, 0.0), (sz, cz, 0.0), (0.0, 0.0, 1.0))
    tip = ((ct, 0.0, -st), (0.0, 1.0, 0.0), (st, 0.0, ct))
    last = ((math.cos(z), -math.sin(z), 0.0), (math.sin(z), math.cos(z), 0.0), (0.0, 0.0, 1.0))
    return _product(last, _product(tip, turn))


def precess_to_j2000(ra: float, dec: float, when: datetime) -> tuple[float, float]:
    """JNow right ascension (hours) and declination (degrees) at `when` back to J2000 (the
    inverse rotation of `precess_from_j2000`): what a FITS header's OBJCTRA/OBJCTDEC hold
    with EQUINOX 2000."""
    zeta, z, theta = _precession_angles(when)
    a = math.radians(ra * 15.0) - z
    d = math.radians(dec)
    x = math.cos(theta) * math.cos(d) * math.cos(a) + math.sin(theta) * math.sin(d)
    y = math.cos(d) * math.sin(a)
    s = -math.sin(theta) * math.cos(d) * math.cos(a) + math.cos(theta) * math.sin(d)
    return (wrap_hours(math.degrees(math.atan2(y, x) - zeta) / 15.0),
            math.degrees(math.asin(max(-1.0, min(1.0, s)))))


def airmass(alt: float) -> float | None:
    """Relative air mass at altitude `alt` (degrees), Kasten and Young (1989): 1 at the
    zenith, about 2 at 30 degrees, about 38 at the horizon; None below the horizon (no
    meaning there: a FITS header then carries no AIRMASS)."""
    if alt < 0.0:
        return None
    return 1.0 / (math.sin(math.radians(alt)) + 0.50572 * math.pow(alt + 6.07995, -1.6364))
