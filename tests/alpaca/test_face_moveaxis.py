"""MoveAxis served by the face: Alpaca rates in degrees per second on INDI's motion switches.

Protects: a mount whose TELESCOPE_SLEW_RATE labels state its speeds (our Mount role's
"Centering (16x)", "Max (3°/s)") lists them as AxisRates on both axes; MoveAxis at one of them
selects that slew rate and turns the motion switch of the rate's sign on (Slewing, and the
coordinates really move), 0 stops the axis; a rate not listed is InvalidValue naming the
rates; the third axis cannot move (NotImplemented); a parked mount refuses
(InvalidWhileParked). And the label parser never guesses: names are not read, a label without
a stated speed gives none (hypothesis).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from alpaca.exceptions import ParkedException
from alpaca.telescope import Telescope
from alpaca.telescope import TelescopeAxes
from facekit import alpaca_server
from facekit import serving
from hypothesis import given
from hypothesis import strategies as st
from test_face_telescope import mount
from waiting import wait_for

from indipyalpaca.face.slewrates import member_for
from indipyalpaca.face.slewrates import stated_rate
from indipyalpaca.face.slewrates import stated_rates
from indipycore.astro import SIDEREAL_DEG_PER_S
from indipysimulators.telescope import make_driver

SPEEDS = sorted([0.5 * SIDEREAL_DEG_PER_S, 16 * SIDEREAL_DEG_PER_S, 64 * SIDEREAL_DEG_PER_S, 3.0])


@pytest.fixture
def scope(tmp_path: Path) -> Iterator[Telescope]:
    with serving(alpaca_server(make_driver(slew_rate=30.0),
                               registry=tmp_path / "ids.json")) as server:
        found = mount(f"127.0.0.1:{server.alpaca_port}", "Python Mount")
        if found.AtPark:
            found.Unpark()
        yield found


def _rates(scope: Telescope, axis: TelescopeAxes) -> list[float]:
    return [r.Maximum for r in scope.AxisRates(axis)]


def test_axis_rates_are_the_stated_speeds_and_the_third_axis_cannot_move(
        scope: Telescope) -> None:
    for axis in (TelescopeAxes.axisPrimary, TelescopeAxes.axisSecondary):
        assert scope.CanMoveAxis(axis) is True
        assert _rates(scope, axis) == pytest.approx(SPEEDS)
        assert all(r.Minimum == r.Maximum for r in scope.AxisRates(axis))
    assert scope.CanMoveAxis(TelescopeAxes.axisTertiary) is False
    assert list(scope.AxisRates(TelescopeAxes.axisTertiary)) == []
    with pytest.raises(NotImplementedException):
        scope.MoveAxis(TelescopeAxes.axisTertiary, SPEEDS[-1])


def test_move_axis_moves_at_the_rate_and_zero_stops(scope: Telescope) -> None:
    """Dec north at 3 degrees/s: Slewing, Declination rising; 0: stopped, Slewing False.
    RA at minus 64x: the east switch. A rate not listed: InvalidValue."""
    scope.SlewToCoordinatesAsync(scope.SiderealTime, 0.0)
    wait_for(lambda: not scope.Slewing, 60, "the goto")
    start = scope.Declination
    scope.MoveAxis(TelescopeAxes.axisSecondary, 3.0)
    assert scope.Slewing is True
    wait_for(lambda: scope.Declination > start + 1.0, 20,
             lambda: f"Dec {scope.Declination} from {start}")
    scope.MoveAxis(TelescopeAxes.axisSecondary, 0.0)
    wait_for(lambda: not scope.Slewing, 10, "stopped")
    stopped = scope.Declination
    time.sleep(0.5)  # at 3 degrees/s a mount still moving would be 1.5 degrees on
    assert scope.Declination == pytest.approx(stopped, abs=0.01)
    scope.MoveAxis(TelescopeAxes.axisPrimary, -64 * SIDEREAL_DEG_PER_S)
    assert scope.Slewing is True
    scope.MoveAxis(TelescopeAxes.axisPrimary, 0.0)
    wait_for(lambda: not scope.Slewing, 10, "stopped")
    with pytest.raises(InvalidValueException, match="AxisRates"):
        scope.MoveAxis(TelescopeAxes.axisPrimary, 1.234)


def test_a_parked_mount_refuses_move_axis(scope: Telescope) -> None:
    scope.Park()
    wait_for(lambda: scope.AtPark, 60, "parked")
    with pytest.raises(ParkedException):
        scope.MoveAxis(TelescopeAxes.axisPrimary, SPEEDS[0])


@given(st.floats(min_value=0.01, max_value=5000, allow_nan=False).map(lambda m: round(m, 3)),
       st.sampled_from(["{m}x", "x{m}", "{m}×", "Centering ({m}x)", "{m} X"]))
def test_a_stated_multiple_is_read_exactly(multiple: float, shape: str) -> None:
    label = shape.format(m=multiple)
    assert stated_rate(label) == pytest.approx(multiple * SIDEREAL_DEG_PER_S)


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",))))
def test_a_label_without_digits_states_no_speed(label: str) -> None:
    assert stated_rate(label) is None


def test_names_are_never_read_and_rates_match_to_a_part_in_a_million() -> None:
    rates = stated_rates({"1x": "Guide", "2x": "Centering", "3x": "Find (64x)"})
    assert rates == {"3x": pytest.approx(64 * SIDEREAL_DEG_PER_S)}
    assert member_for(rates, 64 * SIDEREAL_DEG_PER_S * (1 + 1e-7)) == "3x"
    assert member_for(rates, 65 * SIDEREAL_DEG_PER_S) is None
    assert stated_rate("Max (3°/s)") == 3.0 and stated_rate("box 2") is None
