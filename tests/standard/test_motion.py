"""The pure motion and astronomy behind the mount and focuser roles and the simulators.

No clock: time is made up, so every property holds for any sequence of steps hypothesis picks.
"""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.astro import SIDEREAL_HOURS_PER_SECOND
from indipycore.astro import altitude
from indipycore.astro import hour_angle
from indipycore.astro import hours_between
from indipycore.astro import local_sidereal_time
from indipycore.astro import wrap_hours
from indipydriver.standard.motion import EquatorialMotion
from indipydriver.standard.motion import LinearMotion
from indipydriver.standard.motion import idle_turn

hours = st.floats(0, 24, exclude_max=True, allow_nan=False)
decs = st.floats(-90, 90, allow_nan=False)
steps = st.lists(st.floats(0.01, 5.0), min_size=1, max_size=30)


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_wrap_hours_stays_in_a_day(value: float) -> None:
    """Any angle in hours wraps into [0, 24): RA sent to clients is always within its range."""
    wrapped = wrap_hours(value)
    assert 0.0 <= wrapped < 24.0


@given(hours, hours)
def test_hours_between_is_the_short_way(start: float, end: float) -> None:
    """The RA axis takes the short way round: at most 12 h, and it lands on the end."""
    delta = hours_between(start, end)
    assert -12.0 <= delta < 12.0
    assert math.isclose(wrap_hours(start + delta), end, abs_tol=1e-9) or \
        math.isclose(abs(wrap_hours(start + delta) - end), 24.0, abs_tol=1e-9)


def test_sidereal_time_known_value() -> None:
    """GMST at 2000-01-01 12:00 UTC is 18.697 h (the J2000 epoch); a sidereal day later it
    is the same again, and an hour of clock time adds 1.0027 h."""
    epoch = datetime(2000, 1, 1, 12, tzinfo=UTC)
    assert local_sidereal_time(epoch, 0.0) == pytest.approx(18.697374558)
    later = epoch + timedelta(seconds=86164.0905)
    assert local_sidereal_time(later, 0.0) == pytest.approx(18.697374558, abs=1e-6)
    hour = local_sidereal_time(epoch + timedelta(hours=1), 0.0)
    assert hour - 18.697374558 == pytest.approx(1.0027379, abs=1e-6)
    # Longitude east adds its hours; a naive datetime means UTC.
    assert local_sidereal_time(epoch.replace(tzinfo=None), 15.0) == pytest.approx(19.697374558)


def test_altitude_simple_cases() -> None:
    """The pole stands at the latitude; a star on the meridian at dec = lat is overhead;
    from 50 N a dec of -60 never rises."""
    assert altitude(5.0, 90.0, 51.5) == pytest.approx(51.5)
    assert altitude(0.0, 30.0, 30.0) == pytest.approx(90.0)
    for ha in range(-12, 12):
        assert altitude(ha, -60.0, 50.0) < 0
    assert hour_angle(10.0, 9.0) == pytest.approx(1.0)   # one hour west of the meridian
    assert hour_angle(1.0, 23.0) == pytest.approx(2.0)   # across 0 h


@given(hours, decs, hours, decs, st.floats(0.5, 10.0), steps, st.booleans())
def test_a_slew_moves_at_most_its_rate_and_ends_on_the_target(
    ra: float, dec: float, ra2: float, dec2: float, rate: float, dts: list[float],
    tracking: bool,
) -> None:
    """Each step moves each axis by no more than rate x seconds (plus sidereal drift with
    tracking off), RA stays in [0, 24) and Dec in [-90, 90], and given time enough the slew
    ends exactly on the target and stops."""
    mount = EquatorialMotion(ra=ra, dec=dec, tracking=tracking, slew_rate=rate)
    mount.slew_to(ra2, dec2)
    lst = 0.0
    for dt in dts:
        before_ra, before_dec = mount.ra, mount.dec
        lst += dt * SIDEREAL_HOURS_PER_SECOND
        mount.advance(dt, lst)
        assert 0.0 <= mount.ra < 24.0 and -90.0 <= mount.dec <= 90.0
        drift = 0.0 if tracking else dt * SIDEREAL_HOURS_PER_SECOND
        assert abs(hours_between(before_ra, mount.ra)) <= rate * dt / 15.0 + drift + 1e-9
        assert abs(mount.dec - before_dec) <= rate * dt + 1e-9
        if not mount.slewing:
            break
    # Long enough for any slew (180 degrees on either axis at the slowest rate: 360 s).
    mount.advance(400.0, lst)
    assert not mount.slewing
    if tracking:
        assert mount.ra == wrap_hours(ra2) and mount.dec == dec2
    else:
        # Arrived, then the sky turned under the stopped mount for the rest of the 400 s.
        assert -90.0 <= mount.dec <= 90.0 and mount.dec == dec2


@given(hours, decs, st.floats(1.0, 1e5))
def test_tracking_holds_ra_and_stopping_lets_it_drift(ra: float, dec: float, seconds: float) -> None:
    """Tracking keeps RA/Dec fixed; with tracking off RA grows by the sidereal rate."""
    tracked = EquatorialMotion(ra=ra, dec=dec, tracking=True)
    tracked.advance(seconds, 0.0)
    assert (tracked.ra, tracked.dec) == (wrap_hours(ra), dec)
    stopped = EquatorialMotion(ra=ra, dec=dec, tracking=False)
    stopped.advance(seconds, 0.0)
    expected = wrap_hours(ra + seconds * SIDEREAL_HOURS_PER_SECOND)
    assert abs(hours_between(stopped.ra, expected)) < 1e-9
    assert stopped.dec == dec


