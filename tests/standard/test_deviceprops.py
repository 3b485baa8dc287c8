"""The device-wide standard properties: CONNECTION, DRIVER_INFO, DEBUG, and a role's vectors
defined while connected and deleted on disconnect, as indilib's DefaultDevice does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from indipycore.interface import Interface
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import DefSwitchVector
from indipycore.protocol.events import DefTextVector
from indipycore.protocol.events import DelProperty
from indipycore.protocol.events import Message
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewSwitchVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import Switch
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import RxEvent
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.standard.role import Operation
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import RoleTasks
from indipydriver.testing import DriverHarness


class Dial:
    """A minimal role: one rw number (DIAL) that takes the client's value after `delay`."""

    interface = Interface.AUX

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.dial = NumberVector("DIAL", "Dial", "Main Control", "rw", "Idle",
                                 [NumberMember("VALUE", "Value", "%.1f", 0, 10, 1, 0)])
        self.tasks = RoleTasks()
        self.turn = Operation(self.dial, "Turning")
        self.events: list[str] = []
        self.device: RoleDevice | None = None

    def vectors(self) -> Sequence[NumberVector]:
        return [self.dial]

    def attach(self, device: RoleDevice) -> None:
        self.device = device
        self.tasks.attach(device)
        self.turn.logger = device.logger

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        value = event["VALUE"]

        async def work() -> None:
            await self.dial.send_setVector(state="Busy")
            await asyncio.sleep(self.delay)
            if float(value) == 7:
                raise ValueError("seven is unlucky")
            self.dial["VALUE"] = value
            await self.dial.send_setVector(state="Ok")

        self.turn.start(work())

    async def connected(self) -> None:
        self.events.append("connected")

    async def disconnected(self) -> None:
        self.events.append("disconnected")
        await self.turn.abort()
        await self.tasks.stop()


class Plain(IPyDriver):
    """Counts what reaches rxevent: a standard device's own vectors must not."""

    seen: list[str]

    async def rxevent(self, event: RxEvent) -> None:
        self.seen.append(event.vectorname or "")


def make(role: Dial | None = None, **kwargs: Any) -> tuple[Plain, Dial]:
    role = role or Dial()
    mine = NumberVector("MINE", "Mine", "Options", "rw", "Idle",
                        [NumberMember("M", "M", "%.1f", 0, 10, 1, 0)])
    driver = Plain(Device("Dev", [mine], roles=[role], driver_exec="dev.py", **kwargs))
    driver.seen = []
    return driver, role


async def both(client: DriverHarness, *kinds: tuple[type, dict[str, Any]]) -> list[Any]:
    """The first event matching each (kind, attrs), in whatever order the driver sent them
    (a log line goes out from its own task, so it may come before or after a vector)."""
    found: list[Any] = [None] * len(kinds)
    while any(f is None for f in found):
        event = await client.receive()
        for i, (kind, attrs) in enumerate(kinds):
            if found[i] is None and isinstance(event, kind) and all(
                    getattr(event, k) == v for k, v in attrs.items()):
                found[i] = event
                break
    return found


def connect(value: str = "On") -> NewSwitchVector:
    name = "CONNECT" if value == "On" else "DISCONNECT"
    return NewSwitchVector("Dev", "CONNECTION", (Switch(name, SwitchState.ON),))


async def test_a_standard_device_defines_connection_driver_info_debug_and_its_own_vectors() -> None:
    """Before connect: CONNECTION (Main Control), DRIVER_INFO (General Info, the roles' bits),
    DEBUG and CONFIG_PROCESS (Options) with indilib's labels, perms and rules, then the user's
    vectors; the role's vectors are not defined (nor POLLING_PERIOD: the role does not
    poll)."""
    driver, _ = make()
    async with DriverHarness(driver) as client:
        defs = await client.get_properties()
    assert [d.name for d in defs] == ["CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS",
                                      "MINE"]
    connection, info, debug = defs[:3]
    assert isinstance(connection, DefSwitchVector)
    assert (connection.label, connection.group, connection.perm, connection.rule,
            connection.timeout) == ("Connection", "Main Control", "rw", "OneOfMany", "60")
    assert [(m.name, m.label, m.value) for m in connection.members] == [
        ("CONNECT", "Connect", SwitchState.OFF), ("DISCONNECT", "Disconnect", SwitchState.ON)]
    assert isinstance(info, DefTextVector)
    assert (info.label, info.group, info.perm) == ("Driver Info", "General Info", "ro")
    assert {m.name: m.value for m in info.members} == {
        "DRIVER_NAME": "Dev", "DRIVER_EXEC": "dev.py", "DRIVER_VERSION": "1.0",
        "DRIVER_INTERFACE": str(int(Interface.AUX))}
    assert isinstance(debug, DefSwitchVector)
    assert (debug.label, debug.group, debug.rule) == ("Debug", "Options", "OneOfMany")


