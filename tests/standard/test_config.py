"""CONFIG_PROCESS and POLLING_PERIOD of a standard device (`indipydriver.standard.config`): the
vectors as indilib 1.9.9 defines them, CONFIG_SAVE / LOAD / DEFAULT / PURGE with indilib's
files, states and messages, what is saved and loaded when, and the roles taking the polling
period. Every device here keeps its files in a temporary folder (``config_dir``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from array import array
from pathlib import Path
from typing import Any

import pytest
from rolekit import number
from rolekit import switch
from waiting import settled
from waiting import until

from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import DefSwitchVector
from indipycore.protocol.events import DelProperty
from indipycore.protocol.events import GetProperties
from indipycore.protocol.events import Message
from indipycore.protocol.events import NewTextVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipycore.protocol.events import Text
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import RxEvent
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.rxevents import newTextVector
from indipydriver.standard.camera import Camera
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Image
from indipydriver.standard.camera import Sensor
from indipydriver.standard.configfile import read_config
from indipydriver.standard.configfile import write_config
from indipydriver.standard.filterwheel import FilterWheel
from indipydriver.standard.focuser import Focuser
from indipydriver.standard.mount import Mount
from indipydriver.standard.role import startup_names
from indipydriver.standard.weather import Weather
from indipydriver.standard.weather import WeatherParameter
from indipydriver.testing import DriverHarness

DEV = "Cam"
SAVED = ["DEBUG", "POLLING_PERIOD", "DEBUG_LEVEL", "ACTIVE_DEVICES", "UPLOAD_MODE", "UPLOAD_SETTINGS",
         "CCD_COMPRESSION", "CCD_CAPTURE_FORMAT", "CCD_TRANSFER_FORMAT", "CCD_FRAME",
         "CCD_BINNING"]


async def expose(exposure: Exposure) -> Image:
    return Image(exposure.image_width, exposure.image_height,
                 array("H", bytes(2 * exposure.image_width * exposure.image_height)))


class Cooler:
    """Counts its temperature reads (the role's polling)."""

    def __init__(self) -> None:
        self.reads = 0

    async def temperature(self) -> float:
        self.reads += 1
        return 20.0

    async def set_target(self, celsius: float) -> None:
        pass

    async def set_cooler(self, on: bool) -> None:
        pass


def camera_driver(folder: Path, **kwargs: Any) -> tuple[IPyDriver, Camera]:
    role = Camera(Sensor(64, 48, 3.8), expose, **kwargs)
    return IPyDriver(Device(DEV, roles=[role], config_dir=folder)), role


async def connect(client: DriverHarness, device: str = DEV) -> None:
    await switch(client, device, "CONNECTION", CONNECT="On")
    await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)


async def process(client: DriverHarness, action: str, count: int
                  ) -> tuple[SetSwitchVector, list[str]]:
    """CONFIG_PROCESS with `action` On: its answer (every switch Off) and the `count` messages
    it logged (sent by the device's message task: they may follow the answer)."""
    await switch(client, DEV, "CONFIG_PROCESS", **{action: "On"})
    messages = []
    answer = None
    while answer is None or len(messages) < count:
        event = await client.expect()
        if isinstance(event, Message):
            messages.append(event.message)
        elif isinstance(event, SetSwitchVector) and event.name == "CONFIG_PROCESS":
            assert all(m.value == SwitchState.OFF for m in event.members)
            answer = event
    return answer, messages


def saved_values(path: Path) -> dict[str, dict[str, str]]:
    """The file's entries as {vector: {member: text}}, read as XML."""
    root = ET.fromstring(path.read_bytes())
    return {e.get("name"): {m.get("name"): (m.text or "").strip() for m in e} for e in root}


