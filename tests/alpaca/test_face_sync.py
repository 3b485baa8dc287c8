"""A sync served by the face reads back the device's answer, whatever the mount sends next.

indilib's telescope simulator answers ON_COORD_SET SYNC + EQUATORIAL_EOD_COORD with a set in
state Ok carrying the synced coordinates, and its next poll (every 250 ms, so at any moment
after the sync) sends the position it computes from its axes, some 5e-5 h of RA away. A face
that looked at the model now and then missed the answer whenever that poll came first, and
SyncToCoordinates failed with "did not apply EQUATORIAL_EOD_COORD". Protects, through alpyca:
against an in-process mount that sends its next reading at once after the answer, every sync
returns and reads back the synced Dec; against indilib's simulator itself, many syncs in a
row all return; a sync the mount refuses (Alert) is the device's reason, not a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alpaca.exceptions import DriverException
from facekit import alpaca_server
from facekit import serving
from test_face_telescope import mount

from indipycore.interface import Interface
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import newNumberVector
from indipydriver import newSwitchVector

MOUNT = "Drifting Mount"
#: How far the mount's next reading is from the synced RA (hours): what indilib's simulator's
#: next poll sent after a sync to RA 6.1 (6.09994900...).
DRIFT = 5.1e-5
#: A Dec the mount refuses to sync to, with REFUSAL.
REFUSED_DEC = -89.5
REFUSAL = "the mount cannot sync so close to the pole"


def drifting_mount() -> Device:
    """A mount with its own CONNECTION (always connected), EQUATORIAL_EOD_COORD and
    ON_COORD_SET, served as an Alpaca Telescope by DRIVER_INTERFACE."""
    connection = SwitchVector("CONNECTION", "Connection", "Main Control", "rw", "OneOfMany",
                              "Ok", [SwitchMember("CONNECT", "Connect", "On"),
                                     SwitchMember("DISCONNECT", "Disconnect", "Off")])
    on_set = SwitchVector("ON_COORD_SET", "On Set", "Main Control", "rw", "OneOfMany", "Ok",
                          [SwitchMember("TRACK", "Track", "On"),
                           SwitchMember("SLEW", "Slew", "Off"),
                           SwitchMember("SYNC", "Sync", "Off")])
    coords = NumberVector("EQUATORIAL_EOD_COORD", "Eq. Coordinates", "Main Control", "rw",
                          "Ok", [NumberMember("RA", "RA (hh:mm:ss)", "%010.6m", 0, 24, 0, 3.0),
                                 NumberMember("DEC", "DEC (dd:mm:ss)", "%010.6m", -90, 90, 0,
                                              20.0)])
    return Device(MOUNT, [connection, on_set, coords], interface=Interface.TELESCOPE)


class DriftingDriver(IPyDriver):
    """A sync as indilib's simulator answers it when its poll falls just after: the synced
    coordinates Ok, then at once the mount's next reading, DRIFT away in RA. A sync to
    REFUSED_DEC is refused (Alert with REFUSAL)."""

    def __init__(self) -> None:
        super().__init__(drifting_mount())
        self.syncs = 0

    async def rxevent(self, event: Any) -> None:
        device = self[MOUNT]
        if isinstance(event, newSwitchVector) and event.vectorname == "ON_COORD_SET":
            on_set = device["ON_COORD_SET"]
            for member in on_set:
                on_set[member] = event.get(member, "Off")
            await on_set.send_setVector(state="Ok")
        elif isinstance(event, newNumberVector) and event.vectorname == "EQUATORIAL_EOD_COORD":
            coords = device["EQUATORIAL_EOD_COORD"]
            if device["ON_COORD_SET"]["SYNC"] != "On":
                return  # only syncs are served here
            if float(event["DEC"]) == REFUSED_DEC:
                await coords.send_setVector(REFUSAL, state="Alert")
                return
            self.syncs += 1
            coords["RA"], coords["DEC"] = float(event["RA"]), float(event["DEC"])
            await coords.send_setVector(state="Ok")
            coords["RA"] = float(event["RA"]) - DRIFT
            await coords.send_setVector(state="Ok")


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    registry = tmp_path_factory.mktemp("sync") / "ids.json"
    with serving(alpaca_server(DriftingDriver(), registry=registry,
                               exdrivers=("indi_simulator_telescope",))) as server:
        yield f"127.0.0.1:{server.alpaca_port}"


def test_sync_returns_when_the_next_reading_follows_at_once(address: str) -> None:
    """Each sync returns (no "did not apply" after 4 s) and reads back the synced Dec,
    though the mount's next reading, DRIFT away in RA, came right after its answer."""
    scope = mount(address, MOUNT)
    assert scope.CanSync
    for n in range(5):
        dec = 10.0 + n
        scope.SyncToCoordinates(4.0 + n / 10, dec)
        assert abs(scope.Declination - dec) < 1e-9
        assert abs(scope.RightAscension - (4.0 + n / 10 - DRIFT)) < 1e-9  # the next reading


def test_a_refused_sync_is_the_devices_reason(address: str) -> None:
    """A sync the mount answers with Alert fails at once with the mount's message."""
    scope = mount(address, MOUNT)
    with pytest.raises(DriverException, match=REFUSAL):
        scope.SyncToCoordinates(5.0, REFUSED_DEC)


def test_many_syncs_on_indilib_simulator(address: str) -> None:
    """indilib's telescope simulator: 20 syncs in a row each return and read back the Dec
    (its 250 ms poll falls right after some of them)."""
    scope = mount(address, "Telescope Simulator")
    if scope.AtPark:
        scope.Unpark()
    assert scope.CanSync
    start_ra, start_dec = scope.RightAscension, scope.Declination
    for n in range(20):
        dec = max(-80.0, min(80.0, start_dec)) - 0.1 * (n % 5)
        scope.SyncToCoordinates((start_ra + 0.01 * n) % 24, dec)
        assert abs(scope.Declination - dec) < 0.01
