"""The mount role: its properties as indilib defines them, and the goto, sync, abort, park,
tracking and motion sequences clients (Ekos) follow, against a hardware double the test
drives (a goto ends when the test says the mount arrived)."""

from __future__ import annotations

import asyncio

import pytest
from rolekit import connected
from rolekit import definitions
from rolekit import number
from rolekit import switch
from waiting import until

from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import DefNumberVector
from indipycore.protocol.events import DefSwitchVector
from indipycore.protocol.events import DefTextVector
from indipycore.protocol.events import DelProperty
from indipycore.protocol.events import Message
from indipycore.protocol.events import SetNumberVector
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import SetTextVector
from indipydriver.standard.mount import Mount
from indipydriver.standard.mount import MountLimits
from indipydriver.standard.mount import MountStatus
from indipydriver.testing import DriverHarness

DEV = "Scope"


class FakeMount:
    """`MountHardware` whose goto and park wait until the test calls `arrive()`."""

    def __init__(self) -> None:
        self.ra, self.dec = 3.0, 20.0
        self.calls: list[tuple[object, ...]] = []
        self.arrived = asyncio.Event()
        self.fail_goto: Exception | None = None

    def arrive(self, ra: float, dec: float) -> None:
        self.ra, self.dec = ra, dec
        self.arrived.set()

    async def goto(self, ra: float, dec: float) -> None:
        self.calls.append(("goto", ra, dec))
        if self.fail_goto is not None:
            raise self.fail_goto
        self.arrived.clear()
        await self.arrived.wait()

    async def position(self) -> tuple[float, float]:
        return self.ra, self.dec

    async def abort(self) -> None:
        self.calls.append(("abort",))

    async def sync(self, ra: float, dec: float) -> None:
        self.calls.append(("sync", ra, dec))
        self.ra, self.dec = ra, dec

    async def park(self, hour_angle: float, dec: float) -> None:
        self.calls.append(("park", hour_angle, dec))
        self.arrived.clear()
        await self.arrived.wait()

    async def unpark(self) -> None:
        self.calls.append(("unpark",))

    async def set_tracking(self, on: bool) -> None:
        self.calls.append(("tracking", on))

    async def move(self, north_south: int, west_east: int, rate: float) -> None:
        self.calls.append(("move", north_south, west_east, rate))


def make_mount(**kwargs: object) -> tuple[FakeMount, Mount]:
    hardware = FakeMount()
    # No horizon check unless a test asks: the fake's targets are anywhere in the sky.
    kwargs.setdefault("limits", MountLimits(min_altitude=None))
    return hardware, Mount(hardware, poll_interval=0.05, **kwargs)  # type: ignore[arg-type]


async def goto(client: DriverHarness, ra: float, dec: float, state: State) -> SetNumberVector:
    """Send EQUATORIAL_EOD_COORD's RA and DEC (a goto, or a sync after ON_COORD_SET SYNC):
    the mount's answer, which must be in ``state``."""
    await number(client, DEV, "EQUATORIAL_EOD_COORD", RA=ra, DEC=dec)
    answer: SetNumberVector = await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD",
                                                  state=state)
    return answer


