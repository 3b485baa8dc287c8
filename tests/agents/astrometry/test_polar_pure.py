"""Issue 80 item 3, the pure part: the axis of the circle through three solved points, its
error in altitude and azimuth, and the knobs' turns while the user corrects it, checked
against our mount simulator's own tilt (`indipysimulators.telescope.polar_tilted`, written
as turns of the sky, not as a circle fit)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.astrometry.polar import PolarError
from indipyagents.astrometry.polar import fit_axis
from indipyagents.astrometry.polar import knob_turns
from indipyagents.astrometry.polar import polar_error
from indipyagents.astrometry.polar import tracked
from indipysimulators.telescope import polar_tilted

LST = 3.0


def seen(ra: float, dec: float, latitude: float, polar: tuple[float, float],
         lst: float = LST) -> tuple[float, float]:
    """(hour angle, dec) where the simulated mount, told (`ra`, `dec`), truly points."""
    true_ra, true_dec = polar_tilted(ra, dec, lst, latitude, polar)
    return (lst - true_ra + 12) % 24 - 12, true_dec


@settings(max_examples=200, deadline=None)
@given(alt=st.floats(-60, 60), az=st.floats(-60, 60), latitude=st.floats(20, 65),
       dec=st.floats(30, 80), ra=st.floats(0, 24), move=st.floats(10, 30))
def test_three_points_give_the_simulators_polar_error(alt: float, az: float, latitude: float,
                                                      dec: float, ra: float,
                                                      move: float) -> None:
    points = [seen((ra + i * move / 15) % 24, dec, latitude, (alt, az)) for i in range(3)]
    error = polar_error(fit_axis(points), latitude)
    assert abs(error.altitude * 60 - alt) < 0.01
    assert abs(error.azimuth * 60 - az) < 0.01
    assert error.up == (error.altitude < 0) and error.cw == (error.azimuth < 0)


def test_the_simulators_tilt_undone_is_where_it_started() -> None:
    ra, dec = polar_tilted(5.0, 60.0, LST, 51.5, (30.0, -20.0))
    back = polar_tilted(ra, dec, LST, 51.5, (30.0, -20.0), undo=True)
    assert math.isclose(back[0], 5.0, abs_tol=1e-9) and math.isclose(back[1], 60.0,
                                                                      abs_tol=1e-9)
    assert polar_tilted(5.0, 60.0, LST, 51.5, (0.0, 0.0)) == (5.0, 60.0)


@settings(max_examples=100, deadline=None)
@given(alt=st.floats(-40, 40), az=st.floats(-40, 40), turn_alt=st.floats(-20, 20),
       turn_az=st.floats(-20, 20), dec=st.floats(20, 75))
def test_the_knobs_turns_are_found_from_one_point(alt: float, az: float, turn_alt: float,
                                                  turn_az: float, dec: float) -> None:
    """The third point seen again after the knobs turned: the turns (within 1 % of the turn and
    0.05 arcminute), for a point
    25 degrees or more from the zenith (about which the azimuth knob turns: a point near it
    hardly moves)."""
    latitude = 51.5
    zenith_distance = math.degrees(math.acos(
        math.sin(math.radians(latitude)) * math.sin(math.radians(dec))
        + math.cos(math.radians(latitude)) * math.cos(math.radians(dec))
        * math.cos(math.radians(45.0))))  # hour angle 3 h
    assume(zenith_distance > 25)
    # At hour angle 3 h and latitude 51.5, a point near Dec 42 is moved the same way by both
    # knobs (measured: refused from Dec 40.8 to 42.6); `knob_turns` refuses it, tested below.
    assume(not 39.5 < dec < 44.0)
    before = seen(0.0, dec, latitude, (alt, az))
    after = seen(0.0, dec, latitude, (alt + turn_alt, az + turn_az))
    found = knob_turns(before, after, latitude,
                       PolarError(alt / 60, az / 60, math.hypot(alt, az) / 60))
    assert abs(found[0] * 60 - turn_alt) < 0.01 * abs(turn_alt) + 0.05
    assert abs(found[1] * 60 - turn_az) < 0.01 * abs(turn_az) + 0.05


def test_a_point_both_knobs_move_alike_is_refused() -> None:
    """Hour angle 3 h, Dec 42.25, latitude 51.5: the two knobs move this point along one line,
    so its move cannot say which knob turned: a ValueError that says to point elsewhere."""
    before = seen(0.0, 42.25, 51.5, (14.0, 0.0))
    after = seen(0.0, 42.25, 51.5, (34.0, 0.0))
    with pytest.raises(ValueError, match="cannot tell the two knobs apart"):
        knob_turns(before, after, 51.5, PolarError(14 / 60, 0.0, 14 / 60))


def test_tracking_turns_a_point_about_the_axis_as_the_hour_angle_grows() -> None:
    ha, dec = tracked((1.0, 50.0), (0.0, 90.0), 3600.0)
    assert math.isclose(dec, 50.0, abs_tol=1e-9)
    assert math.isclose(ha, 1.0 + 3600 * 24 / 86164.0905, abs_tol=1e-6)