async def test_connect_defines_the_role_vectors_and_disconnect_deletes_them() -> None:
    """CONNECT: CONNECTION Ok with CONNECT On, then defNumberVector DIAL; the role is told.
    DISCONNECT: the role is told, CONNECTION Idle with DISCONNECT On, delProperty DIAL; a
    getProperties then no longer lists DIAL. rxevent sees none of this."""
    driver, role = make()
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await client.send(connect())
        ok = await client.expect(SetSwitchVector, name="CONNECTION")
        assert ok.state == State.OK and ok["CONNECT"].value == SwitchState.ON
        dial = await client.expect(DefNumberVector, name="DIAL")
        assert dial.device == "Dev"
        assert [d.name for d in await client.get_properties()][-1] == "DIAL"
        await client.send(connect("Off"))
        idle = await client.expect(SetSwitchVector, name="CONNECTION")
        assert idle.state == State.IDLE and idle["DISCONNECT"].value == SwitchState.ON
        gone = await client.expect(DelProperty)
        assert (gone.device, gone.name) == ("Dev", "DIAL")
        assert "DIAL" not in [d.name for d in await client.get_properties()]
    assert role.events == ["connected", "disconnected"]
    assert driver.seen == []


async def test_a_request_for_a_role_vector_while_disconnected_is_refused() -> None:
    """The role's vector does not exist for clients until connect: Alert is not even possible
    (no vector to answer with), and the role never sees the request."""
    driver, role = make()
    async with DriverHarness(driver) as client:
        await client.get_properties()
        await client.send(NewNumberVector("Dev", "DIAL", (Number("VALUE", "3"),)))
        await client.handled()  # the request was read and dropped
        assert not [e for e in client.pending()
                    if isinstance(e, SetNumberVector) and e.name == "DIAL"]
    assert role.dial.getfloatvalue("VALUE") == 0


async def test_role_requests_go_to_the_role_and_other_vectors_to_rxevent() -> None:
    """DIAL goes to the role (Busy then Ok with the value); MINE goes to rxevent."""
    driver, _ = make()
    async with DriverHarness(driver) as client:
        await client.send(connect())
        await client.expect(DefNumberVector, name="DIAL")
        await client.send(NewNumberVector("Dev", "DIAL", (Number("VALUE", "4"),)))
        busy = await client.expect(SetNumberVector, name="DIAL")
        assert busy.state == State.BUSY
        done = await client.expect(SetNumberVector, name="DIAL")
        assert done.state == State.OK and done["VALUE"].float == 4
        await client.send(NewNumberVector("Dev", "MINE", (Number("M", "1"),)))
        await client.get_properties()
    assert driver.seen == ["MINE"]


async def test_an_operation_that_fails_ends_in_alert_with_an_error_message() -> None:
    """Work that raises: the vector goes Alert with the reason, and the device's logger sends
    an [ERROR] message to clients."""
    driver, _ = make()
    async with DriverHarness(driver) as client:
        await client.send(connect())
        await client.expect(DefNumberVector, name="DIAL")
        await client.send(NewNumberVector("Dev", "DIAL", (Number("VALUE", "7"),)))
        error, alert = await both(client, (Message, {}),
                                  (SetNumberVector, {"name": "DIAL", "state": State.ALERT}))
        assert error.message.startswith("[ERROR] Turning failed: ValueError: seven is unlucky")
        assert "seven is unlucky" in alert.message


