"""The face's members that are one INDI element each (its per-type tables), driven by alpyca
on our simulators and indilib's, checked against what indi_getprop reads from the server.

Protects: a camera's CCDTemperature, CoolerOn, CoolerPower, Gain and Offset with their Min and
Max, a focuser's Temperature, a mount's Tracking and its site members each read the INDI
element (Gain and Offset rounded, the site's longitude -180..180 where INDI has 0..360) and
write it where the interface lets a client, within range (beyond it InvalidValue); where the
INDI device has no such property the member is NotImplemented both ways, never a value made
up. Each type runs on both simulators: for the camera and the focuser one has the property
and the other not.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alpaca.camera import Camera
from alpaca.exceptions import InvalidValueException
from alpaca.exceptions import NotImplementedException
from alpaca.focuser import Focuser
from alpaca.telescope import Telescope
from facekit import alpaca_server
from facekit import number_of
from facekit import serving
from peers import getprop
from waiting import wait_for

from indipycore.protocol.numbers import parse_number
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators import telescope

# kind -> (Alpaca class, our simulator and its device, indilib's driver and its device, a
# vector both define once connected).
KINDS: dict[str, tuple[type, Callable[[], Any], str, str, str, str]] = {
    "camera": (Camera, ccd.make_driver, "Python CCD Simulator", "indi_simulator_ccd",
               "CCD Simulator", "CCD_EXPOSURE"),
    "focuser": (Focuser, focus.make_driver, "Python Focuser", "indi_simulator_focus",
                "Focuser Simulator", "ABS_FOCUS_POSITION"),
    "mount": (Telescope, telescope.make_driver, "Python Mount", "indi_simulator_telescope",
              "Telescope Simulator", "EQUATORIAL_EOD_COORD"),
}


class Served:
    """One connected Alpaca device of the face and the INDI device behind it."""

    def __init__(self, alpaca: Any, port: int, name: str) -> None:
        self.alpaca, self.port, self.name = alpaca, port, name
        self.props = self.read(f"{name}.*.*")

    def read(self, *specs: str) -> dict[str, str]:
        """indi_getprop `specs`, keys without the device name ("VECTOR.ELEMENT")."""
        found = getprop(self.port, *specs, timeout=3)
        return {key.split(".", 1)[1]: value for key, value in found.items()}

    def number(self, element: str) -> float:
        """The INDI number now (a fresh read, not the snapshot taken at connect)."""
        return parse_number(self.read(f"{self.name}.{element}")[element])

    def absent(self, member: str, value: object = None) -> None:
        """`member` is NotImplemented to read and, given a `value`, to write."""
        with pytest.raises(NotImplementedException):
            getattr(self.alpaca, member)
        if value is not None:
            with pytest.raises(NotImplementedException):
                setattr(self.alpaca, member, value)


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Served]]:
    """Our simulator and indilib's of the kind `request.param`, each connected through the
    face once its INDI device defines the kind's vector."""
    cls, make, ours, program, theirs, vector = KINDS[request.param]
    with serving(alpaca_server(make(), registry=tmp_path / "ids.json", exdrivers=(program,))
                 ) as server:
        address = f"127.0.0.1:{server.alpaca_port}"
        found = []
        for name in (ours, theirs):
            alpaca = cls(address, number_of(address, name, cls.__name__))
            alpaca.Connected = True
            spec = f"{name}.{vector}.*"
            wait_for(lambda: getprop(server.port, spec, timeout=1), 20, spec)  # noqa: B023
            found.append(Served(alpaca, server.port, name))
        yield found


