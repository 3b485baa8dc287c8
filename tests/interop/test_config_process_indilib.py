"""Saved configuration (CONFIG_PROCESS, POLLING_PERIOD) between our standard devices and
indilib 1.9.9, for real (issue 58 item 1):

- our camera (``indipy_simulator_ccd``) under indilib's ``indiserver`` with a temporary HOME
  saves its POLLING_PERIOD with CONFIG_SAVE, and after the server and driver are restarted has
  it again, before and after CONNECT; its camera settings come back with CONFIG_LOAD;
- ``indi_simulator_ccd`` loads the file our camera wrote for a device of its name;
- our camera loads the file ``indi_simulator_ccd`` wrote;
- our mount (``indipy_simulator_telescope``) and ``indi_simulator_telescope`` both take their
  saved GEOGRAPHIC_COORD back when the driver starts, and not their saved slew rate;
- our camera and ``indi_simulator_ccd`` both show their saved ACTIVE_DEVICES before any
  CONNECT after a restart (issue 58, start-up loads).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import IndiServer
from peers import getprop
from peers import indi_eval
from peers import setprop
from waiting import wait_for

from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import Message
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewSwitchVector
from indipycore.protocol.events import NewTextVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipycore.protocol.events import Switch
from indipycore.protocol.events import Text
from indipydriver.standard.camera import Camera
from indipydriver.testing import DriverHarness
from indipysimulators.ccd import make_driver

OURS = "Python CCD Simulator"
THEIRS = "CCD Simulator"


async def switch(client: DriverHarness, device: str, vector: str, **values: str) -> None:
    """A client's newSwitchVector of `values` (member=On/Off)."""
    await client.send(NewSwitchVector(device, vector, tuple(
        Switch(name, SwitchState(value)) for name, value in values.items())))


async def number(client: DriverHarness, device: str, vector: str, **values: float) -> None:
    """A client's newNumberVector of `values`."""
    await client.send(NewNumberVector(device, vector, tuple(
        Number(name, str(value)) for name, value in values.items())))


@contextlib.contextmanager
def served(server: IndiServer) -> Iterator[IndiServer]:
    """The server started, and stopped (with its drivers) whatever happens."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def value(port: int, spec: str, timeout: float = 10) -> str:
    """One property member's value, as indi_getprop reads it (waits for its definition)."""
    got = getprop(port, spec, timeout=timeout)
    assert spec in got, got.result.describe()
    return got[spec]


def wait_value(port: int, spec: str, expected: str, timeout: float = 10) -> None:
    """Until indi_getprop reads `expected` for `spec`."""
    wait_for(lambda: getprop(port, spec).get(spec) == expected, timeout,
             f"{spec} == {expected}")


def file_holding(path: Path, text: bytes) -> bytes:
    """The file's bytes once it exists and holds `text` (the driver writes it on its own)."""
    return wait_for(lambda: path.exists() and text in path.read_bytes() and path.read_bytes(),
                    10, f"{path} holding {text!r}", interval=0.1)


def test_our_camera_keeps_its_polling_period_across_a_restart_under_indiserver(
        tmp_path: Path) -> None:
    """indipy_simulator_ccd under indiserver: POLLING_PERIOD 2500, UPLOAD_MODE Local,
    CONFIG_SAVE writes HOME/.indi/Python CCD Simulator_config.xml (and its .default); after
    stopping the server and starting it again POLLING_PERIOD is 2500 before CONNECT and after
    it; UPLOAD_MODE is back to Client on connect (as indilib, nothing else loads then) and Local
    after CONFIG_LOAD."""
    server = IndiServer("indipy_simulator_ccd", workdir=tmp_path)
    path = server.home / ".indi" / f"{OURS}_config.xml"
    with served(server):
        port = server.port
        assert value(port, f"{OURS}.POLLING_PERIOD.PERIOD_MS", timeout=15) == "1000"
        setprop(port, f"{OURS}.CONNECTION.CONNECT=On")
        value(port, f"{OURS}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE")
        setprop(port, f"{OURS}.POLLING_PERIOD.PERIOD_MS=2500")
        setprop(port, f"{OURS}.UPLOAD_MODE.UPLOAD_LOCAL=On")
        wait_value(port, f"{OURS}.UPLOAD_MODE.UPLOAD_LOCAL", "On")
        wait_value(port, f"{OURS}.POLLING_PERIOD.PERIOD_MS", "2500")
        setprop(port, f"{OURS}.CONFIG_PROCESS.CONFIG_SAVE=On")
        saved = file_holding(path, b"</INDIDriver>")
    assert b"2500" in saved
    assert path.with_name(path.name + ".default").read_bytes() == saved

    with served(IndiServer("indipy_simulator_ccd", workdir=tmp_path)) as again:
        port = again.port
        assert value(port, f"{OURS}.POLLING_PERIOD.PERIOD_MS", timeout=15) == "2500"
        setprop(port, f"{OURS}.CONNECTION.CONNECT=On")
        assert value(port, f"{OURS}.UPLOAD_MODE.UPLOAD_CLIENT") == "On"
        assert value(port, f"{OURS}.POLLING_PERIOD.PERIOD_MS") == "2500"
        setprop(port, f"{OURS}.CONFIG_PROCESS.CONFIG_LOAD=On")
        wait_value(port, f"{OURS}.UPLOAD_MODE.UPLOAD_LOCAL", "On")
        assert value(port, f"{OURS}.CONFIG_PROCESS._STATE") == "Ok"


