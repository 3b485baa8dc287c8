"""Dome and Rotator served by the face, driven by alpyca, on indilib's simulators
(indi_simulator_dome, indi_simulator_rotator: executable drivers of our server; the toolkit
has no dome or rotator simulator of its own).

Protects: the shutter opens through Opening to Open; SlewToAzimuth returns at once, Slewing
until the dome is there; Park ends AtPark; the rotator moves absolutely and relatively,
IsMoving until there; Sync changes the sky angle while MechanicalPosition stays, and later
moves go to sky angles; Reverse
follows ROTATOR_REVERSE; what INDI has no property for is NotImplemented.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca import management
from alpaca.dome import Dome
from alpaca.dome import ShutterState
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from alpaca.rotator import Rotator
from facekit import alpaca_server
from facekit import serving
from waiting import wait_for


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    with serving(alpaca_server(registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_dome", "indi_simulator_rotator"))
                 ) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        wait_for(lambda: len(management.configureddevices(address)) == 2, 20, "two devices")
        yield address


def test_dome(address: str) -> None:
    dome = Dome(address, 0)
    assert dome.Name == "Dome Simulator" and dome.InterfaceVersion == 3
    dome.Connected = True
    assert dome.CanSetShutter and dome.CanSetAzimuth and dome.CanPark
    assert dome.CanFindHome is False and dome.CanSetAltitude is False and dome.AtHome is False
    with pytest.raises(NotImplementedException):
        dome.FindHome()
    with pytest.raises(NotImplementedException):
        _ = dome.Altitude
    assert dome.AtPark is False  # indilib's simulator starts unparked
    dome.OpenShutter()
    wait_for(lambda: dome.ShutterStatus == ShutterState.shutterOpen, 30,
             lambda: f"shutter {dome.ShutterStatus}")
    dome.SlewToAzimuth(120.0)
    assert dome.Slewing is True
    wait_for(lambda: not dome.Slewing, 60, lambda: f"azimuth {dome.Azimuth}")
    assert dome.Azimuth == pytest.approx(120.0, abs=1.0)
    with pytest.raises(InvalidValueException):
        dome.SlewToAzimuth(400.0)
    dome.CloseShutter()
    wait_for(lambda: dome.ShutterStatus == ShutterState.shutterClosed, 30, "closed")
    dome.Park()
    wait_for(lambda: dome.AtPark, 60, lambda: f"azimuth {dome.Azimuth}")
    names = {entry["Name"] for entry in dome.DeviceState}
    assert {"AtPark", "Azimuth", "ShutterStatus", "Slewing"} <= names


def test_rotator(address: str) -> None:
    rotator = Rotator(address, 0)
    assert rotator.Name == "Rotator Simulator" and rotator.InterfaceVersion == 4
    rotator.Connected = True
    rotator.MoveAbsolute(45.0)
    wait_for(lambda: not rotator.IsMoving, 60, lambda: f"at {rotator.Position}")
    assert rotator.Position == pytest.approx(45.0, abs=0.5)
    assert rotator.TargetPosition == pytest.approx(45.0)
    rotator.Move(10.0)
    wait_for(lambda: not rotator.IsMoving, 60, lambda: f"at {rotator.Position}")
    assert rotator.Position == pytest.approx(55.0, abs=0.5)
    mechanical = rotator.MechanicalPosition
    rotator.Sync(100.0)
    assert rotator.Position == pytest.approx(100.0, abs=0.5)
    assert rotator.MechanicalPosition == pytest.approx(mechanical, abs=0.5)
    rotator.MoveAbsolute(110.0)  # sky angle: mechanically 10 degrees further
    wait_for(lambda: not rotator.IsMoving, 60, lambda: f"at {rotator.Position}")
    assert rotator.Position == pytest.approx(110.0, abs=0.5)
    assert rotator.MechanicalPosition == pytest.approx(mechanical + 10.0, abs=0.5)
    assert rotator.CanReverse is True
    rotator.Reverse = True
    assert rotator.Reverse is True
    rotator.Reverse = False
    with pytest.raises(NotImplementedException):
        _ = rotator.StepSize
    with pytest.raises(InvalidValueException):
        rotator.MoveAbsolute(360.0)