@pytest.mark.parametrize("served", ["camera"], indirect=True)
def test_camera_rows(served: list[Served]) -> None:
    """CCDTemperature and CoolerPower read CCD_TEMPERATURE and CCD_COOLER_POWER; CoolerOn
    reads and sets CCD_COOLER (our simulator's); Gain and Offset read, and set within
    their Min..Max, CCD_GAIN and CCD_OFFSET (indilib's has them); whatever a camera lacks is
    NotImplemented, read or written."""
    kinds = set()
    for cam in served:
        props = cam.props
        if "CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE" in props:
            assert cam.alpaca.CCDTemperature == pytest.approx(
                cam.number("CCD_TEMPERATURE.CCD_TEMPERATURE_VALUE"), abs=0.5)
        else:
            cam.absent("CCDTemperature")
        if "CCD_COOLER_POWER.CCD_COOLER_VALUE" in props:
            assert cam.alpaca.CoolerPower == pytest.approx(
                cam.number("CCD_COOLER_POWER.CCD_COOLER_VALUE"), abs=5.0)
        else:
            cam.absent("CoolerPower")
        if "CCD_COOLER.COOLER_ON" in props:
            kinds.add("cooler")
            for wanted in (True, False, True):
                cam.alpaca.CoolerOn = wanted
                assert cam.alpaca.CoolerOn is wanted
                assert cam.read(f"{cam.name}.CCD_COOLER.COOLER_ON",
                                f"{cam.name}.CCD_COOLER.COOLER_OFF") == {
                    "CCD_COOLER.COOLER_ON": "On" if wanted else "Off",
                    "CCD_COOLER.COOLER_OFF": "Off" if wanted else "On"}
            cam.alpaca.CoolerOn = False
        # (indilib's simulator has a write-only CCD_COOLER, which indi_getprop cannot read.)
        for member, element in (("Gain", "CCD_GAIN.GAIN"), ("Offset", "CCD_OFFSET.OFFSET")):
            if element not in props:
                cam.absent(member, 1)
                cam.absent(f"{member}Min")
                cam.absent(f"{member}Max")
                continue
            kinds.add(member)
            assert getattr(cam.alpaca, member) == round(cam.number(element))
            low, high = getattr(cam.alpaca, f"{member}Min"), getattr(cam.alpaca, f"{member}Max")
            assert low < high and low <= getattr(cam.alpaca, member) <= high
            wanted = low + 1 if getattr(cam.alpaca, member) != low + 1 else low
            setattr(cam.alpaca, member, wanted)
            assert getattr(cam.alpaca, member) == wanted and cam.number(element) == wanted
            with pytest.raises(InvalidValueException):
                setattr(cam.alpaca, member, high + 1)
            with pytest.raises(InvalidValueException):
                setattr(cam.alpaca, member, low - 1)
            assert cam.number(element) == wanted
    # Both ways were driven: our camera has a cooler, indilib's a gain and an offset.
    assert kinds == {"cooler", "Gain", "Offset"}


@pytest.mark.parametrize("served", ["focuser"], indirect=True)
def test_focuser_temperature(served: list[Served]) -> None:
    """Temperature is FOCUS_TEMPERATURE (indilib's focuser's and, since issue 93 item 6, ours),
    NotImplemented without it."""
    present = []
    for focuser in served:
        if "FOCUS_TEMPERATURE.TEMPERATURE" in focuser.props:
            present.append(focuser.name)
            assert focuser.alpaca.Temperature == pytest.approx(
                focuser.number("FOCUS_TEMPERATURE.TEMPERATURE"), abs=0.5)
        else:
            focuser.absent("Temperature")
    assert sorted(present) == ["Focuser Simulator", "Python Focuser"]


@pytest.mark.parametrize("served", ["mount"], indirect=True)
def test_mount_tracking_and_site(served: list[Served]) -> None:
    """Tracking reads TELESCOPE_TRACK_STATE; SiteLatitude, SiteLongitude (-180..180 to INDI's
    0..360) and SiteElevation set GEOGRAPHIC_COORD and read back, each leaving the other two
    as they were (indilib's simulator takes members left out of a new GEOGRAPHIC_COORD as
    garbage, so the face sends all three), and beyond their ranges are InvalidValue, leaving
    the site as it was."""
    for mount in served:
        scope = mount.alpaca
        track = mount.read(f"{mount.name}.TELESCOPE_TRACK_STATE.TRACK_ON")
        assert scope.Tracking is (track["TELESCOPE_TRACK_STATE.TRACK_ON"] == "On")
        for member, value, element, indi, beyond in (
                ("SiteLatitude", 12.5, "LAT", 12.5, 90.5),
                ("SiteLongitude", -20.25, "LONG", 339.75, -180.5),
                ("SiteElevation", 321.0, "ELEV", 321.0, 10000.5)):
            setattr(scope, member, value)
            assert mount.number(f"GEOGRAPHIC_COORD.{element}") == pytest.approx(indi, abs=1e-4)
            assert getattr(scope, member) == pytest.approx(value, abs=1e-4)
            with pytest.raises(InvalidValueException):
                setattr(scope, member, beyond)
            assert mount.number(f"GEOGRAPHIC_COORD.{element}") == pytest.approx(indi, abs=1e-4)
        # All three set: each kept its value while the others were written.
        assert scope.SiteLatitude == pytest.approx(12.5, abs=1e-4)
        assert scope.SiteLongitude == pytest.approx(-20.25, abs=1e-4)
        assert scope.SiteElevation == pytest.approx(321.0, abs=1e-4)
