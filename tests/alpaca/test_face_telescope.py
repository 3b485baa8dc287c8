"""Telescope served by the face, driven by alpyca, on our mount simulator and indilib's.

Protects: a goto through SlewToCoordinatesAsync returns at once with Slewing True and ends at
the coordinates the INDI mount reports; targets read before they are set are an error; a sync
reads back at once; parking makes slews ParkedException until Unpark; the site longitude is
-180..180 and UTCDate ends in Z; Altitude/Azimuth agree with the sky at the mount's site;
members INDI has nothing for are NotImplemented (FindHome; MoveAxis where TELESCOPE_SLEW_RATE's
labels state no speed, as indilib's simulator's), with their Can* False.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca.exceptions import NotImplementedException
from alpaca.exceptions import ParkedException
from alpaca.exceptions import ValueNotSetException
from alpaca.telescope import GuideDirections
from alpaca.telescope import Telescope
from alpaca.telescope import TelescopeAxes
from facekit import alpaca_server
from facekit import number_of
from facekit import serving
from waiting import wait_for

from indipysimulators.telescope import make_driver


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    with serving(alpaca_server(make_driver(slew_rate=30.0), registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_telescope",))) as server:
        yield f"127.0.0.1:{server.alpaca_port}"


def mount(address: str, name: str) -> Telescope:
    scope = Telescope(address, number_of(address, name, "Telescope"))
    scope.Connected = True
    return scope


def close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance


@pytest.mark.parametrize("name", ["Python Mount", "Telescope Simulator"])
def test_goto_sync_park(address: str, name: str) -> None:
    scope = mount(address, name)
    assert scope.InterfaceVersion == 4 and scope.EquatorialSystem == 1
    assert scope.CanSlew and scope.CanSlewAsync and scope.CanPark and scope.CanUnpark
    assert -180 <= scope.SiteLongitude <= 180
    assert scope.UTCDate.tzinfo is not None  # alpyca parsed the Z
    with pytest.raises(ValueNotSetException):
        _ = scope.TargetRightAscension
    if scope.AtPark:
        scope.Unpark()
    assert not scope.AtPark
    if scope.CanSetTracking:
        scope.Tracking = True
        assert scope.Tracking is True
    # Due south of the zenith by 20 degrees: well above the horizon at any site.
    ra = scope.SiderealTime
    dec = max(-80.0, min(80.0, scope.SiteLatitude - 20.0))
    scope.SlewToCoordinatesAsync(ra, dec)
    assert scope.Slewing is True
    wait_for(lambda: not scope.Slewing, 90, lambda: f"at {scope.RightAscension} {scope.Declination}")
    assert close(scope.Declination, dec, 0.05)
    assert close((scope.RightAscension - ra + 12) % 24 - 12, 0.0, 0.05)
    assert close(scope.TargetRightAscension, ra, 1e-9)
    assert close(scope.Altitude, 70.0, 1.0)
    if scope.CanSync:
        scope.SyncToCoordinates((ra + 0.1) % 24, dec + 0.5)
        assert close(scope.Declination, dec + 0.5, 0.01)
    names = {entry["Name"] for entry in scope.DeviceState}
    assert {"RightAscension", "Declination", "Slewing", "AtPark"} <= names
    assert names <= {"Altitude", "AtHome", "AtPark", "Azimuth", "Declination",
                     "IsPulseGuiding", "RightAscension", "SideOfPier", "SiderealTime",
                     "Slewing", "Tracking", "UTCDate"}
    speeds_stated = name == "Python Mount"  # its slew rates' labels say "16x"; indilib's not
    assert scope.CanMoveAxis(TelescopeAxes.axisPrimary) is speeds_stated
    assert scope.CanFindHome is False
    if not speeds_stated:
        with pytest.raises(NotImplementedException):
            scope.MoveAxis(TelescopeAxes.axisPrimary, 1.0)
    with pytest.raises(NotImplementedException):
        scope.FindHome()
    scope.Park()
    wait_for(lambda: scope.AtPark, 90, "parked")
    scope.Park()  # a second Park is harmless
    with pytest.raises(ParkedException):
        scope.SlewToCoordinatesAsync(ra, dec)
    scope.Unpark()
    assert not scope.AtPark


def test_pulse_guiding_on_indilib_mount(address: str) -> None:
    """indilib's mount and ours have TIMED_GUIDE: PulseGuide starts a guide pulse that ends
    by itself, and GUIDE_RATE gives the guide rates."""
    ours = mount(address, "Python Mount")
    if ours.AtPark:
        ours.Unpark()
    assert ours.CanPulseGuide is True
    assert ours.GuideRateDeclination == pytest.approx(0.5 * 15.041 / 3600, rel=1e-3)
    ours.PulseGuide(GuideDirections.guideNorth, 300)
    wait_for(lambda: not ours.IsPulseGuiding, 20, "our pulse to end")
    theirs = mount(address, "Telescope Simulator")
    if theirs.AtPark:
        theirs.Unpark()
    assert theirs.CanPulseGuide is True
    assert theirs.GuideRateRightAscension > 0
    theirs.PulseGuide(GuideDirections.guideEast, 500)
    assert theirs.IsPulseGuiding is True
    wait_for(lambda: not theirs.IsPulseGuiding, 20, "the pulse to end")