async def test_indilibs_ccd_simulator_loads_the_file_our_camera_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our camera named "CCD Simulator" saves POLLING_PERIOD 3000, UPLOAD_MODE Local, binning
    2x2 and an upload prefix into HOME/.indi; indi_simulator_ccd started with that HOME shows
    POLLING_PERIOD 3000 before CONNECT, and after CONNECT and CONFIG_LOAD (Ok) the other
    three."""
    server = IndiServer("indi_simulator_ccd", workdir=tmp_path)
    server.home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(server.home))
    driver = make_driver(THEIRS)
    async with DriverHarness(driver, timeout=5) as client:
        await client.get_properties()
        await switch(client, THEIRS, "CONNECTION", CONNECT="On")
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
        await number(client, THEIRS, "POLLING_PERIOD", PERIOD_MS=3000)
        await switch(client, THEIRS, "UPLOAD_MODE", UPLOAD_LOCAL="On")
        await number(client, THEIRS, "CCD_BINNING", HOR_BIN=2, VER_BIN=2)
        await client.send(NewTextVector(THEIRS, "UPLOAD_SETTINGS",
                                        (Text("UPLOAD_PREFIX", "OURS_XXX"),)))
        await client.expect(SetTextVector, name="UPLOAD_SETTINGS")
        await switch(client, THEIRS, "CONFIG_PROCESS", CONFIG_SAVE="On")
        await client.expect(SetSwitchVector, name="CONFIG_PROCESS", state=State.OK)
    assert (server.home / ".indi" / f"{THEIRS}_config.xml").is_file()

    with served(server):
        port = server.port
        loaded = indi_eval(port, f'"{THEIRS}.POLLING_PERIOD.PERIOD_MS"==3000', timeout=10)
        assert loaded.returncode == 0, loaded.describe()
        setprop(port, f"{THEIRS}.CONNECTION.CONNECT=On")
        value(port, f"{THEIRS}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE")
        setprop(port, f"{THEIRS}.CONFIG_PROCESS.CONFIG_LOAD=On")
        wait_value(port, f"{THEIRS}.UPLOAD_SETTINGS.UPLOAD_PREFIX", "OURS_XXX")
        assert value(port, f"{THEIRS}.UPLOAD_MODE.UPLOAD_LOCAL") == "On"
        assert value(port, f"{THEIRS}.CCD_BINNING.HOR_BIN") == "2"
        assert value(port, f"{THEIRS}.CONFIG_PROCESS._STATE") == "Ok"


async def test_our_camera_loads_the_file_indilibs_ccd_simulator_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """indi_simulator_ccd, connected: POLLING_PERIOD 2500, UPLOAD_MODE Both, binning 4x4, an
    upload prefix, CONFIG_SAVE. Our camera named "CCD Simulator" with that HOME polls at 2.5 s
    from the start; CONFIG_LOAD after CONNECT (Ok) gives it the other three, and one warning
    names what indilib saved that our camera lacks (LOGGING_LEVEL, the guide chip's...)."""
    server = IndiServer("indi_simulator_ccd", workdir=tmp_path)
    path = server.home / ".indi" / f"{THEIRS}_config.xml"
    with served(server):
        port = server.port
        setprop(port, f"{THEIRS}.CONNECTION.CONNECT=On")
        value(port, f"{THEIRS}.CCD_EXPOSURE.CCD_EXPOSURE_VALUE")
        setprop(port, f"{THEIRS}.POLLING_PERIOD.PERIOD_MS=2500",
                f"{THEIRS}.UPLOAD_MODE.UPLOAD_BOTH=On")
        setprop(port, f"{THEIRS}.CCD_BINNING.HOR_BIN;VER_BIN=4;4")
        setprop(port, f"{THEIRS}.UPLOAD_SETTINGS.UPLOAD_PREFIX=THEIRS_XXX")
        wait_value(port, f"{THEIRS}.UPLOAD_SETTINGS.UPLOAD_PREFIX", "THEIRS_XXX")
        wait_value(port, f"{THEIRS}.CCD_BINNING.VER_BIN", "4")
        setprop(port, f"{THEIRS}.CONFIG_PROCESS.CONFIG_SAVE=On")
        file_holding(path, b"THEIRS_XXX")

    monkeypatch.setenv("HOME", str(server.home))
    driver = make_driver(THEIRS)
    role = driver.devices[THEIRS].standard.roles[0]  # type: ignore[union-attr]
    assert isinstance(role, Camera)
    assert role.poll_seconds == 2.5
    messages: list[str] = []
    async with DriverHarness(driver, timeout=5) as client:
        await client.get_properties()
        await switch(client, THEIRS, "CONNECTION", CONNECT="On")
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
        await switch(client, THEIRS, "CONFIG_PROCESS", CONFIG_LOAD="On")
        await client.expect(SetSwitchVector, name="CONFIG_PROCESS", state=State.OK)
        while not any("applied" in text for text in messages):
            messages.append((await client.expect(Message)).message or "")
    assert role.upload_mode["UPLOAD_BOTH"] == "On"
    assert role.binning.getfloatvalue("HOR_BIN") == role.binning.getfloatvalue("VER_BIN") == 4
    assert role.upload_settings["UPLOAD_PREFIX"] == "THEIRS_XXX"
    warning = next(text for text in messages if text.startswith("[WARNING]"))
    assert "LOGGING_LEVEL" in warning and "UPLOAD_MODE" not in warning


@pytest.mark.parametrize(("program", "device"), [
    ("indi_simulator_telescope", "Telescope Simulator"),
    ("indipy_simulator_telescope", "Python Mount"),
])
def test_a_mount_takes_its_saved_site_but_not_its_slew_rate_when_it_starts(
        tmp_path: Path, program: str, device: str) -> None:
    """indilib's Telescope reads GEOGRAPHIC_COORD from the saved file in initProperties and
    nothing else of its own: under indiserver (temporary HOME), CONNECT, GEOGRAPHIC_COORD
    45/10/100 and TELESCOPE_SLEW_RATE 1x, CONFIG_SAVE; server stopped and started again,
    CONNECT: GEOGRAPHIC_COORD reads 45/10/100, the slew rate is back to its default 3x.
    indilib's simulator and ours behave the same."""
    server = IndiServer(program, workdir=tmp_path)
    path = server.home / ".indi" / f"{device}_config.xml"
    site = f"{device}.GEOGRAPHIC_COORD"
    with served(server):
        port = server.port
        value(port, f"{device}.CONNECTION.CONNECT", timeout=15)
        setprop(port, f"{device}.CONNECTION.CONNECT=On")
        value(port, f"{site}.LAT")
        setprop(port, f"{site}.LAT;LONG;ELEV=45;10;100")
        setprop(port, f"{device}.TELESCOPE_SLEW_RATE.1x=On")
        wait_for(lambda: float(getprop(port, f"{site}.ELEV").get(f"{site}.ELEV", 0))
                 == 100, 10, "ELEV 100")
        wait_value(port, f"{device}.TELESCOPE_SLEW_RATE.1x", "On")
        setprop(port, f"{device}.CONFIG_PROCESS.CONFIG_SAVE=On")
        wait_value(port, f"{device}.CONFIG_PROCESS._STATE", "Ok")
        saved = file_holding(path, b"GEOGRAPHIC_COORD")
    assert b"TELESCOPE_SLEW_RATE" in saved

    with served(IndiServer(program, workdir=tmp_path)) as again:
        port = again.port
        value(port, f"{device}.CONNECTION.CONNECT", timeout=15)
        setprop(port, f"{device}.CONNECTION.CONNECT=On")
        # The members named, not GEOGRAPHIC_COORD.* (a wildcard waits out its fixed timeout
        # and says what came, while indiserver passes the getProperties on to the simulator,
        # busy defining its vectors just after connecting): indi_getprop ends once all came.
        got = getprop(port, *(f"{site}.{m}" for m in ("LAT", "LONG", "ELEV")), timeout=20)
        assert got.returncode == 0, got.result.describe()
        assert [float(got[f"{site}.{m}"]) for m in ("LAT", "LONG", "ELEV")] == [45, 10, 100], \
            got.result.describe()
        assert value(port, f"{device}.TELESCOPE_SLEW_RATE.3x") == "On"
        assert value(port, f"{device}.TELESCOPE_SLEW_RATE.1x") == "Off"


@pytest.mark.parametrize(("program", "device"), [
    ("indi_simulator_ccd", THEIRS),
    ("indipy_simulator_ccd", OURS),
])
def test_a_camera_shows_its_saved_active_devices_before_connect_after_a_restart(
        tmp_path: Path, program: str, device: str) -> None:
    """indilib's CCD defines ACTIVE_DEVICES from the start and loads it from the saved file
    in initProperties: under indiserver (temporary HOME), without connecting, set
    ACTIVE_TELESCOPE "Saved Mount", CONFIG_SAVE; server stopped and started again: before any
    CONNECT ACTIVE_DEVICES is defined and names "Saved Mount". indi_simulator_ccd and ours
    behave the same."""
    server = IndiServer(program, workdir=tmp_path)
    path = server.home / ".indi" / f"{device}_config.xml"
    telescope = f"{device}.ACTIVE_DEVICES.ACTIVE_TELESCOPE"
    with served(server):
        port = server.port
        assert value(port, telescope, timeout=15) != "Saved Mount"
        setprop(port, f"{telescope}=Saved Mount")
        wait_value(port, telescope, "Saved Mount")
        setprop(port, f"{device}.CONFIG_PROCESS.CONFIG_SAVE=On")
        file_holding(path, b"Saved Mount")

    with served(IndiServer(program, workdir=tmp_path)) as again:
        port = again.port
        assert value(port, telescope, timeout=15) == "Saved Mount"
        assert value(port, f"{device}.CONNECTION.CONNECT") == "Off"