async def test_config_process_and_polling_period_are_indilibs_and_defined_before_connect(
        tmp_path: Path) -> None:
    """As indi_simulator_ccd 1.9.9 before CONNECT: POLLING_PERIOD "Polling" (Options, rw,
    PERIOD_MS "Period (ms)" %.f 10..600000 step 1000) after DRIVER_INFO, CONFIG_PROCESS
    "Configuration" (Options, rw, AtMostOne, four switches Off) after DEBUG; the period shown
    is the camera's (poll_seconds 0.5 -> 500); then the camera's ACTIVE_DEVICES, which
    indilib's CCD defines from the start too."""
    driver, _ = camera_driver(tmp_path, poll_seconds=0.5)
    async with DriverHarness(driver) as client:
        defs = await client.get_properties()
    assert [d.name for d in defs] == ["CONNECTION", "DRIVER_INFO", "POLLING_PERIOD", "DEBUG",
                                      "CONFIG_PROCESS", "ACTIVE_DEVICES"]
    polling, config = defs[2], defs[4]
    assert isinstance(polling, DefNumberVector) and isinstance(config, DefSwitchVector)
    assert (polling.label, polling.group, polling.perm, polling.state) == (
        "Polling", "Options", "rw", State.IDLE)
    member = polling.members[0]
    assert (member.name, member.label, member.format, member.min, member.max, member.step,
            float(member.value)) == ("PERIOD_MS", "Period (ms)", "%.f", "10", "600000", "1000",
                                     500.0)
    assert (config.label, config.group, config.perm, config.rule) == (
        "Configuration", "Options", "rw", "AtMostOne")
    assert [(m.name, m.label, m.value) for m in config.members] == [
        ("CONFIG_LOAD", "Load", SwitchState.OFF), ("CONFIG_SAVE", "Save", SwitchState.OFF),
        ("CONFIG_DEFAULT", "Default", SwitchState.OFF), ("CONFIG_PURGE", "Purge", SwitchState.OFF)]


def test_polling_period_only_for_roles_that_poll(tmp_path: Path) -> None:
    """indilib's FilterWheel (and a device with no role) has CONFIG_PROCESS but no
    POLLING_PERIOD; a focuser's and a mount's period is theirs (0.25 s -> 250 ms)."""

    class Wheel:
        async def select(self, slot: int) -> None:
            pass

    wheel = Device("W", roles=[FilterWheel(Wheel(), names=["R", "G"])], config_dir=tmp_path)
    assert "CONFIG_PROCESS" in wheel and "POLLING_PERIOD" not in wheel
    plain = Device("P", config_dir=tmp_path)
    assert "CONFIG_PROCESS" in plain and "POLLING_PERIOD" not in plain
    focuser = Device("F", roles=[Focuser(StillFocuser(), poll_interval=0.25)],  # type: ignore[arg-type]
                     config_dir=tmp_path)
    assert focuser["POLLING_PERIOD"].getfloatvalue("PERIOD_MS") == 250


async def test_save_writes_the_chosen_vectors_and_the_first_save_is_the_default(
        tmp_path: Path) -> None:
    """CONFIG_SAVE: "[INFO] Saving device configuration...", "[INFO] Device configuration
    saved.", CONFIG_PROCESS Ok; the file holds DEBUG, POLLING_PERIOD, DEBUG_LEVEL and the
    camera's settings (ACTIVE_DEVICES... not CCD_EXPOSURE, the cooler or CONNECTION), with their current
    values; its first version is copied to ``.default``, which a later save leaves alone."""
    driver, _ = camera_driver(tmp_path)
    path = tmp_path / f"{DEV}_config.xml"
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await connect(client)
        await number(client, DEV, "CCD_BINNING", HOR_BIN=2, VER_BIN=2)
        await client.expect(SetNumberVector, name="CCD_BINNING")
        answer, messages = await process(client, "CONFIG_SAVE", 2)
        assert answer.state == State.OK
        assert messages == ["[INFO] Saving device configuration...",
                            "[INFO] Device configuration saved."]
        first = path.read_bytes()
        assert list(saved_values(path)) == SAVED
        assert saved_values(path)["CCD_BINNING"] == {"HOR_BIN": "2", "VER_BIN": "2"}
        assert (tmp_path / f"{DEV}_config.xml.default").read_bytes() == first
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=3000)
        await client.expect(SetNumberVector, name="POLLING_PERIOD", state=State.OK)
        assert (await process(client, "CONFIG_SAVE", 2))[0].state == State.OK
    assert saved_values(path)["POLLING_PERIOD"] == {"PERIOD_MS": "3000"}
    assert (tmp_path / f"{DEV}_config.xml.default").read_bytes() == first