async def test_disconnect_aborts_a_running_operation() -> None:
    """A slow turn under way when the client disconnects is cancelled: no Ok ever comes."""
    driver, role = make(Dial(delay=30))
    async with DriverHarness(driver) as client:
        await client.send(connect())
        await client.expect(DefNumberVector, name="DIAL")
        await client.send(NewNumberVector("Dev", "DIAL", (Number("VALUE", "4"),)))
        await client.expect(SetNumberVector, name="DIAL", state=State.BUSY)
        assert role.turn.running
        await client.send(connect("Off"))
        await client.expect(DelProperty, name="DIAL")
        assert not role.turn.running
    assert role.dial.getfloatvalue("VALUE") == 0


async def test_a_failing_connect_hook_answers_alert_and_defines_nothing() -> None:
    """The user's connect hook raising: CONNECTION Busy, then Alert with DISCONNECT On, an
    [ERROR] message naming the failure, and no role vector defined."""
    async def refuse() -> None:
        raise OSError("no camera on the USB bus")

    driver, role = make(connect=refuse)
    async with DriverHarness(driver) as client:
        await client.send(connect())
        busy = await client.expect(SetSwitchVector, name="CONNECTION")
        assert busy.state == State.BUSY
        error, alert = await both(client, (Message, {}),
                                  (SetSwitchVector, {"name": "CONNECTION"}))
        assert error.message == "[ERROR] Connect failed: OSError: no camera on the USB bus"
        assert alert.state == State.ALERT and alert["DISCONNECT"].value == SwitchState.ON
        await client.handled()
        assert not [e for e in client.pending() if isinstance(e, DefNumberVector)]
    assert role.events == []
    assert not driver["Dev"].is_connected


async def test_connect_and_disconnect_hooks_run_in_order() -> None:
    """The hooks run: connect before the role is told, disconnect after it stopped."""
    role = Dial()
    order = role.events

    async def up() -> None:
        order.append("connect hook")

    async def down() -> None:
        order.append("disconnect hook")

    driver, _ = make(role, connect=up, disconnect=down)
    async with DriverHarness(driver) as client:
        await client.send(connect())
        await client.expect(DefNumberVector, name="DIAL")
        await client.send(connect("Off"))
        await client.expect(DelProperty, name="DIAL")
    assert order == ["connect hook", "connected", "disconnected", "disconnect hook"]


async def test_debug_defines_debug_level_which_chooses_the_messages() -> None:
    """As indilib's Logger: errors, warnings and [INFO] always reach clients; DEBUG=ENABLE
    defines DEBUG_LEVEL (Options, AnyOfMany; DBG_ERROR, DBG_WARNING, DBG_SESSION On,
    DBG_DEBUG Off), whose switches choose the tags sent; DBG_DEBUG On lets [DEBUG] lines
    through; DEBUG=DISABLE deletes DEBUG_LEVEL and stops them again."""
    driver, _ = make()
    device = driver["Dev"]
    on = SwitchState.ON
    async with DriverHarness(driver) as client:
        await client.get_properties()
        device.logger.debug("hidden")
        device.logger.info("shown %d", 1)
        assert (await client.expect(Message)).message == "[INFO] shown 1"
        await client.send(NewSwitchVector("Dev", "DEBUG", (Switch("ENABLE", on),)))
        ok = await client.expect(SetSwitchVector, name="DEBUG")
        assert ok.state == State.OK and ok["ENABLE"].value == on
        levels = await client.expect(DefSwitchVector, name="DEBUG_LEVEL")
        assert (levels.label, levels.group, levels.rule) == ("Debug Levels", "Options",
                                                             "AnyOfMany")
        assert [(m.name, m.label, m.value) for m in levels.members] == [
            ("DBG_ERROR", "Errors", on), ("DBG_WARNING", "Warnings", on),
            ("DBG_SESSION", "Messages", on), ("DBG_DEBUG", "Driver Debug", SwitchState.OFF)]
        device.logger.debug("not yet")
        device.logger.info("info")
        assert (await client.expect(Message)).message == "[INFO] info"
        await client.send(NewSwitchVector("Dev", "DEBUG_LEVEL", (
            Switch("DBG_DEBUG", on), Switch("DBG_SESSION", SwitchState.OFF))))
        await client.expect(SetSwitchVector, name="DEBUG_LEVEL", state=State.OK)
        device.logger.info("no session messages now")
        device.logger.debug("now visible")
        assert (await client.expect(Message)).message == "[DEBUG] now visible"
        await client.send(NewSwitchVector("Dev", "DEBUG", (Switch("DISABLE", on),)))
        await client.expect(SetSwitchVector, name="DEBUG")
        assert (await client.expect(DelProperty)).name == "DEBUG_LEVEL"
        device.logger.debug("hidden again")
        device.logger.warning("careful")
        assert (await client.expect(Message)).message == "[WARNING] careful"
        device.logger.info("back")
        assert (await client.expect(Message)).message == "[INFO] back"


