"""Focuser and FilterWheel served by the face, driven by alpyca, on real INDI devices.

Protects: our simulators (in-process) and indilib's indi_simulator_focus and
indi_simulator_wheel (executable drivers of our server) each work from an Alpaca client:
Move returns at once with IsMoving True and ends at the target read back from the INDI
device; Halt stops a move; out-of-range targets are InvalidValue; the wheel's Position is
0-based, -1 while it turns, its Names are the INDI filter names and FocusOffsets one zero
each; DeviceState names only what the interface lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpaca.exceptions import InvalidValueException
from alpaca.filterwheel import FilterWheel
from alpaca.focuser import Focuser
from facekit import alpaca_server
from facekit import number_of
from facekit import serving
from waiting import wait_for

from indipysimulators.focus import make_driver


def address_of(server: object) -> str:
    return f"127.0.0.1:{server.alpaca_port}"


@pytest.fixture
def address(tmp_path: Path) -> Iterator[str]:
    """Our simulators in-process and indilib's focuser and wheel as executables."""
    with serving(alpaca_server(make_driver(speed=5000, seconds_per_slot=0.3),
                               registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_focus", "indi_simulator_wheel"))
                 ) as server:
        yield address_of(server)


@pytest.mark.parametrize("name", ["Python Focuser", "Focuser Simulator"])
def test_focuser_moves_and_halts(address: str, name: str) -> None:
    focuser = Focuser(address, number_of(address, name, "Focuser"))
    focuser.Connect()
    wait_for(lambda: not focuser.Connecting, 20, "connected")
    assert focuser.Connected and focuser.Absolute
    maxstep = focuser.MaxStep
    assert maxstep > 0 and focuser.MaxIncrement > 0
    start = focuser.Position
    target = start + 2000 if start + 2000 <= maxstep else start - 2000
    focuser.Move(target)
    wait_for(lambda: not focuser.IsMoving, 30, lambda: f"at {focuser.Position}")
    assert focuser.Position == target
    with pytest.raises(InvalidValueException):
        focuser.Move(maxstep + 1)
    with pytest.raises(InvalidValueException):
        focuser.Move(-1)
    assert focuser.TempCompAvailable is False and focuser.TempComp is False
    state = {entry["Name"]: entry["Value"] for entry in focuser.DeviceState}
    assert set(state) <= {"IsMoving", "Position", "Temperature"}
    assert state["Position"] == target and state["IsMoving"] is False
    focuser.Disconnect()
    wait_for(lambda: not focuser.Connected, 20, "disconnected")


def test_our_focuser_halts_a_move(address: str) -> None:
    """Our simulator moves slowly enough to be caught moving: IsMoving True right after
    Move returns, Halt stops it short of the target."""
    focuser = Focuser(address, number_of(address, "Python Focuser", "Focuser"))
    focuser.Connected = True
    start = focuser.Position
    target = 0 if start > 50000 else 100000
    focuser.Move(target)
    assert focuser.IsMoving is True
    focuser.Halt()
    wait_for(lambda: not focuser.IsMoving, 20, "halted")
    assert focuser.Position != target


@pytest.mark.parametrize("name", ["Python Filter Wheel", "Filter Simulator"])
def test_filter_wheel_turns(address: str, name: str) -> None:
    wheel = FilterWheel(address, number_of(address, name, "FilterWheel"))
    wheel.Connected = True
    names = wheel.Names
    assert names[:3] == ["Red", "Green", "Blue"] and len(names) == 8
    assert wheel.FocusOffsets == [0] * len(names)
    assert wheel.Position == 0
    wheel.Position = 3
    seen = wait_for(lambda: (p := wheel.Position) != -1 and p, 20, "the wheel to stop")
    assert seen == 3
    with pytest.raises(InvalidValueException):
        wheel.Position = len(names)
    with pytest.raises(InvalidValueException):
        wheel.Position = -1
    assert [entry["Name"] for entry in wheel.DeviceState] == ["Position"]


def test_our_wheel_reads_minus_one_while_turning(address: str) -> None:
    wheel = FilterWheel(address, number_of(address, "Python Filter Wheel", "FilterWheel"))
    wheel.Connected = True
    wheel.Position = 4
    assert wheel.Position == -1
    wait_for(lambda: wheel.Position == 4, 20, "slot 5")