async def test_properties_follow_indilib_and_come_with_connect() -> None:
    """DRIVER_INFO says TELESCOPE (1) before connect; on connect the mount's vectors are
    defined with indilib 1.9.9's labels, groups, perms, rules and formats."""
    _, mount = make_mount()
    async with connected(DEV, mount) as client:
        defs = await definitions(client, len(mount.vectors()))
    coord = defs["EQUATORIAL_EOD_COORD"]
    assert isinstance(coord, DefNumberVector)
    assert (coord.label, coord.group, coord.perm.value) == ("Eq. Coordinates", "Main Control", "rw")
    assert [(m.name, m.label, m.format, m.min, m.max) for m in coord.members] == [
        ("RA", "RA (hh:mm:ss)", "%010.6m", "0", "24"),
        ("DEC", "DEC (dd:mm:ss)", "%010.6m", "-90", "90")]
    on_set = defs["ON_COORD_SET"]
    assert isinstance(on_set, DefSwitchVector)
    assert on_set.rule.value == "OneOfMany"
    assert [m.name for m in on_set.members] == ["TRACK", "SLEW", "SYNC"]
    abort = defs["TELESCOPE_ABORT_MOTION"]
    assert (abort.label, abort.rule.value) == ("Abort Motion", "AtMostOne")
    park = defs["TELESCOPE_PARK"]
    assert [(m.name, m.label) for m in park.members] == [("PARK", "Park(ed)"),
                                                         ("UNPARK", "UnPark(ed)")]
    assert defs["TELESCOPE_SLEW_RATE"].group == "Motion Control"
    assert [m.name for m in defs["TELESCOPE_SLEW_RATE"].members] == ["1x", "2x", "3x", "4x"]
    assert defs["TARGET_EOD_COORD"].perm.value == "ro"
    assert defs["GEOGRAPHIC_COORD"].group == "Site Management"
    assert [m.format for m in defs["GEOGRAPHIC_COORD"].members] == ["%012.8m", "%012.8m", "%g"]
    assert isinstance(defs["TIME_UTC"], DefTextVector)
    assert defs["TELESCOPE_PIER_SIDE"].perm.value == "ro"
    assert mount.interface == 1


async def test_goto_is_busy_while_moving_then_ok_and_tracking() -> None:
    """A goto (ON_COORD_SET TRACK) sets TARGET_EOD_COORD, sends the coordinates Busy as they
    change, then Ok at the target with tracking on (TELESCOPE_TRACK_STATE Busy, TRACK_ON)."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await number(client, DEV, "EQUATORIAL_EOD_COORD", RA="10:30:00", DEC=45)
        target = await client.expect(SetNumberVector, name="TARGET_EOD_COORD")
        assert target["RA"].float == 10.5 and target["DEC"].float == 45.0
        await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.BUSY)
        hardware.ra, hardware.dec = 6.0, 30.0  # on its way
        moving = await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD",
                                     state=State.BUSY)
        while moving["RA"].float != 6.0:
            moving = await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD",
                                         state=State.BUSY)
        assert mount.status is MountStatus.SLEWING
        hardware.arrive(10.5, 45.0)
        tracking = await client.expect(SetSwitchVector, name="TELESCOPE_TRACK_STATE")
        assert tracking.state == State.BUSY and tracking["TRACK_ON"].value == SwitchState.ON
        done = await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.OK)
        assert (done["RA"].float, done["DEC"].float) == (10.5, 45.0)
    assert ("goto", 10.5, 45.0) in hardware.calls and ("tracking", True) in hardware.calls
    assert mount.status is MountStatus.TRACKING


async def test_slew_without_track_ends_idle() -> None:
    """ON_COORD_SET SLEW: the mount goes there and does not start tracking (Idle)."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await switch(client, DEV, "ON_COORD_SET", SLEW="On")
        await client.expect(SetSwitchVector, name="ON_COORD_SET", state=State.OK)
        await goto(client, 1, 2, State.BUSY)
        hardware.arrive(1.0, 2.0)
        await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.IDLE)
    assert ("tracking", True) not in hardware.calls


async def test_goto_below_the_horizon_is_refused_with_a_message() -> None:
    """From 51.5 N a target at DEC -80 never rises: Alert, a message saying why, no motion."""
    hardware, mount = make_mount(latitude=51.5, limits=MountLimits(min_altitude=0.0))
    async with connected(DEV, mount) as client:
        refused = await goto(client, 3, -80, State.ALERT)
        assert "below the limit of 0 degrees" in (refused.message or "")
        assert refused["DEC"].float == 20.0  # still where it was
    assert not [c for c in hardware.calls if c[0] == "goto"]


async def test_dec_limits_refuse_a_goto() -> None:
    """A Dec outside the mount's own limits is refused, naming the limits."""
    _, mount = make_mount(limits=MountLimits(min_altitude=None, min_dec=-30, max_dec=85))
    async with connected(DEV, mount) as client:
        refused = await goto(client, 3, 88, State.ALERT)
        assert "outside the mount's limits -30..85" in (refused.message or "")