async def test_saved_period_is_taken_at_start_the_rest_on_config_load(tmp_path: Path) -> None:
    """A new driver on the saved file shows POLLING_PERIOD 3000 (Ok) before any connect and
    its camera polls at 3 s; UPLOAD_MODE and CCD_BINNING stay as they were on connect (indilib
    1.9.9 loads nothing more then) until CONFIG_LOAD, which applies them as a client's
    requests (the role answers each: UPLOAD_MODE Ok), between "Loading device
    configuration..." and "Device configuration applied."."""
    driver, _ = camera_driver(tmp_path)
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await connect(client)
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=3000)
        await switch(client, DEV, "UPLOAD_MODE", UPLOAD_LOCAL="On")
        await number(client, DEV, "CCD_BINNING", HOR_BIN=3, VER_BIN=3)
        await process(client, "CONFIG_SAVE", 2)
    driver, role = camera_driver(tmp_path)
    assert role.poll_seconds == 3.0
    async with DriverHarness(driver) as client:
        defs = {d.name: d for d in await client.get_properties()}
        assert float(defs["POLLING_PERIOD"].members[0].value) == 3000
        assert defs["POLLING_PERIOD"].state == State.OK
        await connect(client)
        assert role.upload_mode["UPLOAD_CLIENT"] == "On"
        assert role.binning.getfloatvalue("HOR_BIN") == 1
        client.pending()
        answer, messages = await process(client, "CONFIG_LOAD", 2)
        assert answer.state == State.OK
        assert messages == ["[INFO] Loading device configuration...",
                            "[INFO] Device configuration applied."]
    assert role.upload_mode["UPLOAD_LOCAL"] == "On"
    assert role.binning.getfloatvalue("HOR_BIN") == role.binning.getfloatvalue("VER_BIN") == 3


async def test_load_while_disconnected_skips_the_role_settings_and_says_so(
        tmp_path: Path) -> None:
    """CONFIG_LOAD before CONNECT: POLLING_PERIOD and ACTIVE_DEVICES (defined while
    disconnected) are applied, the camera's other settings (not defined while disconnected)
    are skipped with one warning naming them; still Ok."""
    driver, role = camera_driver(tmp_path)
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=2000)
        await client.send(NewTextVector(DEV, "ACTIVE_DEVICES", (Text("ACTIVE_TELESCOPE", "A"),)))
        await client.expect(SetTextVector, name="ACTIVE_DEVICES", state=State.OK)
        await process(client, "CONFIG_SAVE", 2)
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=1000)
        await client.expect(SetNumberVector, name="POLLING_PERIOD")
        await client.send(NewTextVector(DEV, "ACTIVE_DEVICES", (Text("ACTIVE_TELESCOPE", "B"),)))
        await client.expect(SetTextVector, name="ACTIVE_DEVICES", state=State.OK)
        answer, messages = await process(client, "CONFIG_LOAD", 3)
    assert answer.state == State.OK
    assert role.poll_seconds == 2.0
    assert role.active.name("ACTIVE_TELESCOPE") == "A"
    warning = next(m for m in messages if m.startswith("[WARNING]"))
    assert warning.startswith("[WARNING] 7 saved settings not applied (UPLOAD_MODE, ")


