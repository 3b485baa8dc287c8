"""Our pure-Python ``PyIndi`` (pyindi-client's API) as the INDI client of an Alpaca device:
alpaca-simulators' focuser, added to our server with ``alpaca://``, driven the way a
pyindi-client program drives a focuser (a BaseClient subclass, its callbacks, sendNewNumber)."""

from __future__ import annotations

import threading
from pathlib import Path

from alpacapeers import AlpacaSimulators
from peers import OurServer
from waiting import wait_for

import PyIndi

FOCUSER = "Simulator Focuser"


class FocuserWatcher(PyIndi.BaseClient):
    """Records, from PyIndi's callbacks, the focuser's properties and each position it reads."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.properties: set[str] = set()
        self.positions: list[tuple[float, int]] = []

    def newProperty(self, prop: PyIndi.Property) -> None:
        if prop.getDeviceName() == FOCUSER:
            with self.lock:
                self.properties.add(prop.getName())

    def updateProperty(self, prop: PyIndi.Property) -> None:
        if prop.getDeviceName() == FOCUSER and prop.getName() == "ABS_FOCUS_POSITION":
            number = PyIndi.PropertyNumber(prop)
            with self.lock:
                self.positions.append((number[0].getValue(), number.getState()))


def test_pyindi_drives_alpaca_focuser(our_server: object, alpaca_sim: AlpacaSimulators,
                                      tmp_path: Path) -> None:
    """PyIndi sees the Alpaca focuser (newProperty, BaseDevice lookups), connects it, sets
    ABS_FOCUS_POSITION with sendNewNumber and reads the new position back through
    updateProperty ending Ok; the Alpaca simulator itself is at that position."""
    server: OurServer = our_server(  # type: ignore[operator]
        f"alpaca://127.0.0.1:{alpaca_sim.port}/focuser/0")
    client = FocuserWatcher()
    client.setServer("127.0.0.1", server.port)
    assert client.connectServer(), server.log_tail()
    try:
        wait_for(lambda: "CONNECTION" in client.properties, 20, "the focuser's CONNECTION")
        client.connectDevice(FOCUSER)
        wait_for(lambda: "ABS_FOCUS_POSITION" in client.properties, 20,
                 lambda: f"ABS_FOCUS_POSITION; seen {sorted(client.properties)}")
        device = client.getDevice(FOCUSER)
        assert device.isConnected()
        assert device.getDriverInterface() & PyIndi.BaseDevice.FOCUSER_INTERFACE
        position = device.getNumber("ABS_FOCUS_POSITION")
        assert position and position.getPermission() == PyIndi.IP_RW
        start = int(position[0].getValue())
        assert start == alpaca_sim.get("focuser/0/position")
        target = start + 500 if start + 500 <= int(device.getNumber("FOCUS_MAX")[0].value) \
            else start - 500
        position[0].setValue(target)
        client.sendNewNumber(position)

        def arrived() -> bool:
            with client.lock:
                return (target, PyIndi.IPS_OK) in client.positions

        wait_for(arrived, 60, lambda: f"position {target}; saw {client.positions[-5:]}")
        # The live property settles there too (a poll of the moving focuser may follow the
        # Ok the callbacks saw).
        wait_for(lambda: position[0].getValue() == target
                 and position.getState() == PyIndi.IPS_OK, 10,
                 lambda: f"{position[0].getValue()} {position.getState()}")
        assert alpaca_sim.get("focuser/0/position") == target
    finally:
        client.disconnectServer()
