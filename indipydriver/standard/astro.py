"""The astronomy of the standard roles, at its 3.x-era import path: the one copy lives in
`indipycore.astro` (the Alpaca face needs it too); these are its names."""

from indipycore.astro import SIDEREAL_DAY_SECONDS
from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import SIDEREAL_HOURS_PER_SECOND
from indipycore.astro import airmass
from indipycore.astro import altitude
from indipycore.astro import azimuth
from indipycore.astro import hour_angle
from indipycore.astro import hours_between
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.astro import wrap_hours

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
    "wrap_hours",
]
