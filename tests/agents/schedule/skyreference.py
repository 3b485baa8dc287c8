"""astroplan and astropy as the sky's reference for the scheduler's tests, offline: the IERS
tables are astropy-iers-data's, never downloaded (auto_download off, their age not checked),
and astropy's warnings about them are the reference's business, not the test's. astroplan is
in the test extra (pyproject.toml): without it these tests fail, they are not skipped."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from astropy.utils import iers

iers.conf.auto_download = False
iers.conf.auto_max_age = None

import astropy.units as u
from astroplan import FixedTarget
from astroplan import Observer
from astropy.coordinates import AltAz
from astropy.coordinates import SkyCoord
from astropy.coordinates import get_body
from astropy.time import Time


@contextmanager
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def observer(latitude: float, longitude: float, elevation: float = 0.0) -> Observer:
    return Observer(latitude=latitude * u.deg, longitude=longitude * u.deg,
                    elevation=elevation * u.m)


def twilight(obs: Observer, after: datetime, name: str, evening: bool) -> datetime | None:
    """astroplan's next evening (or morning) twilight of `name` after `after`."""
    with quiet():
        call = getattr(obs, f"twilight_{'evening' if evening else 'morning'}_{name}")
        moment = call(Time(after), which="next")
    if moment.masked or not moment.isscalar or moment.value != moment.value:
        return None
    found: datetime = moment.to_datetime(timezone=after.tzinfo)
    return found


def target_altaz(obs: Observer, ra_hours: float, dec: float,
                 when: datetime) -> tuple[float, float]:
    with quiet():
        target = FixedTarget(SkyCoord(ra=ra_hours * 15 * u.deg, dec=dec * u.deg))
        altaz = obs.altaz(Time(when), target)
    return float(altaz.alt.deg), float(altaz.az.deg)


def moon_altaz_and_separation(obs: Observer, ra_hours: float, dec: float,
                              when: datetime) -> tuple[float, float, float]:
    """The Moon's altitude and azimuth, and its separation from the target, both in the
    observer's AltAz frame (night-notes: not ICRS against GCRS)."""
    with quiet():
        time = Time(when)
        frame = AltAz(obstime=time, location=obs.location)
        moon = get_body("moon", time, location=obs.location).transform_to(frame)
        target = SkyCoord(ra=ra_hours * 15 * u.deg, dec=dec * u.deg).transform_to(frame)
        return float(moon.alt.deg), float(moon.az.deg), float(moon.separation(target).deg)