async def test_load_without_a_file_and_purge_default_as_indilib(tmp_path: Path) -> None:
    """No file: CONFIG_LOAD Alert with indilib's "No previous configuration found..." and
    CONFIG_PURGE Alert with "[WARNING] Unable to purge configuration file ..."; after a save,
    PURGE deletes the file (Ok, "Configuration file successfully purged.") but not the
    ``.default``, which CONFIG_DEFAULT then loads ("Default configuration loaded.", after the
    warning about the camera's settings, not defined while disconnected)."""
    driver, role = camera_driver(tmp_path)
    path = tmp_path / f"{DEV}_config.xml"
    async with DriverHarness(driver) as client:
        await client.get_properties()
        answer, messages = await process(client, "CONFIG_LOAD", 1)
        assert answer.state == State.ALERT
        assert messages == ["[INFO] No previous configuration found. To save driver "
                            "configuration, click Save Configuration in Options tab."]
        answer, messages = await process(client, "CONFIG_PURGE", 1)
        assert answer.state == State.ALERT and messages[0].startswith(
            f"[WARNING] Unable to purge configuration file {path}. Error ")
        answer, messages = await process(client, "CONFIG_DEFAULT", 1)
        assert answer.state == State.ALERT
        assert messages[0].startswith("[INFO] Error loading default configuration.")
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=4000)
        await process(client, "CONFIG_SAVE", 2)
        answer, messages = await process(client, "CONFIG_PURGE", 1)
        assert (answer.state, messages) == (State.OK,
                                            ["[INFO] Configuration file successfully purged."])
        assert not path.exists() and path.with_name(path.name + ".default").exists()
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=100)
        await client.expect(SetNumberVector, name="POLLING_PERIOD")
        answer, messages = await process(client, "CONFIG_DEFAULT", 4)
    assert answer.state == State.OK and messages[-1] == "[INFO] Default configuration loaded."
    assert role.poll_seconds == 4.0


async def test_entries_that_do_not_fit_are_skipped_and_the_rest_applied(tmp_path: Path) -> None:
    """A file with a binning above the camera's maximum, a property it lacks and CONNECTION:
    those are skipped (one warning names them, DEBUG lines say why), POLLING_PERIOD is
    applied, and the device is not connected by the file."""
    # The device's name written out (DEV): indilib's file as a user may have edited it, spaces
    # round a value included, which is text here rather than the serialiser's output.
    (tmp_path / f"{DEV}_config.xml").write_text(
        "<INDIDriver>\n"
        "<newSwitchVector device='Cam' name='CONNECTION'><oneSwitch name='CONNECT'>On"
        "</oneSwitch></newSwitchVector>\n"
        "<newNumberVector device='Cam' name='CCD_BINNING'><oneNumber name='HOR_BIN'>99"
        "</oneNumber></newNumberVector>\n"
        "<newTextVector device='Cam' name='LOG_OUTPUT'><oneText name='X'>y</oneText>"
        "</newTextVector>\n"
        "<newNumberVector device='Cam' name='POLLING_PERIOD'><oneNumber name='PERIOD_MS'>"
        " 1500 </oneNumber></newNumberVector>\n</INDIDriver>\n")
    driver, role = camera_driver(tmp_path)
    assert role.poll_seconds == 1.5
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=1000)
        await client.expect(SetNumberVector, name="POLLING_PERIOD")
        answer, messages = await process(client, "CONFIG_LOAD", 3)
        assert answer.state == State.OK
    assert role.poll_seconds == 1.5
    assert not driver.devices[DEV].is_connected
    warning = next(m for m in messages if m.startswith("[WARNING]"))
    assert warning == ("[WARNING] 3 saved settings not applied (CCD_BINNING, LOG_OUTPUT, "
                       "CONNECTION)")


