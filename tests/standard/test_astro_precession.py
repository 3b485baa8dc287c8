"""Precession between J2000 and the date, and airmass (`indipycore.astro`): what a camera needs
to turn a mount's JNow EQUATORIAL_EOD_COORD into a FITS header's J2000 OBJCTRA/OBJCTDEC and
its AIRMASS. Checked against Meeus' worked example, not against our own formulas."""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.astro import airmass
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000

# Meeus, Astronomical Algorithms (2nd ed.), example 21.b: theta Persei. Its J2000 place with
# the proper motion to the date already applied, and the place of 2028 Nov 13.19 TD
# (JD 2462088.69) his rigorous method gives.
J2000_PLACE = ((2 + 44 / 60 + 12.975 / 3600), 49 + 13 / 60 + 39.896 / 3600)
DATE_PLACE = (41.547214 / 15.0, 49.348483)
WHEN = datetime(2000, 1, 1, 12, tzinfo=UTC) + timedelta(days=2462088.69 - 2451545.0)
ARCSEC = 1 / 3600


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """The angle (degrees) between two places (hours, degrees), by the haversine formula."""
    d1, d2 = math.radians(dec1), math.radians(dec2)
    dra = math.radians((ra2 - ra1) * 15)
    h = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin(dra / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h))))


def test_j2000_to_the_date_matches_meeus() -> None:
    """J2000 -> 2028 Nov 13.19: within 0.1" of Meeus' answer in both coordinates."""
    ra, dec = precess_from_j2000(*J2000_PLACE, WHEN)
    assert ra * 15 == pytest.approx(DATE_PLACE[0] * 15, abs=0.1 * ARCSEC)
    assert dec == pytest.approx(DATE_PLACE[1], abs=0.1 * ARCSEC)


def test_the_date_back_to_j2000_matches_meeus() -> None:
    """A mount's JNow place at that date back to J2000 (OBJCTRA/OBJCTDEC): Meeus' J2000 place
    within 0.1"; at J2000 itself nothing moves."""
    ra, dec = precess_to_j2000(*DATE_PLACE, WHEN)
    assert ra * 15 == pytest.approx(J2000_PLACE[0] * 15, abs=0.1 * ARCSEC)
    assert dec == pytest.approx(J2000_PLACE[1], abs=0.1 * ARCSEC)
    j2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)
    assert precess_to_j2000(5.5, -20.0, j2000) == pytest.approx((5.5, -20.0), abs=1e-12)


@given(st.floats(0, 24, exclude_max=True), st.floats(-89.9, 89.9),
       st.integers(-36500, 36500))
def test_there_and_back_is_the_identity(ra: float, dec: float, days: int) -> None:
    """Any place, any date within a century of J2000: to the date and back again returns it
    (the two places less than 0.001" apart on the sky)."""
    when = datetime(2000, 1, 1, 12, tzinfo=UTC) + timedelta(days=days)
    ra2, dec2 = precess_to_j2000(*precess_from_j2000(ra, dec, when), when)
    assert separation(ra, dec, ra2, dec2) < 0.001 * ARCSEC


def test_airmass_at_zenith_thirty_degrees_and_below_the_horizon() -> None:
    """1 at the zenith, about 2 (sec z) at 30 degrees, about 38 at the horizon, None below."""
    assert airmass(90) == pytest.approx(1.0, abs=1e-3)
    assert airmass(30) == pytest.approx(2.0, rel=0.005)
    assert airmass(0) == pytest.approx(38.0, rel=0.01)
    assert airmass(-1) is None


def test_azimuth_due_north_is_zero_never_360() -> None:
    """A pointing at the pole from the mount's home (HA 0, Dec 90) is due north: 0 degrees, not
    the 360.0 that a tiny negative angle wraps to (a FITS OBJCTAZ Ekos wrote once); and every
    azimuth stays in [0, 360)."""
    from indipycore.astro import azimuth

    assert azimuth(6.0, 90.0, 51.468) == 0.0  # wrapped to 360.0 before
    for ha in (-12.0, -6.0, -1e-12, 0.0, 1e-12, 6.0, 11.999):
        for dec in (-89.0, -30.0, 0.0, 30.0, 89.9, 90.0):
            assert 0.0 <= azimuth(ha, dec, 51.468) < 360.0