def test_park_slew_ends_at_the_hour_angle_however_long_it_takes() -> None:
    """A slew to an hour angle (a park position) ends at that hour angle for the LST at
    arrival, though LST moved on during the slew."""
    mount = EquatorialMotion(ra=6.0, dec=10.0, tracking=False, slew_rate=2.0)
    mount.slew_to_hour_angle(0.0, 90.0)
    lst, t = 3.0, 0.0
    while mount.slewing and t < 1000:
        t += 0.25
        lst = wrap_hours(3.0 + t * SIDEREAL_HOURS_PER_SECOND)
        mount.advance(0.25, lst)
    assert not mount.slewing
    assert mount.dec == 90.0
    assert hour_angle(lst, mount.ra) == pytest.approx(0.0, abs=1e-9)


def test_stop_sync_and_manual_motion() -> None:
    """Abort stops a slew where it is; sync sets the coordinates without motion; manual
    north motion raises Dec and west motion lowers RA, and both stop on request."""
    mount = EquatorialMotion(ra=1.0, dec=0.0, tracking=True, slew_rate=1.0)
    mount.slew_to(5.0, 40.0)
    mount.advance(2.0, 0.0)
    mount.stop()
    where = (mount.ra, mount.dec)
    mount.advance(10.0, 0.0)
    assert not mount.slewing and (mount.ra, mount.dec) == where
    assert where[1] == pytest.approx(2.0)
    mount.sync(12.0, -20.0)
    assert (mount.ra, mount.dec) == (12.0, -20.0) and not mount.slewing
    mount.move(1, 1, 0.5)
    assert mount.moving
    mount.advance(2.0, 0.0)
    assert mount.dec == pytest.approx(-19.0)
    assert mount.ra == pytest.approx(12.0 - 1.0 / 15.0)
    mount.move(0, 0, 0.5)
    assert not mount.moving
    with pytest.raises(ValueError, match="-1, 0 or"):
        mount.move(2, 0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        EquatorialMotion(slew_rate=0.0)


@given(st.floats(0, 1e5), st.floats(0, 1e5), st.floats(1.0, 1e4), steps)
def test_linear_motion_never_overshoots(start: float, target: float, speed: float,
                                         dts: list[float]) -> None:
    """A focuser moves toward its target by at most speed x seconds a step, never past it,
    and ends exactly on it; `seconds_left` shrinks as it goes."""
    motion = LinearMotion(position=start, speed=speed, minimum=0, maximum=1e5)
    motion.move_to(target)
    low, high = min(start, target), max(start, target)
    for dt in dts:
        before, left = motion.position, motion.seconds_left()
        motion.advance(dt)
        assert low <= motion.position <= high
        assert abs(motion.position - before) <= speed * dt + 1e-6
        assert motion.seconds_left() <= left
    motion.advance(1e6)
    assert motion.position == target and not motion.moving and motion.seconds_left() == 0


def test_linear_motion_limits_and_stop() -> None:
    """A target outside the range is refused with the range in the message; stop holds."""
    motion = LinearMotion(position=10, speed=5, minimum=0, maximum=100)
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        motion.move_to(101)
    motion.move_to(100)
    motion.advance(2)
    motion.stop()
    motion.advance(2)
    assert motion.position == 20 and not motion.moving and motion.target is None
    with pytest.raises(ValueError, match="positive"):
        LinearMotion(speed=0)
    with pytest.raises(ValueError, match="above maximum"):
        LinearMotion(minimum=2, maximum=1)


@given(hours, decs, hours, st.floats(1.0, 3600.0),
       st.lists(st.floats(0.01, 2.0), min_size=1, max_size=30), st.booleans())
def test_an_idle_mount_keeps_its_hour_angle_on_a_sky_clock_of_any_rate(
        ra: float, dec: float, lst0: float, rate: float, dts: list[float], parked: bool) -> None:
    """Issue 90 item 6: untracked (idle, or parked at an hour angle), the mount stands still
    on the ground whatever the sky clock's rate, so its hour angle (LST - RA) stays put while
    the sidereal time runs `rate` times faster than the wall's seconds it is given; on the
    old code RA grew by the wall's seconds and fell behind the sky."""
    mount = EquatorialMotion(ra=ra, dec=dec, tracking=False)
    lst = lst0
    mount.advance(0.0, lst)  # the owner's first look: the sky time now
    if parked:
        mount.slew_to_hour_angle(hours_between(ra, lst0), dec)
    ha = hours_between(ra, lst0)
    for dt in dts:
        lst = wrap_hours(lst + dt * rate * SIDEREAL_HOURS_PER_SECOND)
        mount.advance(dt, lst)
        assert hours_between(ha, hours_between(mount.ra, lst)) == pytest.approx(0.0, abs=1e-6)


@given(st.floats(0.0, 1e5), hours)
def test_the_first_step_turns_at_the_sidereal_rate(seconds: float, lst: float) -> None:
    """Without an earlier sidereal time the sky turns by `seconds` at the sidereal rate
    (what a lone `advance` always did)."""
    assert idle_turn(seconds, None, lst) == seconds * SIDEREAL_HOURS_PER_SECOND