async def test_abort_stops_a_slew() -> None:
    """TELESCOPE_ABORT_MOTION during a goto: the goto is cancelled, the hardware's abort
    called, ABORT answered Ok and Off, and the coordinates leave Busy (Idle, not tracking)."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await goto(client, 12, 0, State.BUSY)
        await switch(client, DEV, "TELESCOPE_ABORT_MOTION", ABORT="On")
        answer = await client.expect(SetSwitchVector, name="TELESCOPE_ABORT_MOTION")
        assert answer.state == State.OK and answer["ABORT"].value == SwitchState.OFF
        stopped = await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD")
        assert stopped.state == State.IDLE
    assert ("abort",) in hardware.calls and mount.status is MountStatus.IDLE


async def test_sync_sets_coordinates_without_moving() -> None:
    """ON_COORD_SET SYNC then coordinates: the hardware is synced, the coordinates are the
    given ones at once with Ok, and no goto happens."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await switch(client, DEV, "ON_COORD_SET", SYNC="On")
        synced = await goto(client, 7.25, -12.5, State.OK)
        assert (synced["RA"].float, synced["DEC"].float) == (7.25, -12.5)
    assert ("sync", 7.25, -12.5) in hardware.calls
    assert not [c for c in hardware.calls if c[0] == "goto"]


async def test_park_refuses_gotos_until_unparked() -> None:
    """PARK: Busy while slewing to the park position (tracking stopped), Ok when parked;
    a goto meanwhile and after is refused with Alert; UNPARK lets gotos through again."""
    hardware, mount = make_mount(park_position=(1.0, 80.0))
    async with connected(DEV, mount) as client:
        await switch(client, DEV, "TELESCOPE_PARK", PARK="On")
        busy = await client.expect(SetSwitchVector, name="TELESCOPE_PARK")
        assert busy.state == State.BUSY and busy["PARK"].value == SwitchState.ON
        refused = await goto(client, 3, 10, State.ALERT)
        assert "parking" in (refused.message or "")
        hardware.arrive(5.0, 80.0)
        parked = await client.expect(SetSwitchVector, name="TELESCOPE_PARK", state=State.OK)
        assert parked["PARK"].value == SwitchState.ON
        assert mount.status is MountStatus.PARKED
        refused = await goto(client, 3, 10, State.ALERT)
        assert "parked: unpark it first" in (refused.message or "")
        await switch(client, DEV, "TELESCOPE_PARK", UNPARK="On")
        unparked = await client.expect(SetSwitchVector, name="TELESCOPE_PARK", state=State.OK)
        assert unparked["UNPARK"].value == SwitchState.ON
        await goto(client, 3, 10, State.BUSY)
    assert ("park", 1.0, 80.0) in hardware.calls and ("unpark",) in hardware.calls


async def test_tracking_switch_and_manual_motion() -> None:
    """TRACK_ON -> TELESCOPE_TRACK_STATE Busy and the coordinates Ok; TRACK_OFF -> Idle.
    MOTION_NORTH On moves at the chosen slew rate (Busy), Off stops (Idle)."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await switch(client, DEV, "TELESCOPE_TRACK_STATE", TRACK_ON="On")
        on = await client.expect(SetSwitchVector, name="TELESCOPE_TRACK_STATE")
        assert on.state == State.BUSY
        await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.OK)
        await switch(client, DEV, "TELESCOPE_TRACK_STATE", TRACK_OFF="On")
        off = await client.expect(SetSwitchVector, name="TELESCOPE_TRACK_STATE")
        assert off.state == State.IDLE
        await client.expect(SetNumberVector, name="EQUATORIAL_EOD_COORD", state=State.IDLE)
        await switch(client, DEV, "TELESCOPE_SLEW_RATE", **{"4x": "On"})
        await client.expect(SetSwitchVector, name="TELESCOPE_SLEW_RATE", state=State.OK)
        await switch(client, DEV, "TELESCOPE_MOTION_NS", MOTION_NORTH="On")
        await client.expect(SetSwitchVector, name="TELESCOPE_MOTION_NS", state=State.BUSY)
        await switch(client, DEV, "TELESCOPE_MOTION_NS", MOTION_NORTH="Off")
        await client.expect(SetSwitchVector, name="TELESCOPE_MOTION_NS", state=State.IDLE)
    assert ("tracking", True) in hardware.calls and ("tracking", False) in hardware.calls
    assert ("move", 1, 0, 3.0) in hardware.calls and ("move", 0, 0, 3.0) in hardware.calls


async def test_a_failing_goto_is_an_alert_with_the_error() -> None:
    """An error raised by the user's goto reaches the client as Alert with its text."""
    hardware, mount = make_mount()
    hardware.fail_goto = RuntimeError("motor stalled")
    async with connected(DEV, mount) as client:
        failed = await goto(client, 3, 10, State.ALERT)
        assert "motor stalled" in (failed.message or "")
    assert mount.status is MountStatus.IDLE


