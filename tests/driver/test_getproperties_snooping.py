"""getProperties is answered automatically; snooped traffic reaches snoopevent; snoops repeat."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from driverkit import DEV
from driverkit import RecordingDriver
from driverkit import SlowDriver
from driverkit import make_device
from driverkit import make_driver
from waiting import until

from indipycore.protocol import events as pe
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipydriver import Message
from indipydriver import defNumberVector
from indipydriver import delProperty
from indipydriver import getProperties
from indipydriver import setNumberVector
from indipydriver.snooping import Snoop
from indipydriver.testing import DriverHarness


async def test_getproperties_for_all_devices_one_device_and_one_vector() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        everything = await client.get_properties()
        # Every vector defined (DEBUG_LEVEL only while DEBUG is enabled), in the device's order.
        defined = [name for name, vector in driver[DEV].items() if vector.enable]
        assert [e.name for e in everything] == defined and defined[0] == "CONNECTION"
        assert isinstance(everything[4], pe.DefNumberVector)
        assert [e.name for e in await client.get_properties(device=DEV)] == defined
        one = await client.get_properties(device=DEV, name="TXT")
        assert [(type(e), e.name) for e in one] == [(pe.DefTextVector, "TXT")]
        assert await client.get_properties(device="Someone else") == []


async def test_definitions_carry_the_vector_attributes() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        defs = {e.name: e for e in await client.get_properties()}
    number = defs["NUM"]
    assert (number.label, number.group, number.perm, number.state) == (
        "Numbers", "G", Perm.RW, State.IDLE)
    # min/max as the driver wrote them (3.x)
    assert (number["A"].format, number["A"].min, number["A"].max) == ("%.2f", "-10", "10")
    assert defs["ONE"].rule == "OneOfMany"
    assert defs["BLOB"]["IMG"].data == b""


async def test_with_auto_send_def_false_rxevent_gets_getproperties_instead() -> None:
    driver = make_driver()
    driver.auto_send_def = False
    async with DriverHarness(driver) as client:
        assert await client.get_properties(device=DEV, name="NUM") == []
    assert len(driver.events) == 1 and isinstance(driver.events[0], getProperties)
    assert driver.events[0].vector is driver[DEV]["NUM"]


async def test_snooped_def_set_message_and_delproperty_reach_snoopevent() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount", "COORD")
        request = await client.expect(pe.GetProperties)
        assert (request.device, request.name, request.version) == ("Mount", "COORD", "1.7")
        await client.send(pe.DefNumberVector("Mount", "COORD", State.OK, Perm.RO,
                                             (pe.Number("RA", "12:30", None, "%9.6m", "0", "24",
                                                        "0"),)))
        await client.send(pe.SetNumberVector("Mount", "COORD", (pe.Number("RA", "13.5"),)))
        await client.send(pe.Message("Mount", message="slewing"))
        await client.send(pe.DelProperty("Mount", "COORD"))
        await until(lambda: len(driver.snooped) == 4, what="four snooped events")
    kinds = [type(e) for e in driver.snooped]
    assert kinds == [defNumberVector, setNumberVector, Message, delProperty]
    # values as sent (3.x), getfloatvalue parses them
    assert driver.snooped[0]["RA"] == "12:30" and driver.snooped[1]["RA"] == "13.5"
    assert driver.snooped[0].getfloatvalue("RA") == 12.5
    assert driver.snooped[1].getfloatvalue("RA") == 13.5
    assert driver.snooped[2].message == "slewing" and driver.snooped[2].devicename == "Mount"
    assert driver.snooped[3].vectorname == "COORD"


async def test_snooped_events_waiting_for_snoopevent_are_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A snooped device talking faster than snoopevent handles must not grow memory without
    bound: past rx_queue_size the newest snooped event is dropped and logged; the ones already
    accepted are handled, in order, and the queue accepts again once drained."""
    def reading(value: int) -> pe.SetNumberVector:
        return pe.SetNumberVector("Mount", "COORD", (pe.Number("RA", str(value)),))

    driver = SlowDriver(make_device())
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await driver.send_getProperties("Mount")
            await client.expect(pe.GetProperties)
            await client.send(reading(0))
            await asyncio.wait_for(driver.busy.wait(), 5)  # snoopevent holds reading 0
            for value in range(1, 6):
                await client.send(reading(value))
            # A round trip: the driver answers after it has read (and queued or dropped) 1..5.
            await client.get_properties(device=DEV, name="NUM")
            driver.gate.set()
            await until(lambda: len(driver.snooped) >= 4, what="the four kept readings handled")
            await client.send(reading(6))  # room again: accepted
            await until(lambda: len(driver.snooped) >= 5, what="reading 6 handled")
    # The consumer holds one event while waiting, three wait in the queue: 0..3 kept, 4 and 5
    # dropped.
    assert [e["RA"] for e in driver.snooped] == ["0", "1", "2", "3", "6"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("snoopevent queue full" in m and "setNumberVector" in m for m in messages)
    assert any("snoopevent queue drained; 2 events had been dropped" in m for m in messages)


async def test_snooping_own_device_is_refused() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_getProperties(DEV)
        await client.round_trip()  # whatever the driver wrote before its reply has come
        assert not [e for e in client.pending() if isinstance(e, pe.GetProperties)]


async def test_send_enableblob_asks_for_a_snooped_devices_blobs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """send_enableBLOB writes indilib's IDSnoopBLOBs request (device, optional vector, mode);
    a value that is not Never/Also/Only, or the driver's own device, is refused with an error
    logged and nothing sent."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_enableBLOB("Also", "Camera")
        request = await client.expect(pe.EnableBLOB)
        assert (request.device, request.name, request.value) == ("Camera", None, "Also")
        await driver.send_enableBLOB("Only", "Camera", "CCD1")
        request = await client.expect(pe.EnableBLOB)
        assert (request.device, request.name, request.value) == ("Camera", "CCD1", "Only")
        with caplog.at_level(logging.ERROR):
            await driver.send_enableBLOB("Sometimes", "Camera")
            await driver.send_enableBLOB("Also", DEV)
        await client.round_trip()
        assert not [e for e in client.pending() if isinstance(e, pe.EnableBLOB)]
    assert "is not Never, Also or Only" in caplog.text
    assert "belongs to this driver" in caplog.text


async def test_snoop_requests_made_before_serving_are_sent_on_start() -> None:
    driver = make_driver()
    await driver.send_getProperties()
    async with DriverHarness(driver) as client:
        request = await client.expect(pe.GetProperties)
        assert request.device is None and request.version == "1.7"


async def test_blob_requests_made_before_serving_follow_the_snoops_on_start() -> None:
    """A driver that asks for a snooped camera's images before it is served (or before a
    reconnect) must still get them: the server forgets enableBLOB with the connection, so the
    newest mode per (device, vector) is sent after the getProperties it depends on (indiserver
    ignores a driver's enableBLOB for a device it does not snoop). Never needs no repeating."""
    driver = make_driver()
    await driver.send_getProperties("Camera")
    await driver.send_enableBLOB("Only", "Camera", "CCD1")
    await driver.send_enableBLOB("Also", "Camera", "CCD1")  # the newest mode wins
    await driver.send_enableBLOB("Also", "Guider")
    await driver.send_enableBLOB("Never", "Guider")  # back to the default: not repeated
    for _ in range(2):  # served, then served again (a reconnect)
        async with DriverHarness(driver) as client:
            await client.round_trip()  # what the driver sent on being served has come
            sent = [e for e in client.pending()
                    if isinstance(e, (pe.GetProperties, pe.EnableBLOB))]
        assert [(type(e), e.device, e.name) for e in sent] == [
            (pe.GetProperties, "Camera", None), (pe.EnableBLOB, "Camera", "CCD1")]
        assert sent[1].value == "Also"


class QuickSnoop(RecordingDriver):
    snoop_quiet_seconds = 0.15
    snoop_retry_after_delete = 0.05


async def test_snoop_request_is_repeated_while_the_device_is_quiet_not_while_it_talks() -> None:
    """Quiet: the driver repeats its snoop request. Talking: what the snooped device sends is
    heard, which moves the next repeat a whole quiet period on (the registry's arithmetic, with
    explicit times, is the next test: no race against the clock here)."""
    driver = QuickSnoop(make_device())
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount")
        await client.expect(pe.GetProperties)
        # quiet: repeated after about snoop_quiet_seconds
        await client.expect(pe.GetProperties, device="Mount", timeout=10.0)
        (snoop,) = list(driver.snoops)
        heard_before = snoop.last_heard
        await client.send(pe.Message("Mount", message="alive"))
        await client.get_properties(device=DEV, name="NUM")  # round trip: the message was read
        assert snoop.last_heard > heard_before and snoop.last_heard >= snoop.last_sent


def repeats(caplog: pytest.LogCaptureFixture, level: int) -> int:
    """The driver's "repeating snoop request" lines logged at `level`."""
    return sum(1 for r in caplog.records
               if "repeating snoop request" in r.getMessage() and r.levelno == level)


async def test_a_quiet_snoop_is_logged_once_at_info_then_at_debug_until_heard(
        caplog: pytest.LogCaptureFixture) -> None:
    """A device named for snooping but absent (a camera's default ACTIVE_ROTATOR) is said once
    in the driver's log, not at every repeat; once heard and quiet again, it is said again."""
    driver = QuickSnoop(make_device())
    caplog.set_level(logging.DEBUG, logger="indipydriver.driver")

    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount")
        await client.expect(pe.GetProperties)
        for _ in range(3):
            await client.expect(pe.GetProperties, device="Mount", timeout=10.0)
        assert (repeats(caplog, logging.INFO), repeats(caplog, logging.DEBUG) >= 2) == (1, True)
        await client.send(pe.Message("Mount", message="alive"))
        await client.get_properties(device=DEV, name="NUM")  # round trip: the message was read
        await client.expect(pe.GetProperties, device="Mount", timeout=10.0)
        await client.expect(pe.GetProperties, device="Mount", timeout=10.0)
    assert repeats(caplog, logging.INFO) == 2


async def test_a_quiet_device_that_answers_every_repeat_is_never_said_at_info(
        caplog: pytest.LogCaptureFixture) -> None:
    """A device that is there but quiet (a parked mount, a weather station between readings)
    answers each repeated request: its routine repeats go to DEBUG, not INFO (issue 89 item 12:
    211 INFO lines in 20 minutes of a night, one per snooped device a minute)."""
    driver = QuickSnoop(make_device())
    caplog.set_level(logging.DEBUG, logger="indipydriver.driver")

    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount")
        await client.expect(pe.GetProperties)
        await client.send(pe.Message("Mount", message="here"))  # the device answers
        for _ in range(4):
            await client.expect(pe.GetProperties, device="Mount", timeout=10.0)
            await client.send(pe.Message("Mount", message="still here"))
            await client.get_properties(device=DEV, name="NUM")  # round trip: the answer read
    assert (repeats(caplog, logging.INFO), repeats(caplog, logging.DEBUG) >= 4) == (0, True)


def test_a_snoop_is_absent_when_never_heard_or_when_its_last_repeat_went_unanswered() -> None:
    """`Snoop.absent`, the rule behind the log level: said once when the device goes missing."""
    never_heard = Snoop("Mount", None)
    heard = Snoop("Mount", None, last_heard=5.0)
    said = []
    for snoop in (never_heard, heard):
        for _ in range(4):
            snoop.unanswered += 1
            said.append(snoop.absent())
    assert said == [True, False, False, False, False, True, False, False]


def test_a_snoop_is_due_after_a_quiet_period_and_hearing_the_device_puts_it_off() -> None:
    """With explicit times: a request is repeated once nothing was sent or heard for
    quiet_seconds, each thing heard from the device restarts that wait, a repeat is marked as
    sent, and a delete brings the repeat to retry_after_delete."""
    from indipydriver.snooping import SnoopRegistry

    registry = SnoopRegistry(quiet_seconds=10.0, retry_after_delete=2.0)
    registry.add("Mount", None, now=0.0)
    assert registry.due(9.9) == []
    registry.heard("Mount", "COORD", now=9.0)
    registry.heard("Other", None, now=15.0)  # another device is not this one talking
    assert registry.due(18.9) == []
    assert [s.devicename for s in registry.due(19.0)] == ["Mount"]
    assert registry.due(28.9) == []  # sent at 19: quiet again from there
    registry.deleted("Mount", None, now=21.0)
    assert registry.due(22.9) == []
    assert [s.devicename for s in registry.due(23.0)] == ["Mount"]


async def test_snoop_request_is_repeated_soon_after_the_device_is_deleted() -> None:
    driver = QuickSnoop(make_device())
    driver.snoops.quiet_seconds = 10.0  # only the delete can trigger a repeat in this test
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount")
        await client.expect(pe.GetProperties)
        await client.send(pe.DelProperty("Mount"))
        request = await client.expect(pe.GetProperties, timeout=5.0)  # < quiet's 10 s
        assert request.device == "Mount"


@pytest.mark.parametrize(("calls", "replayed"), [
    ([("Also", "CCD1"), ("Never", None)], []),
    ([("Also", None), ("Never", "CCD1")], [("Also", None), ("Never", "CCD1")]),
    ([("Also", None), ("Only", "CCD1"), ("Also", None)], [("Also", None)]),
    ([("Only", "A"), ("Also", "B"), ("Also", "A")], [("Also", "B"), ("Also", "A")]),
    ([("Also", "A"), ("Never", "A")], []),
])
def test_blob_requests_replayed_restore_the_modes_the_server_had(
    calls: list[tuple[str, str | None]], replayed: list[tuple[str, str | None]]
) -> None:
    """The requests repeated on a reconnect give the server the modes the calls gave it: a
    device-wide mode replaces that device's per-vector ones, a per-vector one (Never too)
    overrides a device-wide one, and requests are repeated in the order they were made."""
    from indipycore.protocol.parser import parse_element
    from indipydriver.snooping import SnoopRegistry

    registry = SnoopRegistry()
    for mode, vector in calls:
        registry.set_blobs("Camera", vector, mode)
    got = [parse_element(r) for r in registry.blob_requests()]
    assert [(e.value, e.name) for e in got] == replayed
    assert all(e.device == "Camera" for e in got)



async def test_the_default_snoopevent_hands_snooped_traffic_to_every_devices_devsnoopevent() -> None:
    """As `Device.devsnoopevent` says (and docs/migrating.rst): a driver that does not override
    snoopevent gets snooped traffic in each of its devices' devsnoopevent, in device order."""
    from indipydriver import Device
    from indipydriver import IPyDriver
    from indipydriver import NumberMember
    from indipydriver import NumberVector

    seen: list[tuple[str, str]] = []

    class Watching(Device):
        async def devsnoopevent(self, event: Any, *args: Any, **kwargs: Any) -> None:
            seen.append((self.devicename, type(event).__name__))

    def watching(name: str) -> Watching:
        return Watching(name, [NumberVector("N", "N", "G", "ro", "Idle", [NumberMember("X")])])

    driver = IPyDriver(watching("Dome"), watching("Focuser"))
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount", "COORD")
        await client.expect(pe.GetProperties)
        await client.send(pe.Message("Mount", message="slewing"))
        await until(lambda: len(seen) == 2, what="both devices' devsnoopevent")
    assert seen == [("Dome", "Message"), ("Focuser", "Message")]
