"""The dome and rotator roles: their properties as indilib's own dome and rotator simulators
define them (compared with the running executables), and the sequences clients follow,
against hardware doubles the test drives."""

from __future__ import annotations

import asyncio
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from peers import IndiServer
from peers import connect as connect_request
from peers import hello
from rolekit import connected
from rolekit import number
from rolekit import switch
from test_focuser_wheel_weather import FakeFocuser

from indipycore.protocol.enums import State
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import DefSwitchVector
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipydriver.standard import Dome
from indipydriver.standard import Rotator

#: What a definition is made of, member values and states aside.
Shape = tuple[Any, ...]


def shape(element: ET.Element) -> Shape:
    """A def*Vector's name, label, group, perm, rule, timeout and its members' names,
    labels, formats and ranges."""
    members = tuple((m.get("name"), m.get("label"), m.get("format"), m.get("min"),
                     m.get("max"), m.get("step")) for m in element)
    return (element.get("label"), element.get("group"), element.get("perm"),
            element.get("rule"), element.get("timeout"), members)


def indilib_defs(port: int, wanted: set[tuple[str, str]],
                 timeout: float = 30.0) -> dict[tuple[str, str], ET.Element]:
    """Connect the devices of `wanted` (device, vector) on indilib's server, each once it has
    defined CONNECTION (indiserver drops a request for a device no driver has named yet), and
    gather the definitions it sends until those vectors are in (a device defines its role's
    vectors once connected), or `timeout` ends."""
    devices = {device for device, _ in wanted}
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(hello())
        data, defs, asked = b"", {}, set()
        end = time.monotonic() + timeout
        while time.monotonic() < end and not wanted <= set(defs):
            sock.settimeout(max(0.1, end - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            data += chunk
            try:
                root = ET.fromstring(b"<all>" + data + b"</all>")
            except ET.ParseError:
                continue  # an element cut in the middle: read on
            defs = {(e.get("device") or "", e.get("name") or ""): e for e in root
                    if e.tag.startswith("def") and e.tag.endswith("Vector")}
            for device in devices - asked:
                if (device, "CONNECTION") in defs:
                    sock.sendall(connect_request(device))
                    asked.add(device)
    return defs


async def our_defs(device: str, role: Any) -> dict[str, ET.Element]:
    """The definitions our role's device sends once connected, as XML elements."""
    async with connected(device, role) as client:
        defs: dict[str, ET.Element] = {}
        while len(defs) < len(role.vectors()):
            frame = await client.receive_frame()
            if frame.tag.startswith("def"):
                element = ET.fromstring(frame.data)
                defs[element.get("name") or ""] = element
    return defs


class FakeDome(FakeFocuser):
    """`DomeHardware`: the focuser double's moves (a move waits until the test calls
    `arrive()`; `steps` is the azimuth), the rest at once."""

    def __init__(self) -> None:
        super().__init__()
        self.steps = 10.0
        self.slaving_fails = False

    async def move(self, direction: int) -> None:
        self.calls.append(("move", direction))

    async def shutter(self, open: bool) -> None:
        self.calls.append(("shutter", open))

    async def park(self, azimuth: float | None) -> None:
        self.calls.append(("park", azimuth))
        self.steps = azimuth if azimuth is not None else self.steps

    async def unpark(self) -> None:
        self.calls.append(("unpark",))

    async def set_park(self, azimuth: float) -> None:
        self.calls.append(("set_park", azimuth))

    async def set_slaved(self, on: bool) -> None:
        if self.slaving_fails:
            raise RuntimeError("no mount to follow")
        self.calls.append(("slaved", on))


class FakeRotator(FakeDome):
    """`RotatorHardware`: the dome double's moves, with sync and reverse."""

    async def sync(self, angle: float) -> None:
        self.calls.append(("sync", angle))
        self.steps = angle

    async def set_reverse(self, on: bool) -> None:
        self.calls.append(("reverse", on))


async def follow_move(client: Any, vector: str, member: str, hardware: FakeDome, *,
                      via: float, target: float) -> None:
    """A move under way: Busy, Busy again with the angle the poll read on the way (`via`),
    then Ok at `target` once the hardware arrived."""
    await client.expect(SetNumberVector, name=vector, state=State.BUSY)
    hardware.steps = via
    moving = await client.expect(SetNumberVector, name=vector, state=State.BUSY)
    assert moving[member].float == via
    hardware.arrive()
    done = await client.expect(SetNumberVector, name=vector, state=State.OK)
    assert done[member].float == target


def test_definitions_are_those_of_indilibs_dome_and_rotator_simulators(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """Every vector the roles define has the name, label, group, perm, rule, timeout and the
    members (names, labels, formats, ranges) indi_simulator_dome and indi_simulator_rotator
    define once connected; DOME_PARK_OPTION's members are the first of indilib's (the role
    writes no park data file, so no PARK_WRITE_DATA)."""
    server = indiserver_factory("indi_simulator_dome", "indi_simulator_rotator")
    dome = Dome(FakeDome(), can_slave=True, park_azimuth=90.0)
    rotator = Rotator(FakeRotator())
    roles = (("Dome Simulator", dome), ("Rotator Simulator", rotator))
    theirs = indilib_defs(server.port, {(device, vector.name) for device, role in roles
                                        for vector in role.vectors()} |
                          {("Dome Simulator", "DRIVER_INFO")})
    for device, role in roles:
        ours = asyncio.run(our_defs(device, role))
        assert list(ours) == [vector.name for vector in role.vectors()]
        for name, element in ours.items():
            assert (device, name) in theirs, (device, name, sorted(theirs))
            mine, indilibs = shape(element), shape(theirs[device, name])
            if name == "DOME_PARK_OPTION":
                assert mine[:5] == indilibs[:5] and mine[5] == indilibs[5][:len(mine[5])]
            else:
                assert mine == indilibs, (name, mine, indilibs)
    assert theirs["Dome Simulator", "DRIVER_INFO"].find("*[@name='DRIVER_INTERFACE']") \
        is not None
    assert (dome.interface, rotator.interface) == (32, 4096)


async def test_dome_slew_shutter_park_and_abort() -> None:
    """A slew: DOME_MOTION Busy with the direction, ABS_DOME_POSITION Busy with the azimuth as
    polled, both Ok at the target. The shutter Busy then Ok. Park Busy then Ok at
    DOME_PARK_POSITION; while parked a slew and free motion are refused with Alert; unpark Ok.
    Abort: DOME_ABORT_MOTION Ok, the slew's vectors Idle, the hardware stopped."""
    hardware = FakeDome()
    dome = Dome(hardware, park_azimuth=90.0, poll_interval=0.02)
    async with connected("Dome", dome) as client:
        await number(client, "Dome", "ABS_DOME_POSITION", DOME_ABSOLUTE_POSITION=120)
        motion = await client.expect(SetSwitchVector, name="DOME_MOTION", state=State.BUSY)
        assert motion["DOME_CW"].value == "On"
        await follow_move(client, "ABS_DOME_POSITION", "DOME_ABSOLUTE_POSITION", hardware,
                          via=60.0, target=120.0)

        await switch(client, "Dome", "DOME_SHUTTER", SHUTTER_OPEN="On")
        opening = await client.expect(SetSwitchVector, name="DOME_SHUTTER", state=State.BUSY)
        assert opening["SHUTTER_OPEN"].value == "On"
        await client.expect(SetSwitchVector, name="DOME_SHUTTER", state=State.OK)
        assert ("shutter", True) in hardware.calls

        await switch(client, "Dome", "DOME_PARK", PARK="On")
        await client.expect(SetSwitchVector, name="DOME_PARK", state=State.BUSY)
        parked = await client.expect(SetSwitchVector, name="DOME_PARK", state=State.OK)
        assert parked["PARK"].value == "On" and ("park", 90.0) in hardware.calls
        await number(client, "Dome", "ABS_DOME_POSITION", DOME_ABSOLUTE_POSITION=200)
        refused = await client.expect(SetNumberVector, name="ABS_DOME_POSITION",
                                      state=State.ALERT)
        assert "unpark" in refused.message
        await switch(client, "Dome", "DOME_MOTION", DOME_CW="On")
        await client.expect(SetSwitchVector, name="DOME_MOTION", state=State.ALERT)
        assert ("move", 1) not in hardware.calls
        await switch(client, "Dome", "DOME_PARK", UNPARK="On")
        unparked = await client.expect(SetSwitchVector, name="DOME_PARK", state=State.OK)
        assert unparked["UNPARK"].value == "On" and ("unpark",) in hardware.calls

        await number(client, "Dome", "ABS_DOME_POSITION", DOME_ABSOLUTE_POSITION=300)
        await client.expect(SetNumberVector, name="ABS_DOME_POSITION", state=State.BUSY)
        await switch(client, "Dome", "DOME_ABORT_MOTION", ABORT="On")
        await client.expect(SetSwitchVector, name="DOME_ABORT_MOTION", state=State.OK)
        await client.expect(SetSwitchVector, name="DOME_MOTION", state=State.IDLE)
        stopped = await client.expect(SetNumberVector, name="ABS_DOME_POSITION",
                                      state=State.IDLE)
        assert stopped["DOME_ABSOLUTE_POSITION"].float == 90.0
        assert hardware.calls[-1] == ("abort",)


async def test_dome_park_option_and_slaving() -> None:
    """PARK_CURRENT makes the azimuth now the park position (hardware told, PARK_AZ shows
    it); a slaving the hardware refuses is Alert with its reason, one it takes is Ok."""
    hardware = FakeDome()
    dome = Dome(hardware, park_azimuth=90.0, can_slave=True, poll_interval=0.02)
    async with connected("Dome", dome) as client:
        await switch(client, "Dome", "DOME_PARK_OPTION", PARK_CURRENT="On")
        position = await client.expect(SetNumberVector, name="DOME_PARK_POSITION",
                                       state=State.OK)
        assert position["PARK_AZ"].float == 10.0 and ("set_park", 10.0) in hardware.calls
        await client.expect(SetSwitchVector, name="DOME_PARK_OPTION", state=State.OK)
        hardware.slaving_fails = True
        await switch(client, "Dome", "DOME_AUTOSYNC", DOME_AUTOSYNC_ENABLE="On")
        refused = await client.expect(SetSwitchVector, name="DOME_AUTOSYNC", state=State.ALERT)
        assert "no mount to follow" in refused.message
        hardware.slaving_fails = False
        await switch(client, "Dome", "DOME_AUTOSYNC", DOME_AUTOSYNC_ENABLE="On")
        slaved = await client.expect(SetSwitchVector, name="DOME_AUTOSYNC", state=State.OK)
        assert slaved["DOME_AUTOSYNC_ENABLE"].value == "On"
        assert ("slaved", True) in hardware.calls


async def test_rotator_move_sync_reverse_and_abort() -> None:
    """A move: ABS_ROTATOR_ANGLE Busy, the angle as polled, then Ok at the target; the angle it is at already: Ok
    at once, nothing moves; outside 0..360: Alert. Sync: SYNC_ROTATOR_ANGLE Ok and the angle
    shown is the synced one. ROTATOR_REVERSE Ok once the hardware took it. Abort:
    ROTATOR_ABORT_MOTION Ok, the angle Ok where the rotator stopped (as indilib)."""
    hardware = FakeRotator()
    rotator = Rotator(hardware, poll_interval=0.02)
    async with connected("Rotator", rotator) as client:
        await number(client, "Rotator", "ABS_ROTATOR_ANGLE", ANGLE=45)
        await follow_move(client, "ABS_ROTATOR_ANGLE", "ANGLE", hardware, via=20.0, target=45.0)
        moves = len(hardware.calls)
        await number(client, "Rotator", "ABS_ROTATOR_ANGLE", ANGLE=45)
        await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE", state=State.OK)
        assert len(hardware.calls) == moves
        await number(client, "Rotator", "ABS_ROTATOR_ANGLE", ANGLE=400)
        await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE", state=State.ALERT)

        await number(client, "Rotator", "SYNC_ROTATOR_ANGLE", ANGLE=100)
        await client.expect(SetNumberVector, name="SYNC_ROTATOR_ANGLE", state=State.OK)
        synced = await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE")
        assert synced["ANGLE"].float == 100.0 and ("sync", 100.0) in hardware.calls

        await switch(client, "Rotator", "ROTATOR_REVERSE", INDI_ENABLED="On")
        reverse = await client.expect(SetSwitchVector, name="ROTATOR_REVERSE", state=State.OK)
        assert reverse["INDI_ENABLED"].value == "On" and ("reverse", True) in hardware.calls

        await number(client, "Rotator", "ABS_ROTATOR_ANGLE", ANGLE=200)
        await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE", state=State.BUSY)
        hardware.steps = 150.0
        await switch(client, "Rotator", "ROTATOR_ABORT_MOTION", ABORT="On")
        await client.expect(SetSwitchVector, name="ROTATOR_ABORT_MOTION", state=State.OK)
        stopped = await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE",
                                      state=State.OK)
        assert stopped["ANGLE"].float == 150.0 and hardware.calls[-1] == ("abort",)


async def test_polling_period_sets_how_often_the_angle_is_read() -> None:
    """The rotator's device has POLLING_PERIOD (the role polls); a client's new period takes
    effect at once: with 100 s at first, an angle the hardware reports is shown soon after
    the period is made 20 ms."""
    hardware = FakeRotator()
    rotator = Rotator(hardware, poll_interval=100.0)
    async with connected("Rotator", rotator) as client:
        first = await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE")
        assert first["ANGLE"].float == 10.0  # read once connected
        hardware.steps = 123.0
        await number(client, "Rotator", "POLLING_PERIOD", PERIOD_MS=20)
        shown = await client.expect(SetNumberVector, name="ABS_ROTATOR_ANGLE", timeout=5)
        assert shown["ANGLE"].float == 123.0 and rotator.polling_seconds == 0.02


class FailingShutter(FakeDome):
    """A dome whose shutter is jammed open (it never closes, until aborted) and whose park
    never ends (until aborted)."""

    async def shutter(self, open: bool) -> None:
        if open:
            raise RuntimeError("the shutter is jammed")
        await asyncio.Event().wait()

    async def park(self, azimuth: float | None) -> None:
        self.calls.append(("park", azimuth))
        await asyncio.Event().wait()


async def test_dome_failure_is_an_alert_and_an_aborted_park_is_not_parked() -> None:
    """A shutter the hardware fails to move: DOME_SHUTTER Alert with the hardware's reason;
    one aborted on its way: Alert, where it is not known. A park aborted on its way:
    DOME_PARK Alert with UNPARK On, and a slew is allowed after."""
    hardware = FailingShutter()
    dome = Dome(hardware, poll_interval=0.02)
    async with connected("Dome", dome) as client:
        await switch(client, "Dome", "DOME_SHUTTER", SHUTTER_OPEN="On")
        failed = await client.expect(SetSwitchVector, name="DOME_SHUTTER", state=State.ALERT)
        assert "the shutter is jammed" in failed.message
        await switch(client, "Dome", "DOME_SHUTTER", SHUTTER_CLOSE="On")
        await client.expect(SetSwitchVector, name="DOME_SHUTTER", state=State.BUSY)
        await switch(client, "Dome", "DOME_ABORT_MOTION", ABORT="On")
        stopped = await client.expect(SetSwitchVector, name="DOME_SHUTTER", state=State.ALERT)
        assert "aborted" in stopped.message
        await switch(client, "Dome", "DOME_PARK", PARK="On")
        await client.expect(SetSwitchVector, name="DOME_PARK", state=State.BUSY)
        await switch(client, "Dome", "DOME_ABORT_MOTION", ABORT="On")
        aborted = await client.expect(SetSwitchVector, name="DOME_PARK", state=State.ALERT)
        assert aborted["UNPARK"].value == "On" and not dome.parked
        await number(client, "Dome", "ABS_DOME_POSITION", DOME_ABSOLUTE_POSITION=45)
        await client.expect(SetNumberVector, name="ABS_DOME_POSITION", state=State.BUSY)


async def test_disconnect_during_a_slew_stops_it_and_nothing_stays_busy() -> None:
    """Disconnecting while the dome slews stops the hardware; connected again, the dome's
    vectors are defined Idle, not Busy (nothing moves any more)."""
    hardware = FakeDome()
    dome = Dome(hardware, poll_interval=0.02)
    async with connected("Dome", dome) as client:
        await number(client, "Dome", "ABS_DOME_POSITION", DOME_ABSOLUTE_POSITION=200)
        await client.expect(SetNumberVector, name="ABS_DOME_POSITION", state=State.BUSY)
        await switch(client, "Dome", "CONNECTION", DISCONNECT="On")
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.IDLE)
        assert hardware.calls[-1] == ("abort",)
        await switch(client, "Dome", "CONNECTION", CONNECT="On")
        motion = await client.expect(DefSwitchVector, name="DOME_MOTION")
        again = await client.expect(DefNumberVector, name="ABS_DOME_POSITION")
        assert again.state == State.IDLE and motion.state != State.BUSY
        assert motion["DOME_CW"].value == "Off"
