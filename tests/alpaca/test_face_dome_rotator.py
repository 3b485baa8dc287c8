"""Dome and Rotator served by the face, driven by alpyca, twice: on indilib's simulators
(indi_simulator_dome, indi_simulator_rotator: executable drivers of our server), and on a
Python driver of the standard Dome and Rotator roles (`indipydriver.standard`, their
hardware a small timed double, devices named as indilib's), so a dome or rotator written on
the roles is driven by NINA and every Alpaca program as indilib's are.

Protects: the shutter opens through Opening to Open; SlewToAzimuth returns at once, Slewing
until the dome is there; Park ends AtPark; the rotator moves absolutely and relatively,
IsMoving until there; Sync changes the sky angle while MechanicalPosition stays, and later
moves go to sky angles; Reverse
follows ROTATOR_REVERSE; what INDI has no property for is NotImplemented.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca import management
from alpaca.dome import Dome as AlpacaDome
from alpaca.dome import ShutterState
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from alpaca.rotator import Rotator as AlpacaRotator
from facekit import alpaca_server
from facekit import serving
from waiting import wait_for

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import Dome
from indipydriver.standard import Rotator


class TimedTurning:
    """A dome's or rotator's hardware for the standard roles: each move takes 0.3 s."""

    def __init__(self) -> None:
        self.degrees = 0.0

    async def move_to(self, degrees: float) -> None:
        await asyncio.sleep(0.3)
        self.degrees = degrees

    async def position(self) -> float:
        return self.degrees

    async def shutter(self, open: bool) -> None:
        await asyncio.sleep(0.3)

    async def park(self, azimuth: float | None) -> None:
        await self.move_to(azimuth or 0.0)

    async def sync(self, angle: float) -> None:
        self.degrees = angle

    async def abort(self) -> None:
        """A cancelled move stops here."""

    async def move(self, direction: int) -> None:
        """Not asked by these tests."""

    async def unpark(self) -> None:
        """Nothing to do."""

    async def set_park(self, azimuth: float) -> None:
        """The role keeps DOME_PARK_POSITION."""

    async def set_slaved(self, on: bool) -> None:
        """Not offered (no can_slave)."""

    async def set_reverse(self, on: bool) -> None:
        """Nothing to turn round."""


def roles_driver() -> IPyDriver:
    """A dome and a rotator on the standard roles, named as indilib's simulators."""
    return IPyDriver(
        Device("Dome Simulator", roles=[Dome(TimedTurning(), park_azimuth=90.0,
                                             poll_interval=0.1)]),
        Device("Rotator Simulator", roles=[Rotator(TimedTurning(), poll_interval=0.1)]))


@pytest.fixture(params=["indilib", "roles"])
def address(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "indilib":
        make = alpaca_server(registry=tmp_path / "ids.json",
                             exdrivers=("indi_simulator_dome", "indi_simulator_rotator"))
    else:
        make = alpaca_server(roles_driver(), registry=tmp_path / "ids.json")
    with serving(make) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        wait_for(lambda: len(management.configureddevices(address)) == 2, 20, "two devices")
        yield address


def test_dome(address: str) -> None:
    dome = AlpacaDome(address, 0)
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
    rotator = AlpacaRotator(address, 0)
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
