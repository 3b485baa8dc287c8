"""The little astronomy the Telescope needs when INDI does not say it: sidereal time and
altitude/azimuth from RA/Dec at the mount's site (pure, standard library only).

Sidereal time is the mean one (the equation of the equinoxes, about a second, is left out);
altitude and azimuth are geometric (no refraction), azimuth from north through east.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

_J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)


def local_sidereal_time(when: datetime, longitude_east: float) -> float:
    """Local mean sidereal time in hours (0..24) at `longitude_east` degrees."""
    days = (when - _J2000).total_seconds() / 86400.0
    gmst = 18.697374558 + 24.06570982441908 * days
    return (gmst + longitude_east / 15.0) % 24.0


def alt_az(ra_hours: float, dec_deg: float, latitude: float, lst_hours: float
           ) -> tuple[float, float]:
    """(altitude, azimuth) in degrees of RA/Dec for an observer at `latitude`."""
    ha = math.radians((lst_hours - ra_hours) * 15.0)
    dec, lat = math.radians(dec_deg), math.radians(latitude)
    sin_alt = math.sin(dec) * math.sin(lat) + math.cos(dec) * math.cos(lat) * math.cos(ha)
    alt = math.asin(max(-1.0, min(1.0, sin_alt)))
    y = -math.sin(ha) * math.cos(dec)
    x = math.sin(dec) * math.cos(lat) - math.cos(dec) * math.sin(lat) * math.cos(ha)
    az = math.degrees(math.atan2(y, x)) % 360.0
    return math.degrees(alt), az