def test_a_3x_device_gets_the_standard_properties_and_starts_connected() -> None:
    """Device(name, vectors) made the 3.x way gets CONNECTION, DRIVER_INFO (AUX), DEBUG and
    CONFIG_PROCESS first, its own vectors after; with no role and no hook it has nothing to connect, so it
    starts connected (CONNECT On, Ok) and its devicedata is untouched."""
    mine = NumberVector("MINE", "Mine", "Options", "rw", "Idle",
                        [NumberMember("M", "M", "%.1f", 0, 10, 1, 0)])
    device = Device("Old", [mine], port="/dev/ttyUSB0")
    assert list(device) == ["CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS", "DEBUG_LEVEL",
                            "MINE"]
    assert device.standard is not None
    assert device.devicedata == {"port": "/dev/ttyUSB0"}
    assert device.is_connected
    assert device["CONNECTION"]["CONNECT"] == "On" and device["CONNECTION"].state == "Ok"
    assert device["DRIVER_INFO"]["DRIVER_INTERFACE"] == str(int(Interface.AUX))


def test_standard_false_opts_out() -> None:
    """``standard=False`` makes a device exactly as 3.x did: its own vectors only."""
    mine = NumberVector("MINE", "Mine", "Options", "rw", "Idle",
                        [NumberMember("M", "M", "%.1f", 0, 10, 1, 0)])
    device = Device("Old", [mine], standard=False)
    assert list(device) == ["MINE"] and device.standard is None and device.is_connected
    with pytest.raises(ValueError, match="roles need a standard device"):
        Device("Old", roles=[Dial()], standard=False)


def test_a_device_with_its_own_connection_keeps_it() -> None:
    """A 3.x driver that defines CONNECTION (or DRIVER_INFO, or DEBUG) keeps its own: the
    framework adds the others, none twice, and a device with its own CONNECTION cannot
    have roles (they need the framework's)."""
    own = SwitchVector("CONNECTION", "Mine", "Main Control", "rw", "OneOfMany", "Idle",
                       [SwitchMember("CONNECT", "C", "Off"), SwitchMember("DISCONNECT", "D", "On")])
    info = TextVector("DRIVER_INFO", "Mine", "General Info", "ro", "Idle",
                      [TextMember("DRIVER_NAME", "Name", "mine")])
    device = Device("Old", [own, info])
    assert list(device) == ["DEBUG", "CONFIG_PROCESS", "DEBUG_LEVEL", "CONNECTION", "DRIVER_INFO"]
    assert device["CONNECTION"] is own and device["DRIVER_INFO"] is info
    assert device.is_connected
    with pytest.raises(ValueError, match="own"):
        Device("Old", [SwitchVector("CONNECTION", "Mine", "g", "rw", "OneOfMany", "Idle",
                                    [SwitchMember("CONNECT", "C", "Off")])], roles=[Dial()])