class Notes(IPyDriver):
    """A driver whose device saves its own NOTE vector: rxevent records what it gets."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        note = TextVector("NOTE", "Note", "Main", "rw", "Idle", [TextMember("TEXT", "Text", "")])
        super().__init__(Device("Notes", [note], config_names=names, config_dir=folder))
        self.got: list[RxEvent] = []

    async def rxevent(self, event: RxEvent) -> None:
        self.got.append(event)
        if isinstance(event, newTextVector):
            event.vector["TEXT"] = event["TEXT"]
            await event.vector.send_setVector(state="Ok")


async def test_a_device_chooses_what_it_saves_and_its_own_vectors_load_through_rxevent(
        tmp_path: Path) -> None:
    """``config_names=["NOTE"]`` saves only NOTE; CONFIG_LOAD hands the saved NOTE to
    rxevent as a client's newTextVector would be. A name the device lacks, or CONNECTION,
    is refused when the device is made."""
    driver = Notes(tmp_path, ["NOTE"])
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await client.send(NewTextVector("Notes", "NOTE", (Text("TEXT", "hello"),)))
        await client.expect(name="NOTE")
        await switch(client, "Notes", "CONFIG_PROCESS", CONFIG_SAVE="On")
        await client.expect(SetSwitchVector, name="CONFIG_PROCESS", state=State.OK)
        assert saved_values(tmp_path / "Notes_config.xml") == {"NOTE": {"TEXT": "hello"}}
        driver.got.clear()
        await switch(client, "Notes", "CONFIG_PROCESS", CONFIG_LOAD="On")
        await client.expect(SetSwitchVector, name="CONFIG_PROCESS", state=State.OK)
    assert [(type(e).__name__, e["TEXT"]) for e in driver.got] == [("newTextVector", "hello")]
    for wrong in (["NOPE"], ["CONNECTION"]):
        with pytest.raises(ValueError, match="config_names"):
            Notes(tmp_path, wrong)


async def test_the_camera_polls_at_the_clients_polling_period(tmp_path: Path) -> None:
    """The cooler is read every POLLING_PERIOD: at 600000 ms the reads stop; set to 20 ms
    they resume at once (the new period starts the wait again) and come many a second."""
    cooler = Cooler()
    driver, role = camera_driver(tmp_path, cooler=cooler, poll_seconds=0.02)
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await connect(client)
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=600000)
        await client.expect(SetNumberVector, name="POLLING_PERIOD", state=State.OK)
        assert role.poll_seconds == 600.0
        # The reads stop: after the one the new period's wake-up makes, none for 0.3 s.
        before = await settled(lambda: cooler.reads, what="the cooler's reads at 600000 ms")
        await number(client, DEV, "POLLING_PERIOD", PERIOD_MS=20)
        await client.expect(SetNumberVector, name="POLLING_PERIOD", state=State.OK)
        # Resumed (the 600 s wait was cut short), at about 20 ms: five reads well within 5 s.
        await until(lambda: cooler.reads >= before + 5, timeout=5.0,
                    what=lambda: f"{cooler.reads - before} cooler reads after 20 ms was set")


class StillMount:
    """A mount that only counts its position reads."""

    def __init__(self) -> None:
        self.reads = 0

    async def position(self) -> tuple[float, float]:
        self.reads += 1
        return 1.0, 2.0

    def __getattr__(self, name: str) -> Any:
        async def nothing(*args: Any) -> None:
            pass
        return nothing


class StillFocuser(StillMount):
    async def position(self) -> int:  # type: ignore[override]
        return 0


async def test_the_mount_and_focuser_take_the_polling_period(tmp_path: Path) -> None:
    """POLLING_PERIOD sets the mount's poll_interval (its position reads stop at 600 s and
    resume at once at 20 ms) and, on a device with both, the focuser's poll_interval."""
    hardware = StillMount()
    mount = Mount(hardware, poll_interval=0.02)  # type: ignore[arg-type]
    focuser = Focuser(StillFocuser(), poll_interval=0.25)  # type: ignore[arg-type]
    driver = IPyDriver(Device("Scope", roles=[mount, focuser], config_dir=tmp_path))
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await connect(client, "Scope")
        await number(client, "Scope", "POLLING_PERIOD", PERIOD_MS=600000)
        await client.expect(SetNumberVector, name="POLLING_PERIOD", state=State.OK)
        # The reads stop: after the one the new period's wake-up makes, none for 0.3 s.
        before = await settled(lambda: hardware.reads, what="the mount's reads at 600000 ms")
        await number(client, "Scope", "POLLING_PERIOD", PERIOD_MS=20)
        await client.expect(SetNumberVector, name="POLLING_PERIOD", state=State.OK)
        await until(lambda: hardware.reads >= before + 5, timeout=5.0,
                    what=lambda: f"{hardware.reads - before} position reads after 20 ms was set")
    assert mount.poll_interval == focuser.polling_seconds == 0.02


