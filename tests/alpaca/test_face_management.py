"""The Alpaca face's management API, identities and discovery, with alpyca as the client.

Protects: our server with ``alpaca=PORT`` lists its INDI devices (in-process simulators and
indilib's executable ones) as Alpaca devices of the right types; each keeps its number and
UniqueID across a restart; alpyca's discovery finds the server on the configured UDP port;
and the common members (Name, Description, DriverInfo, InterfaceVersion, SupportedActions,
Action, Connected/Connect/Disconnect/Connecting) behave as ASCOM says, on the INDI device.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import alpaca.discovery
import ifaddr
import pytest
from alpaca import management
from alpaca.exceptions import ActionNotImplementedException
from alpaca.exceptions import NotConnectedException
from alpaca.focuser import Focuser
from facekit import alpaca_server
from facekit import free_udp_port
from facekit import serving
from waiting import wait_for

from indipysimulators.focus import make_driver


def test_configured_devices_and_description(tmp_path: Path) -> None:
    """Both simulator devices are listed with PascalCase types, numbers from 0, UniqueIDs."""
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json")) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        assert management.apiversions(address) == [1]
        description = management.description(address)
        assert set(description) == {"ServerName", "Manufacturer", "ManufacturerVersion",
                                    "Location"}
        devices = wait_for(lambda: management.configureddevices(address), 10,
                           "configured devices")
        by_name = {d["DeviceName"]: d for d in devices}
        assert by_name["Python Focuser"]["DeviceType"] == "Focuser"
        assert by_name["Python Filter Wheel"]["DeviceType"] == "FilterWheel"
        assert {d["DeviceNumber"] for d in devices} == {0}
        assert len({d["UniqueID"] for d in devices}) == 2


def test_numbers_and_unique_ids_survive_a_restart(tmp_path: Path) -> None:
    """A second focuser (indilib's) gets number 1; after a restart with the devices starting
    in the other order, every device keeps its number and UniqueID."""
    registry = tmp_path / "ids.json"
    with serving(alpaca_server(make_driver(), registry=registry,
                               exdrivers=("indi_simulator_focus",))) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        def three() -> list[dict[str, object]] | None:
            devices = management.configureddevices(address)
            return devices if len(devices) == 3 else None

        first = wait_for(three, 20, "three devices")
    with serving(alpaca_server(registry=registry,
                               exdrivers=("indi_simulator_focus",))) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        second = wait_for(lambda: management.configureddevices(address), 20, "indilib's focuser")
    ids = {(d["DeviceName"], d["DeviceType"]): (d["DeviceNumber"], d["UniqueID"]) for d in first}
    assert ("Focuser Simulator", "Focuser") in ids
    assert sorted(n for (_, t), (n, _) in ids.items() if t == "Focuser") == [0, 1]
    for device in second:
        key = (device["DeviceName"], device["DeviceType"])
        assert ids[key] == (device["DeviceNumber"], device["UniqueID"])


def test_discovery_on_the_configured_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alpyca's IPv4 discovery (its port set to a free one) finds our Alpaca port on loopback.
    alpyca broadcasts on every adapter it lists: it is shown only the loopback one, since this
    machine's other interfaces lead to networks that are not ours (issue 73 item 3)."""
    udp = free_udp_port()
    monkeypatch.setattr(alpaca.discovery, "port", udp)
    adapters = [adapter for adapter in ifaddr.get_adapters() if adapter.name == "lo"]
    assert adapters, "no loopback adapter"
    monkeypatch.setattr(alpaca.discovery.ifaddr, "get_adapters", lambda: adapters)
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json",
                               discovery=udp)) as server:
        found = alpaca.discovery.search_ipv4(numquery=1, timeout=1)
        assert f"127.0.0.1:{server.alpaca_port}" in found


def test_common_members_on_an_in_process_focuser(tmp_path: Path) -> None:
    """Not connected: device members raise NotConnected; Connect is asynchronous and ends
    with Connected; Action is ActionNotImplemented; Disconnect goes back."""
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json")) as server:
        focuser = Focuser(f"127.0.0.1:{server.alpaca_port}", 0)
        wait_for(lambda: management.configureddevices(f"127.0.0.1:{server.alpaca_port}"))
        assert focuser.Name == "Python Focuser"
        assert focuser.Description == "Python Focuser"
        assert "indipy_simulator_focus" in ",".join(focuser.DriverInfo)
        assert focuser.DriverVersion == "1.0"
        assert focuser.InterfaceVersion == 4
        assert focuser.SupportedActions == []
        assert focuser.Connected is False
        with pytest.raises(NotConnectedException):
            _ = focuser.Position
        with pytest.raises(ActionNotImplementedException):
            focuser.Action("anything")
        focuser.Connect()
        wait_for(lambda: not focuser.Connecting, 10, "Connecting to end")
        assert focuser.Connected is True
        assert focuser.Position == 50000
        names = [entry["Name"] for entry in focuser.DeviceState]
        assert names[:2] == ["IsMoving", "Position"]
        focuser.Disconnect()
        wait_for(lambda: not focuser.Connecting and not focuser.Connected, 10, "disconnected")
        focuser.Connected = True
        assert focuser.Connected is True


def _this_machines_address() -> str | None:
    """A non-loopback IPv4 address of an interface that is up (None when there is none; the
    suite's workers have one: tests/ownnetwork.py)."""
    from indipydiscovery.interfaces import list_interfaces

    for interface in list_interfaces():
        if interface.up and not interface.loopback:
            for address in interface.ipv4:
                return address
    return None


def _ask(source: str, target: str, port: int) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        sock.settimeout(1.0)
        sock.sendto(b"alpacadiscovery1", (target, port))
        try:
            return sock.recv(200)
        except TimeoutError:
            return None


def test_a_loopback_only_server_answers_only_this_machine(tmp_path: Path) -> None:
    """The Alpaca API listens on 127.0.0.1 (the default): a probe from 127.0.0.1 is answered
    with our port; one from the machine's network address is not (the port it would be given
    cannot be reached from there)."""
    address = _this_machines_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    udp = free_udp_port()
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json",
                               discovery=udp)) as server:
        answer = _ask("127.0.0.1", "127.0.0.1", udp)
        assert answer is not None
        assert json.loads(answer) == {"AlpacaPort": server.alpaca_port}
        assert _ask(address, address, udp) is None


def test_devices_are_listed_to_a_client_asking_as_the_server_starts(tmp_path: Path) -> None:
    """An Alpaca client asking the moment the server has started (NINA at launch, an
    ``alpaca://`` started with it) gets the devices the INDI server has: the face answers
    the management API once its INDI client has heard them (it answered an empty list while
    its client was still connecting, and the client served nothing)."""
    with serving(alpaca_server(make_driver(), registry=tmp_path / "ids.json",
                               exdrivers=("indi_simulator_focus",))) as server:
        devices = management.configureddevices(f"127.0.0.1:{server.alpaca_port}")
    # (indilib's focuser, an executable still starting, makes the server's start slower; it
    # may come later, as a device added to a running server does)
    assert {"Python Focuser", "Python Filter Wheel"} <= {d["DeviceName"] for d in devices}