async def test_rxevent_gets_requests_for_a_devices_own_connection() -> None:
    """The framework does not answer CONNECTION for a device that defines its own: the
    driver's rxevent receives the request, as in 3.x."""
    seen: list[str] = []

    class Old(IPyDriver):
        async def rxevent(self, event: RxEvent) -> None:
            seen.append(str(event.vectorname))
            await event.vector.send_setVector(state="Ok")

    own = SwitchVector("CONNECTION", "Mine", "Main Control", "rw", "OneOfMany", "Idle",
                       [SwitchMember("CONNECT", "C", "Off"), SwitchMember("DISCONNECT", "D", "On")])
    async with DriverHarness(Old(Device("Old", [own]))) as client:
        await client.get_properties()
        await client.send(NewSwitchVector("Old", "CONNECTION", (Switch("CONNECT", SwitchState.ON),)))
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
    assert seen == ["CONNECTION"]


async def test_a_disconnect_of_a_live_device_only_flips_the_switch() -> None:
    """A device with no role and no hook: DISCONNECT sets CONNECTION Idle, but its vectors
    stay defined and its own requests keep reaching rxevent; CONNECT turns it back to Ok."""
    seen: list[str] = []

    class Old(IPyDriver):
        async def rxevent(self, event: RxEvent) -> None:
            seen.append(str(event.vectorname))
            await event.vector.send_setVector(state="Ok")

    mine = NumberVector("MINE", "Mine", "Options", "rw", "Idle",
                        [NumberMember("M", "M", "%.1f", 0, 10, 1, 0)])
    async with DriverHarness(Old(Device("Old", [mine]))) as client:
        defined = await client.get_properties()
        assert "MINE" in {event.name for event in defined}
        off = NewSwitchVector("Old", "CONNECTION", (Switch("DISCONNECT", SwitchState.ON),))
        await client.send(off)
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.IDLE)
        await client.send(NewNumberVector("Old", "MINE", (Number("M", "3"),)))
        await client.expect(SetNumberVector, name="MINE", state=State.OK)
        on = NewSwitchVector("Old", "CONNECTION", (Switch("CONNECT", SwitchState.ON),))
        await client.send(on)
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
    assert seen == ["MINE"]


def test_two_roles_defining_one_vector_name_is_an_error() -> None:
    """Two roles may not define the same vector: the device refuses to be made."""
    with pytest.raises(ValueError, match="two definitions of vector 'DIAL'"):
        Device("Dev", roles=[Dial(), Dial()])


def test_interface_is_the_or_of_the_roles_unless_given() -> None:
    """DRIVER_INTERFACE: the roles' bits ORed, or the interface given (as decimal text), or
    AUX for a standard device with neither."""

    class Cam(Dial):
        interface = Interface.CCD

        def __init__(self) -> None:
            super().__init__()
            self.dial.name = "CAMDIAL"

    device = Device("Dev", roles=[Dial(), Cam()])
    assert device["DRIVER_INFO"]["DRIVER_INTERFACE"] == str(int(Interface.CCD | Interface.AUX))

    device = Device("Dev", roles=[Cam()])
    assert device.standard is not None
    assert device.standard.interface is Interface.CCD
    assert Device("T", interface=Interface.WEATHER)["DRIVER_INFO"]["DRIVER_INTERFACE"] == "128"
    # No role and no interface: AUX, not GENERAL (0, which Ekos offers in no module).
    assert Device("U", standard=True)["DRIVER_INFO"]["DRIVER_INTERFACE"] == "32768"


async def test_log_records_from_another_thread_arrive() -> None:
    """The handler may be called from a worker thread (a blocking camera SDK): the line is
    handed to the driver's loop and sent."""
    driver, _ = make()
    device = driver["Dev"]
    async with DriverHarness(driver) as client:
        await client.get_properties()
        device.logger.info("from the loop")
        assert (await client.expect(Message)).message == "[INFO] from the loop"
        await asyncio.to_thread(device.logger.warning, "from a thread")
        assert (await client.expect(Message)).message == "[WARNING] from a thread"


def test_logger_records_also_reach_the_program_handlers(caplog: pytest.LogCaptureFixture) -> None:
    """The device's logger passes records on to the program's logging (the console)."""
    caplog.set_level(logging.INFO)
    device = Device("Dev", interface=Interface.AUX)
    device.logger.info("for the console too")
    assert "for the console too" in caplog.text