async def test_time_and_site_are_kept() -> None:
    """TIME_UTC and GEOGRAPHIC_COORD from a client are kept and answered Ok; a UTC that is
    not a time is refused with Alert."""
    _, mount = make_mount()
    async with connected(DEV, mount) as client:
        await client.send('<newTextVector device="Scope" name="TIME_UTC">'
                          '<oneText name="UTC">2026-01-02T03:04:05</oneText>'
                          '<oneText name="OFFSET">1</oneText></newTextVector>')
        ok = await client.expect(SetTextVector, name="TIME_UTC")
        assert ok.state == State.OK and ok["UTC"].value == "2026-01-02T03:04:05"
        assert ok["OFFSET"].value == "1.00"
        await client.send('<newTextVector device="Scope" name="TIME_UTC">'
                          '<oneText name="UTC">yesterday</oneText></newTextVector>')
        bad = await client.expect(SetTextVector, name="TIME_UTC")
        assert bad.state == State.ALERT and "not understood" in (bad.message or "")
        await number(client, DEV, "GEOGRAPHIC_COORD", LAT=-33.9, LONG=18.4, ELEV=10)
        site = await client.expect(SetNumberVector, name="GEOGRAPHIC_COORD", state=State.OK)
        assert site["LAT"].float == pytest.approx(-33.9)
    assert mount.site.getfloatvalue("LONG") == pytest.approx(18.4)


async def test_a_failing_position_read_is_reported_once_and_polling_goes_on() -> None:
    """position() raising: one [ERROR] message naming the error however many polls fail (five
    here), then, once it works again, an [INFO] line and the coordinates flow again."""
    hardware, mount = make_mount()
    failures = 0
    real = hardware.position
    recovered = asyncio.Event()

    async def position() -> tuple[float, float]:
        nonlocal failures
        if not recovered.is_set():
            failures += 1
            raise OSError("serial port gone")
        return await real()

    hardware.position = position  # type: ignore[method-assign]
    async with connected(DEV, mount) as client:
        await until(lambda: failures >= 5, what="five failed polls")
        recovered.set()
        errors: list[str] = []
        seen: set[str] = set()
        # Both come, in either order (messages go out through the log handler's task).
        while seen != {"message", "coordinates"}:
            event = await client.receive()
            if isinstance(event, Message) and "[ERROR]" in (event.message or ""):
                errors.append(event.message or "")
            elif isinstance(event, Message) and "works again" in (event.message or ""):
                seen.add("message")
            elif isinstance(event, SetNumberVector) and event.name == "EQUATORIAL_EOD_COORD":
                assert (event["RA"].float, event["DEC"].float) == (3.0, 20.0)
                seen.add("coordinates")
    assert len(errors) == 1 and "OSError: serial port gone" in errors[0]


async def test_disconnect_during_a_slew_stops_it_and_deletes_the_properties() -> None:
    """DISCONNECT while slewing: the goto is cancelled, the hardware's abort called, and the
    mount's properties deleted (as indilib does); the role is idle afterwards."""
    hardware, mount = make_mount()
    async with connected(DEV, mount) as client:
        await goto(client, 12, 0, State.BUSY)
        await switch(client, DEV, "CONNECTION", DISCONNECT="On")
        gone = await client.expect(DelProperty, name="EQUATORIAL_EOD_COORD")
        assert gone.device == DEV
    assert ("abort",) in hardware.calls and mount.status is MountStatus.IDLE
