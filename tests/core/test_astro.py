"""The one astronomy both sides use (`indipycore.astro`).

Protects: the driver's 3.x-era path `indipydriver.standard.astro` hands out the core's very
objects, not a copy; the sidereal rate is one turn a sidereal day, and the mount role's
default slew rates and the Alpaca face's reading of their labels use it, so a "16x" label
the role writes is read back by the face as the role's own speed; the face's Altitude and
Azimuth from RA/Dec (a mount that does not report HORIZONTAL_COORD) are the core's.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import indipycore.astro as core
import indipydriver.standard.astro as old_path
from indipyalpaca.face.slewrates import stated_rate
from indipydriver.standard.mount import DEFAULT_SLEW_RATES


def test_the_old_path_is_the_core() -> None:
    """Every name of `indipydriver.standard.astro` is the core's object itself."""
    assert old_path.__all__ == core.__all__
    for name in core.__all__:
        assert getattr(old_path, name) is getattr(core, name), name


def test_sidereal_rate_is_one_turn_a_sidereal_day() -> None:
    """360 degrees in SIDEREAL_DAY_SECONDS, about 15.04 arcseconds a second."""
    assert core.SIDEREAL_DEG_PER_S * core.SIDEREAL_DAY_SECONDS == pytest.approx(360.0)
    assert core.SIDEREAL_DEG_PER_S * 3600.0 == pytest.approx(15.041, abs=1e-3)
    assert core.SIDEREAL_DEG_PER_S / 15.0 == pytest.approx(core.SIDEREAL_HOURS_PER_SECOND)


def test_mount_rates_read_back_by_the_face() -> None:
    """Each default slew rate whose label states a multiple of sidereal is, as the face
    reads the label, the role's own speed exactly."""
    stated = [(rate, stated_rate(rate.label)) for rate in DEFAULT_SLEW_RATES]
    assert sum(1 for _, speed in stated if speed is not None) == len(DEFAULT_SLEW_RATES)
    for rate, speed in stated:
        assert speed == pytest.approx(rate.degrees_per_second, rel=1e-12), rate.label


@given(ra=st.floats(0.0, 24.0), dec=st.floats(-90.0, 90.0), lat=st.floats(-90.0, 90.0),
       lst=st.floats(0.0, 24.0))
def test_altitude_azimuth_agree_with_the_spherical_triangle(ra: float, dec: float, lat: float,
                                                             lst: float) -> None:
    """Altitude and azimuth turned back into a direction give the hour angle's direction:
    the same point of the sky, seen from `lat` (the face's Altitude/Azimuth where a mount
    reports no HORIZONTAL_COORD)."""
    ha = core.hour_angle(lst, ra)
    alt, az = core.altitude(ha, dec, lat), core.azimuth(ha, dec, lat)
    assert -90.0 <= alt <= 90.0 and 0.0 <= az < 360.0
    h, d, phi = math.radians(ha * 15), math.radians(dec), math.radians(lat)
    a, z = math.radians(alt), math.radians(az)
    # Unit vectors in the horizon frame (x north, y east, z up) both ways.
    star = (math.cos(phi) * math.sin(d) - math.sin(phi) * math.cos(d) * math.cos(h),
            -math.cos(d) * math.sin(h),
            math.sin(phi) * math.sin(d) + math.cos(phi) * math.cos(d) * math.cos(h))
    seen = (math.cos(a) * math.cos(z), math.cos(a) * math.sin(z), math.sin(a))
    for one, other in zip(star, seen, strict=True):
        assert one == pytest.approx(other, abs=1e-7)  # asin near the zenith: ~1.5e-8


def test_sidereal_time_at_a_known_moment() -> None:
    """Greenwich mean sidereal time at J2000.0 is 18.697374558 h; 15 degrees east adds one."""
    epoch = datetime(2000, 1, 1, 12, tzinfo=UTC)
    assert core.local_sidereal_time(epoch, 0.0) == pytest.approx(18.697374558)
    assert core.local_sidereal_time(epoch, 15.0) == pytest.approx(19.697374558)
