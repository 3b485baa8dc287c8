"""Every public name of indipydriver 3.1.2 and indipyserver 0.0.6 exists here and behaves as
it did there (issue 27): one row per name, so the 3.x surface cannot shrink again.

Each row names what 3.x scripts use and checks it does what 3.1.2's did (read from its
released package): values as strings, the mapping methods, the plain-call snoop, the stop
flags, the server's 0.0.6 attributes. What deliberately differs is in docs/migrating.rst.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from waiting import until

import indipydriver as ipd
from indipycore.protocol import events as pe
from indipydriver.testing import DriverHarness
from indipyserver import IPyServer

# -------------------------------------------------------------------- a small 3.x-style driver


class Recording(ipd.IPyDriver):
    """Keeps what rxevent and snoopevent get; answers a getProperties event as 3.x drivers do."""

    def __init__(self, *devices: ipd.Device, **data: Any) -> None:
        super().__init__(*devices, **data)
        self.events: list[Any] = []

    async def rxevent(self, event: Any) -> None:
        self.events.append(event)
        if isinstance(event, ipd.getProperties):
            await event.vector.send_defVector()

    async def snoopevent(self, event: Any) -> None:
        self.events.append(event)


async def events_of(driver: ipd.IPyDriver, count: int) -> list[Any]:
    assert isinstance(driver, Recording)
    await until(lambda: len(driver.events) >= count, 5, f"{count} events")
    return driver.events


def make() -> ipd.IPyDriver:
    number = ipd.NumberVector("N", "Numbers", "G", "rw", "Ok", [
        ipd.NumberMember("a", format="%3.1f", min=-50, max=99, step=1, membervalue=15),
        ipd.NumberMember("b", format="%9.6m", min="0", max="24", membervalue="12:30:00")])
    switch = ipd.SwitchVector("S", "Switches", "G", "wo", "OneOfMany", "Ok", [
        ipd.SwitchMember("x", membervalue="On"), ipd.SwitchMember("y")])
    light = ipd.LightVector("L", "Lights", "G", "Idle", [ipd.LightMember("l")])
    text = ipd.TextVector("T", "Texts", "G", "ro", "Ok", [ipd.TextMember("t", membervalue="hi")])
    blob = ipd.BLOBVector("B", "BLOBs", "G", "ro", "Ok", [ipd.BLOBMember("f")])
    return Recording(ipd.Device("D", [number, switch, light, text, blob]), extra=1)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _served(body: Callable[[ipd.IPyDriver, DriverHarness], Any]) -> Any:
    driver = make()
    async with DriverHarness(driver) as client:
        return await body(driver, client)


def served(body: Callable[[ipd.IPyDriver, DriverHarness], Any]) -> Any:
    return run(_served(body))


# -------------------------------------------------------------------- checks used in the table


def _module_names() -> None:
    for name in ("IPyDriver", "Device", "getfloat", "SwitchVector", "LightVector", "TextVector",
                 "BLOBVector", "NumberVector", "SwitchMember", "LightMember", "TextMember",
                 "BLOBMember", "NumberMember", "getProperties", "newSwitchVector",
                 "newTextVector", "newNumberVector", "newBLOBVector", "Message", "delProperty",
                 "defSwitchVector", "defTextVector", "defNumberVector", "defLightVector",
                 "defBLOBVector", "setSwitchVector", "setTextVector", "setNumberVector",
                 "setLightVector", "setBLOBVector"):
        assert name in ipd.__all__ and getattr(ipd, name) is not None, name


def _submodule(path: str, *names: str) -> Callable[[], None]:
    def check() -> None:
        module = importlib.import_module(path)
        for name in names:
            assert getattr(module, name) is getattr(
                importlib.import_module(path.split(".")[0]), name, getattr(module, name)), name
    return check


def _member_values_are_str() -> None:
    vector = make()["D"]
    got = [vector["N"]["a"], vector["N"]["b"], vector["S"]["x"], vector["L"]["l"],
           vector["T"]["t"], vector["N"].perm, vector["N"].state, vector["S"].rule]
    assert got == ["15", "12:30:00", "On", "Idle", "hi", "rw", "Ok", "OneOfMany"]
    assert all(type(v) is str for v in got)
    assert json.dumps(got) and f"{got[2]}" == "On" and got[0].startswith("1")


def _number_limits_as_written() -> None:
    member = make()["D"]["N"].data["a"]
    assert (member.min, member.max, member.step, member.format) == ("-50", "99", "1", "%3.1f")
    assert 'min="-50" max="99" step="1">15</defNumber>' in member._def()


def _set_vector_sends_number_as_given() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        vector = driver["D"]["N"]
        vector["a"] = 16
        await vector.send_setVector()
        got = await client.expect(pe.SetNumberVector)
        assert got["a"].value == "16" and got["b"].value == "12:30:00"
    served(body)


def _timeout_attribute() -> None:
    vector = make()["D"]["N"]
    vector.timeout = 8
    assert vector.timeout == "8" and ' timeout="8"' in vector._def_bytes("", None).decode()


def _message_attribute() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        vector = driver["D"]["N"]
        vector.message = "hello"
        await vector.send_setVector()
        assert (await client.expect(pe.SetNumberVector)).message == "hello"
    served(body)


def _changed_attribute() -> None:
    vector = make()["D"]["N"]
    assert vector.changed
    vector.changed = False
    vector["a"] = 3
    assert vector.changed and vector.data["a"].changed and not vector.data["b"].changed


def _checkvalue() -> None:
    vector = make()["D"]["S"]
    assert vector.checkvalue("On", ["On", "Off"]) == "On"
    assert vector.data["x"].checkvalue("Off", ["On", "Off"]) == "Off"
    with pytest.raises(ValueError):
        vector.checkvalue("Maybe", ["On", "Off"])


def _userdict_methods() -> None:
    vector = make()["D"]["N"]
    vector.update({"a": 1, "b": 2})
    assert dict(vector.items()) == {"a": "1", "b": "2"} == vector.copy()
    assert list(vector.keys()) == ["a", "b"] and vector.get("z", "none") == "none"
    assert vector.pop("b") == "2" and list(vector) == ["a"]
    assert isinstance(vector.data["a"], ipd.NumberMember)


def _vectortype() -> None:
    assert make()["D"]["N"].vectortype == "NumberVector"


def _vector_device_and_driver() -> None:
    driver = make()
    vector = driver["D"]["N"]
    assert vector.devicename == "D" and vector.device is driver["D"] and vector.driver is driver


def _getfloatvalue_on_vector() -> None:
    vector = make()["D"]["N"]
    assert vector.getfloatvalue("b") == 12.5 and vector.getformattedvalue("b") == " 12:30:00"


def _switch_wo_kept() -> None:
    vector = make()["D"]["S"]
    assert vector.perm == "wo" and 'perm="rw"' in vector._def_bytes("", None).decode()


def _blob_format_from_suffix(tmp_path: Path) -> None:
    image = tmp_path / "frame.fits.z"
    image.write_bytes(b"\x00" * 10)

    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        vector = driver["D"]["B"]
        vector["f"] = str(image)
        await vector.send_setVectorMembers(members=["f"])
        got = await client.expect(pe.SetBLOBVector)
        assert got["f"].format == ".fits.z" and got["f"].size == 10
    served(body)


def _send_set_vector_members_empty() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        await driver["D"]["N"].send_setVectorMembers(state="Busy", members=[])
        got = await client.expect(pe.SetNumberVector)
        assert len(got.members) == 0 and got.state == "Busy"
    served(body)


def _driver_mapping_and_data() -> None:
    driver = make()
    assert list(driver) == ["D"] and list(driver.keys()) == ["D"]
    assert driver.driverdata == {"extra": 1} and driver.devices() == [driver["D"]]
    assert [d.devicename for d in driver.values()] == ["D"]


def _indi_number_to_float() -> None:
    assert ipd.IPyDriver.indi_number_to_float("-1:30") == -1.5
    assert ipd.Device.indi_number_to_float("15") == 15.0
    with pytest.raises(TypeError):
        ipd.IPyDriver.indi_number_to_float("abc")
    with pytest.raises(TypeError):
        ipd.getfloat("1:2:3:4")


def _stop_flags() -> None:
    driver = make()
    device = driver["D"]
    assert driver.stop is False and driver._stop is False and device.stop is False
    driver.shutdown()
    assert driver.stop is True and driver._stop is True and device.stop is True
    assert driver.shutdownrequested.is_set()
    other = make()["D"]
    other.shutdown()
    assert other.stop


def _stopped_event() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        assert not driver.stopped.is_set()
        driver.shutdown()
        await asyncio.wait_for(driver.stopped.wait(), 5)
    served(body)


def _send_xml() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        element = ET.Element("message", device="D", message="raw")
        await driver.send(element)
        assert (await client.expect(pe.Message)).message == "raw"
    served(body)


def _snoop_plain_call() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        assert driver.snoop("Other", "V", timeout=10) is None
        request = await client.expect(pe.GetProperties)
        assert (request.device, request.name) == ("Other", "V")
        assert driver.snoopvectors[("Other", "V")][0] == 10
        await driver.send_getProperties("Mount")
        await driver.send_getProperties()
        assert driver.snoopdevices == {"Mount"} and driver.snoopall
    served(body)


def _snoop_before_serving() -> None:
    driver = make()
    driver.snoop("Other", "V")
    assert not driver.snoopall and driver.snoopdevices == set()
    assert ("Other", "V") in driver.snoopvectors

    async def body(_: ipd.IPyDriver, client: DriverHarness) -> None:
        assert (await client.expect(pe.GetProperties)).device == "Other"

    async def go() -> None:
        async with DriverHarness(driver) as client:
            await body(driver, client)
    run(go())


def _add_background() -> None:
    ran: list[str] = []

    async def work(what: str) -> None:
        ran.append(what)

    driver = make()
    driver.add_background(work("driver"))
    driver["D"].add_background(work("device"))

    async def go() -> None:
        async with DriverHarness(driver):
            await until(lambda: len(ran) == 2, 5, "both background tasks")
    run(go())
    assert sorted(ran) == ["device", "driver"]
    with pytest.raises(TypeError):
        driver["D"].add_background(work)  # type: ignore[arg-type]


def _device_properties() -> None:
    device = make()["D"]
    assert [v.name for v in device.properties()] == [
        "CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS", "DEBUG_LEVEL", "N", "S", "L", "T",
        "B"]
    assert device.devicedata == {} and device.enable


def _device_hooks_take_args() -> None:
    device = make()["D"]
    run(device.devrxevent(None, 1, k=2))  # type: ignore[arg-type]
    run(device.devsnoopevent(None, 1, k=2))  # type: ignore[arg-type]
    run(device.devhardware(1, k=2))


def _send_messages() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        await driver.send_message("site")
        await driver["D"].send_device_message("dev")
        got = [await client.expect(pe.Message), await client.expect(pe.Message)]
        assert [(m.device, m.message) for m in got] == [(None, "site"), ("D", "dev")]
    served(body)


def _new_number_event() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        await client.send(pe.NewNumberVector("D", "N", (pe.Number("a", " 20 "),
                                                        pe.Number("b", "1:30"))))
        event = (await events_of(driver, 1))[0]
        assert isinstance(event, ipd.newNumberVector)
        assert dict(event) == {"a": "20", "b": "1:30"}
        assert event.getfloatvalue("b") == 1.5 and event.getformattedvalue("b") == "  1:30:00"
        assert (event.devicename, event.vectorname, event.vector) == ("D", "N", driver["D"]["N"])
        assert event.root is not None and event.timestamp is not None
    served(body)


def _new_switch_event() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        await client.send(pe.NewSwitchVector("D", "S", (pe.Switch("y", "On"),)))
        events = await events_of(driver, 1)
        assert dict(events[0]) == {"y": "On"} and type(events[0]["y"]) is str
    served(body)


def _get_properties_event() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        driver.auto_send_def = False
        defs = await client.get_properties()
        assert [e.name for e in defs] == ["CONNECTION", "DRIVER_INFO", "DEBUG",
                                          "CONFIG_PROCESS", "N", "S", "L", "T", "B"]
        events = await events_of(driver, 9)
        assert all(isinstance(e, ipd.getProperties) for e in events)
    served(body)


def _snooped_events() -> None:
    async def body(driver: ipd.IPyDriver, client: DriverHarness) -> None:
        await driver.send_getProperties("M")
        await client.expect(pe.GetProperties)
        await client.send(pe.DefNumberVector("M", "C", "Ok", "rw", (
            pe.Number("ra", "1:30", None, "%g", "0", "24", "0"),), timeout="5"))
        await client.send(pe.SetNumberVector("M", "C", (pe.Number("ra", "2.5"),), state="Busy"))
        await client.send(pe.DefSwitchVector("M", "W", "Idle", "rw", "OneOfMany",
                                             (pe.Switch("on", "On"),)))
        define, update, switch = await events_of(driver, 3)
        assert isinstance(define, ipd.defNumberVector) and define["ra"] == "1:30"
        assert define.getfloatvalue("ra") == 1.5 and define.perm == "rw"
        assert define.timeout == "5" and define.memberlabels["ra"][1:] == ("%g", "0", "24", "0")
        assert isinstance(update, ipd.setNumberVector) and update.getfloatvalue("ra") == 2.5
        assert update.state == "Busy" and type(update.state) is str
        assert switch.rule == "OneOfMany" and switch["on"] == "On" and type(switch["on"]) is str
    served(body)


def _server_attributes() -> None:
    driver = make()
    server = IPyServer(driver, port=0)
    server.add_exdriver("indi_simulator_dome", debug_enable=True)
    server.add_remote("localhost", 7624, blob_enable=False, debug_enable=True)
    assert server.drivers == [driver] and len(server.exdrivers) == 1 and len(server.remotes) == 1
    assert server.devices == {"D": driver["D"]}
    assert server.exdrivers[0].debug_enable and server.remotes[0].debug_enable  # type: ignore[attr-defined]
    assert server.stop is False and not server.stopped.is_set()
    assert server.maxconnections == 100 and (server.host, server.port) == ("localhost", 0)


def _server_run_and_shutdown() -> None:
    async def go() -> None:
        server = IPyServer(make(), port=0, handle_signals=False)
        task = asyncio.create_task(server.asyncrun())
        await server.started()
        assert await server.send_message("hello") is None
        server.shutdown(shutdownmessage="")
        await asyncio.wait_for(server.stopped.wait(), 10)
        assert server.stop
        await task
    run(go())


def _server_shutdown_message_logged(caplog: pytest.LogCaptureFixture) -> None:
    IPyServer(port=0).shutdown(shutdownmessage="bye now")
    assert "bye now" in caplog.text


# name -> check; a check taking `tmp_path` or `caplog` gets the fixture.
ROWS: dict[str, Callable[..., None]] = {
    # modules
    "indipydriver.version": lambda: isinstance(ipd.version, str) or pytest.fail("no version"),
    "indipyserver.version": lambda: isinstance(importlib.import_module("indipyserver").version,
                                               str) or pytest.fail("no version"),
    "indipydriver.__all__ (3.1.2's names)": _module_names,
    "indipydriver.ipydriver": _submodule("indipydriver.ipydriver", "IPyDriver", "Device"),
    "indipydriver.events": _submodule(
        "indipydriver.events", "getProperties", "newSwitchVector", "newTextVector",
        "newNumberVector", "newBLOBVector", "Message", "delProperty", "defSwitchVector",
        "defTextVector", "defNumberVector", "defLightVector", "defBLOBVector",
        "setSwitchVector", "setTextVector", "setNumberVector", "setLightVector",
        "setBLOBVector"),
    "indipydriver.propertyvectors": _submodule(
        "indipydriver.propertyvectors", "SwitchVector", "LightVector", "TextVector",
        "BLOBVector", "NumberVector", "PropertyVector"),
    "indipydriver.propertymembers": _submodule(
        "indipydriver.propertymembers", "SwitchMember", "LightMember", "TextMember",
        "BLOBMember", "NumberMember", "PropertyMember", "getfloat"),
    "indipyserver.ipyserver": _submodule("indipyserver.ipyserver", "IPyServer"),
    "getfloat / indi_number_to_float (TypeError on bad input)": _indi_number_to_float,
    # members and vectors
    "member.membervalue, vector.state/perm/rule: str": _member_values_are_str,
    "NumberMember min/max/step/format as written": _number_limits_as_written,
    "NumberMember value sent as given": _set_vector_sends_number_as_given,
    "PropertyMember.checkvalue / PropertyVector.checkvalue": _checkvalue,
    "PropertyVector.timeout (assignable, any type)": _timeout_attribute,
    "PropertyVector.message (assignable)": _message_attribute,
    "PropertyVector.changed": _changed_attribute,
    "PropertyVector.vectortype": _vectortype,
    "PropertyVector.devicename/device/driver": _vector_device_and_driver,
    "PropertyVector UserDict methods (update, copy, pop, keys, items, get, data)":
        _userdict_methods,
    "NumberVector.getfloatvalue/getformattedvalue": _getfloatvalue_on_vector,
    "SwitchVector perm 'wo' kept as declared": _switch_wo_kept,
    "BLOBMember format from the file suffix": _blob_format_from_suffix,
    "send_setVectorMembers(members=[])": _send_set_vector_members_empty,
    # driver and device
    "IPyDriver mapping, driverdata, devices()": _driver_mapping_and_data,
    "IPyDriver.stop/_stop, Device.stop/shutdown, shutdownrequested": _stop_flags,
    "IPyDriver.stopped": _stopped_event,
    "IPyDriver.send(xmldata)": _send_xml,
    "IPyDriver.snoop (plain call), snoopall/snoopdevices/snoopvectors": _snoop_plain_call,
    "IPyDriver.snoop before serving": _snoop_before_serving,
    "IPyDriver.add_background / Device.add_background": _add_background,
    "IPyDriver.send_message / Device.send_device_message": _send_messages,
    "Device.properties/devicedata/enable": _device_properties,
    "Device.devrxevent/devhardware/devsnoopevent(*args, **kwargs)": _device_hooks_take_args,
    # events
    "newNumberVector: text values, getfloatvalue/getformattedvalue, root": _new_number_event,
    "newSwitchVector: 'On'/'Off' str": _new_switch_event,
    "getProperties event per vector (auto_send_def=False)": _get_properties_event,
    "def/setNumberVector snooped: text, getfloatvalue, perm/rule/state/timeout":
        _snooped_events,
    # server
    "IPyDriver debug_enable/auto_send_def, Device.devicename":
        lambda: (make().debug_enable is False and make().auto_send_def is True
                 and make()["D"].devicename == "D") or pytest.fail("attributes"),
    "IPyServer drivers/devices/exdrivers/remotes/stop/stopped, debug_enable, maxconnections":
        _server_attributes,
    "IPyServer awaitable send_message, shutdown(shutdownmessage), stopped":
        _server_run_and_shutdown,
    "IPyServer.shutdown(shutdownmessage) logged": _server_shutdown_message_logged,
}


@pytest.mark.parametrize("name", list(ROWS))
def test_3x_name_exists_and_behaves_as_in_3_1_2(
        name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    check = ROWS[name]
    wants = check.__code__.co_varnames[:check.__code__.co_argcount]
    kwargs = {"tmp_path": tmp_path, "caplog": caplog}
    check(**{arg: kwargs[arg] for arg in wants})