def test_read_config_of_a_saved_file_round_trips(tmp_path: Path) -> None:
    """What CONFIG_SAVE wrote is read back whole by `read_config` against the same device:
    every saved vector, no problem."""
    role = Camera(Sensor(64, 48, 3.8), expose)
    device = Device(DEV, roles=[role], config_dir=tmp_path)
    assert device.standard is not None
    data = write_config(DEV, device.standard.saved)
    read = read_config(data, DEV, device)
    assert [e.name for e in read.entries] == SAVED and read.problems == []


class Station:
    """A weather station that reads nothing new."""

    async def read(self) -> dict[str, float]:
        return {}


class Wheel:
    async def select(self, slot: int) -> None:
        pass


def startup_role(kind: str) -> Any:
    """A fresh role of `kind`, with its default settings."""
    if kind == "camera":
        return Camera(Sensor(64, 48, 3.8), expose)
    if kind == "mount":
        return Mount(StillMount())  # type: ignore[arg-type]
    if kind == "focuser":
        return Focuser(StillFocuser())  # type: ignore[arg-type]
    if kind == "wheel":
        return FilterWheel(Wheel(), names=["R", "G", "B"])
    return Weather(Station(), [WeatherParameter("WEATHER_TEMPERATURE", "Temperature", -10, 30)])


#: Per role: indilib's start-up loads of what it has, and a saved change to each of them
#: (taken at start), then a saved change to other settings it saves (not taken at start).
Settings = dict[str, dict[str, Any]]
STARTUP: dict[str, tuple[list[str], Settings, Settings]] = {
    "camera": (["ACTIVE_DEVICES", "CCD_CAPTURE_FORMAT", "CCD_TRANSFER_FORMAT"],
               {"ACTIVE_DEVICES": {"ACTIVE_TELESCOPE": "Mount", "ACTIVE_FOCUSER": ""}},
               {"CCD_BINNING": {"HOR_BIN": 2, "VER_BIN": 2},
                "UPLOAD_MODE": {"UPLOAD_LOCAL": "On"}}),
    "mount": (["GEOGRAPHIC_COORD"],
              {"GEOGRAPHIC_COORD": {"LAT": 45, "LONG": 10, "ELEV": 100}},
              {"TELESCOPE_SLEW_RATE": {"1x": "On"}, "TELESCOPE_INFO": {"TELESCOPE_APERTURE": 77}}),
    "weather": (["GEOGRAPHIC_COORD"],
                {"GEOGRAPHIC_COORD": {"LAT": -33, "LONG": 151, "ELEV": 40}},
                {"WEATHER_UPDATE": {"PERIOD": 7}}),
    "wheel": (["FILTER_NAME"],
              {"FILTER_NAME": {"FILTER_SLOT_NAME_1": "Ha", "FILTER_SLOT_NAME_3": "OIII"}},
              {"FILTER_SLOT": {"FILTER_SLOT_VALUE": 2}}),
    "focuser": ([], {}, {"FOCUS_MAX": {"FOCUS_MAX_VALUE": 55000}}),
}


def values_of(vector: Any) -> dict[str, str]:
    return {member: str(vector[member]) for member in vector}


@pytest.mark.parametrize("kind", list(STARTUP))
def test_each_role_takes_indilibs_startup_settings_from_the_saved_file(
        tmp_path: Path, kind: str) -> None:
    """As indilib's base classes in initProperties (and the Telescope's ISGetProperties): a
    device made on a saved file takes, silently and before any connect, the camera's
    ACTIVE_DEVICES and capture/transfer formats, the mount's and the weather station's
    GEOGRAPHIC_COORD, the wheel's FILTER_NAME, nothing of the focuser's; the other saved
    settings (binning, upload mode, slew rate, scope info, update period, slot, focuser
    maximum) keep their defaults until CONFIG_LOAD. indi_simulator_telescope does just this
    with GEOGRAPHIC_COORD and TELESCOPE_SLEW_RATE."""
    names, taken, kept = STARTUP[kind]
    first = Device(DEV, roles=[startup_role(kind)], config_dir=tmp_path)
    assert first.standard is not None
    assert startup_names(first.standard.roles[0]) == names
    defaults = {name: values_of(first[name]) for name in [*taken, *kept]}
    for name, values in {**taken, **kept}.items():
        for member, value in values.items():
            first[name][member] = value
    changed = {name: values_of(first[name]) for name in [*taken, *kept]}
    assert all(changed[name] != defaults[name] for name in changed)
    (tmp_path / f"{DEV}_config.xml").write_bytes(write_config(DEV, first.standard.saved))
    assert set(taken) | set(kept) <= set(saved_values(tmp_path / f"{DEV}_config.xml"))

    again = Device(DEV, roles=[startup_role(kind)], config_dir=tmp_path)
    assert not again.is_connected
    for name in taken:
        assert values_of(again[name]) == changed[name], name
    for name in kept:
        assert values_of(again[name]) == defaults[name], name


