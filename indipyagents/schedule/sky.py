"""The sky a scheduler needs, as pure functions of a moment and a site: the Sun's and the
Moon's places, a target's altitude and azimuth, the Moon's separation from it, and when the
Sun crosses a twilight's altitude.

Fast, standard library only (a month of fifty targets is a few hundred thousand altitudes),
and accurate enough to schedule: the Sun from the Astronomical Almanac's low-precision formula
(0.01 degrees), the Moon from the main terms of Meeus's series (Astronomical Algorithms ch. 47,
a few hundredths of a degree) made topocentric (its parallax reaches a degree), sidereal time
and precession from `indipycore.astro`; no refraction, no nutation, as astroplan's defaults
(pressure 0). tests/agents/schedule holds them to astropy's and astroplan's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from indipycore import astro

_J2000 = datetime(2000, 1, 1, 12, 0, 0, tzinfo=UTC)
_EARTH_RADIUS_KM = 6378.14
_RAD = math.pi / 180.0

# Meeus table 47.A: multiples of D, M, M', F; longitude (1e-6 degree), distance (1e-3 km).
_MOON_LR = (
    (0, 0, 1, 0, 6288774, -20905355), (2, 0, -1, 0, 1274027, -3699111),
    (2, 0, 0, 0, 658314, -2955968), (0, 0, 2, 0, 213618, -569925),
    (0, 1, 0, 0, -185116, 48888), (0, 0, 0, 2, -114332, -3149),
    (2, 0, -2, 0, 58793, 246158), (2, -1, -1, 0, 57066, -152138),
    (2, 0, 1, 0, 53322, -170733), (2, -1, 0, 0, 45758, -204586),
    (0, 1, -1, 0, -40923, -129620), (1, 0, 0, 0, -34720, 108743),
    (0, 1, 1, 0, -30383, 104755), (2, 0, 0, -2, 15327, 10321),
    (0, 0, 1, 2, -12528, 0), (0, 0, 1, -2, 10980, 79661),
    (4, 0, -1, 0, 10675, -34782), (0, 0, 3, 0, 10034, -23210),
    (4, 0, -2, 0, 8548, -21636), (2, 1, -1, 0, -7888, 24208),
    (2, 1, 0, 0, -6766, 30824), (1, 0, -1, 0, -5163, -8379),
    (1, 1, 0, 0, 4987, -16675), (2, -1, 1, 0, 4036, -12831),
    (2, 0, 2, 0, 3994, -10445), (4, 0, 0, 0, 3861, -11650),
    (2, 0, -3, 0, 3665, 14403), (0, 1, -2, 0, -2689, -7003),
    (2, 0, -1, 2, -2602, 0), (2, -1, -2, 0, 2390, 10056),
    (1, 0, 1, 0, -2348, 6322), (2, -2, 0, 0, 2236, -9884),
)
# Meeus table 47.B: latitude (1e-6 degree).
_MOON_B = (
    (0, 0, 0, 1, 5128122), (0, 0, 1, 1, 280602), (0, 0, 1, -1, 277693),
    (2, 0, 0, -1, 173237), (2, 0, -1, 1, 55413), (2, 0, -1, -1, 46271),
    (2, 0, 0, 1, 32573), (0, 0, 2, 1, 17198), (2, 0, 1, -1, 9266),
    (0, 0, 2, -1, 8822), (2, -1, 0, -1, 8216), (2, 0, -2, -1, 4324),
    (2, 0, 1, 1, 4200), (2, 1, 0, -1, -3359), (2, -1, -1, 1, 2463),
    (2, -1, 0, 1, 2211), (2, -1, -1, -1, 2065),
)


@dataclass(frozen=True)
class Place:
    """Where the telescope stands: latitude and longitude in degrees (north, east positive),
    elevation in metres."""

    latitude: float
    longitude: float
    elevation: float = 0.0


def _days(when: datetime) -> float:
    return (when - _J2000).total_seconds() / 86400.0


def sun_radec(when: datetime) -> tuple[float, float]:
    """The Sun's right ascension (hours) and declination (degrees) of date."""
    n = _days(when)
    mean_longitude = 280.460 + 0.9856474 * n
    anomaly = (357.528 + 0.9856003 * n) * _RAD
    ecliptic = (mean_longitude + 1.915 * math.sin(anomaly)
                + 0.020 * math.sin(2 * anomaly)) * _RAD
    obliquity = (23.439 - 0.0000004 * n) * _RAD
    ra = math.atan2(math.cos(obliquity) * math.sin(ecliptic), math.cos(ecliptic))
    dec = math.asin(math.sin(obliquity) * math.sin(ecliptic))
    return astro.wrap_hours(ra / _RAD / 15.0), dec / _RAD


def _moon_geocentric(when: datetime) -> tuple[float, float, float]:
    """The Moon's geocentric ecliptic longitude, latitude (radians, of date) and distance
    (km), Meeus ch. 47 truncated."""
    t = _days(when) / 36525.0
    mean_longitude = 218.3164477 + 481267.88123421 * t
    elongation = (297.8501921 + 445267.1114034 * t) * _RAD
    sun_anomaly = (357.5291092 + 35999.0502909 * t) * _RAD
    moon_anomaly = (134.9633964 + 477198.8675055 * t) * _RAD
    node = (93.2720950 + 483202.0175233 * t) * _RAD
    eccentricity = 1.0 - 0.002516 * t
    longitude = latitude = distance = 0.0
    for d, m, mp, f, lon_term, dist_term in _MOON_LR:
        arg = d * elongation + m * sun_anomaly + mp * moon_anomaly + f * node
        scale = eccentricity ** abs(m)
        longitude += scale * lon_term * math.sin(arg)
        distance += scale * dist_term * math.cos(arg)
    for d, m, mp, f, lat_term in _MOON_B:
        arg = d * elongation + m * sun_anomaly + mp * moon_anomaly + f * node
        latitude += eccentricity ** abs(m) * lat_term * math.sin(arg)
    a1 = (119.75 + 131.849 * t) * _RAD
    a2 = (53.09 + 479264.290 * t) * _RAD
    a3 = (313.45 + 481266.484 * t) * _RAD
    lp = mean_longitude * _RAD
    longitude += 3958 * math.sin(a1) + 1962 * math.sin(lp - node) + 318 * math.sin(a2)
    latitude += (-2235 * math.sin(lp) + 382 * math.sin(a3) + 175 * math.sin(a1 - node)
                 + 175 * math.sin(a1 + node) + 127 * math.sin(lp - moon_anomaly)
                 - 115 * math.sin(lp + moon_anomaly))
    return ((mean_longitude + longitude / 1e6) * _RAD, latitude / 1e6 * _RAD,
            385000.56 + distance / 1000.0)


def moon_radec(when: datetime, place: Place) -> tuple[float, float]:
    """The Moon's topocentric right ascension (hours) and declination (degrees) of date, as
    seen from `place` (its parallax moves it by up to a degree from the geocentric place)."""
    longitude, latitude, distance = _moon_geocentric(when)
    obliquity = (23.439291 - 0.0130042 * _days(when) / 36525.0) * _RAD
    # Ecliptic to equatorial, as a vector in km.
    x = distance * math.cos(latitude) * math.cos(longitude)
    y = distance * math.cos(latitude) * math.sin(longitude)
    z = distance * math.sin(latitude)
    y, z = (y * math.cos(obliquity) - z * math.sin(obliquity),
            y * math.sin(obliquity) + z * math.cos(obliquity))
    # The observer on the rotating Earth (a sphere: the flattening moves the Moon by < 10").
    lst = astro.local_sidereal_time(when, place.longitude) * 15.0 * _RAD
    phi = place.latitude * _RAD
    radius = _EARTH_RADIUS_KM + place.elevation / 1000.0
    x -= radius * math.cos(phi) * math.cos(lst)
    y -= radius * math.cos(phi) * math.sin(lst)
    z -= radius * math.sin(phi)
    ra = math.atan2(y, x) / _RAD / 15.0
    dec = math.atan2(z, math.hypot(x, y)) / _RAD
    return astro.wrap_hours(ra), dec


def altaz(ra: float, dec: float, when: datetime, place: Place) -> tuple[float, float]:
    """Altitude and azimuth (degrees) of `ra` (hours) and `dec` (degrees) of date."""
    ha = astro.hour_angle(astro.local_sidereal_time(when, place.longitude), ra)
    return (astro.altitude(ha, dec, place.latitude),
            astro.azimuth(ha, dec, place.latitude))


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """The angle (degrees) between two places (RA hours, Dec degrees), by the haversine."""
    d1, d2 = dec1 * _RAD, dec2 * _RAD
    half = (math.sin((d2 - d1) / 2) ** 2
            + math.cos(d1) * math.cos(d2) * math.sin((ra2 - ra1) * 15.0 * _RAD / 2) ** 2)
    return 2.0 * math.asin(min(1.0, math.sqrt(half))) / _RAD


def sun_altitude(when: datetime, place: Place) -> float:
    return altaz(*sun_radec(when), when, place)[0]


def crossings(value: Callable[[datetime], float], level: float, start: datetime,
              end: datetime, step: timedelta = timedelta(minutes=10),
              precision: timedelta = timedelta(seconds=1)) -> list[tuple[datetime, bool]]:
    """Where `value` crosses `level` between `start` and `end`: each moment (to `precision`,
    by bisection within the `step` it was sampled at) and whether it goes up."""
    found = []
    before_time, before = start, value(start) - level
    while before_time < end:
        after_time = min(end, before_time + step)
        after = value(after_time) - level
        if (before < 0) != (after < 0):
            low, high = before_time, after_time
            while high - low > precision:
                middle = low + (high - low) / 2
                if (value(middle) - level < 0) == (before < 0):
                    low = middle
                else:
                    high = middle
            found.append((high, before < 0))
        before_time, before = after_time, after
    return found


def dark_spans(place: Place, start: datetime, end: datetime,
               sun_below: float) -> list[tuple[datetime, datetime]]:
    """The spans between `start` and `end` when the Sun is below `sun_below` degrees (one a
    night, none in a summer night too bright for that twilight, the whole span in a polar
    night)."""
    spans = []
    dark_since = start if sun_altitude(start, place) < sun_below else None
    for moment, rising in crossings(lambda t: sun_altitude(t, place), sun_below, start, end):
        if rising and dark_since is not None:
            spans.append((dark_since, moment))
            dark_since = None
        elif not rising:
            dark_since = moment
    if dark_since is not None:
        spans.append((dark_since, end))
    return spans


def local_noon(date_utc: datetime, place: Place) -> datetime:
    """Mean noon at `place` on the day of `date_utc` (its date), in UTC: a night is what lies
    between two noons."""
    midnight = datetime(date_utc.year, date_utc.month, date_utc.day, tzinfo=UTC)
    return midnight + timedelta(hours=12.0 - place.longitude / 15.0)