def test_a_saved_oneofmany_switch_with_none_on_is_not_taken(tmp_path: Path) -> None:
    """A hand-edited file turning DEBUG's DISABLE Off and nothing On: DEBUG keeps DISABLE On
    (a OneOfMany vector keeps exactly one switch On)."""
    (tmp_path / "P_config.xml").write_text(
        "<INDIDriver><newSwitchVector device='P' name='DEBUG'><oneSwitch name='DISABLE'>Off"
        "</oneSwitch></newSwitchVector></INDIDriver>")
    device = Device("P", config_dir=tmp_path)
    assert (device["DEBUG"]["DISABLE"], device["DEBUG"]["ENABLE"]) == ("On", "Off")


async def test_active_devices_is_defined_before_connect_kept_after_disconnect_and_snooped_at_start(
        tmp_path: Path) -> None:
    """indilib's CCD: ACTIVE_DEVICES, as saved ("Mount"), is defined at the first
    getProperties while disconnected, and the saved telescope is snooped as soon as the
    driver is served; a client may rename it while disconnected (Ok, the new one snooped);
    CONNECT does not define it again and DISCONNECT does not delete it (the camera's other
    properties go). Served again, the driver repeats the snoops once each, not twice."""
    first, role = camera_driver(tmp_path)
    role.active.vector["ACTIVE_TELESCOPE"] = "Mount"
    standard = first.devices[DEV].standard
    assert standard is not None
    (tmp_path / f"{DEV}_config.xml").write_bytes(write_config(DEV, standard.saved))
    driver, role = camera_driver(tmp_path)
    async with DriverHarness(driver) as client:
        asked = {(await client.expect(GetProperties, device="Mount")).name for _ in range(5)}
        assert "EQUATORIAL_EOD_COORD" in asked
        defs = {d.name: d for d in await client.get_properties()}
        assert defs["ACTIVE_DEVICES"]["ACTIVE_TELESCOPE"].value == "Mount"
        assert "CCD_EXPOSURE" not in defs
        await client.send(NewTextVector(DEV, "ACTIVE_DEVICES",
                                        (Text("ACTIVE_TELESCOPE", "Scope2"),)))
        await client.expect(SetTextVector, name="ACTIVE_DEVICES", state=State.OK)
        await client.expect(GetProperties, device="Scope2", name="EQUATORIAL_EOD_COORD")
        await connect(client)
        await client.handled()
        defined = {e.name for e in client.pending() if type(e).__name__.startswith("Def")}
        assert "CCD_EXPOSURE" in defined and "ACTIVE_DEVICES" not in defined
        await switch(client, DEV, "CONNECTION", DISCONNECT="On")
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.IDLE)
        await client.handled()
        deleted = {e.name for e in client.pending() if isinstance(e, DelProperty)}
        assert "CCD_EXPOSURE" in deleted and "ACTIVE_DEVICES" not in deleted
        left = {d.name: d for d in await client.get_properties()}
        assert left["ACTIVE_DEVICES"]["ACTIVE_TELESCOPE"].value == "Scope2"
        assert "CCD_EXPOSURE" not in left
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await client.handled()
        repeated = [e for e in client.pending()
                    if isinstance(e, GetProperties) and e.device == "Scope2"
                    and e.name == "EQUATORIAL_EOD_COORD"]
    assert len(repeated) == 1
