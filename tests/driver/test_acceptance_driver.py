"""Acceptance tests for issue 2's driver framework, filling gaps found in the audit.

* Snooping "all devices, one device, or one property": the request each form sends, and that
  the traffic of every matching device reaches snoopevent (the existing tests covered one
  property, and only the request for "all").
* "requests are repeated when the snooped side goes quiet or restarts": a one-property snoop is
  repeated, with its property name, after its device is deleted (a restart) and is not repeated
  once the device talks again.
* Robustness rule (bad input gets a clear logged error and the driver keeps running, nothing
  else lost): malformed XML, an element larger than the cap, an error raised by snoopevent,
  wrong value types and unknown devices; each test asserts the log line.
* getfloat on what rxevent gives (floats) and on the raw wire text (strings) alike.
* A OneOfMany vector that a driver sets member by member never has two members On.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from driverkit import DEV
from driverkit import RecordingDriver
from driverkit import make_device
from driverkit import make_driver
from waiting import until

from indipycore.protocol import events as pe
from indipycore.protocol import framing
from indipycore.protocol.enums import Perm
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipydriver import getfloat
from indipydriver import setNumberVector
from indipydriver.testing import DriverHarness


def _coord(device: str, name: str = "COORD", value: str = "1") -> pe.SetNumberVector:
    return pe.SetNumberVector(device, name, (pe.Number("RA", value),))


# -- snooping: the three forms --------------------------------------------------------------


async def test_snoop_all_devices_sends_a_deviceless_request_and_gets_every_devices_traffic() -> None:
    """send_getProperties() with no device snoops every device (SPEC p.4-5: absent device = all)."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_getProperties()
        request = await client.expect(pe.GetProperties)
        assert (request.device, request.name, request.version) == (None, None, "1.7")
        await client.send(_coord("Mount", value="1"))
        await client.send(_coord("Dome", name="AZ", value="2"))
        await client.send(pe.Message("Focuser", message="moved"))
        await until(lambda: len(driver.snooped) == 3, 10.0)
    assert [(e.devicename, getattr(e, "vectorname", None)) for e in driver.snooped] == [
        ("Mount", "COORD"), ("Dome", "AZ"), ("Focuser", None)]
    assert isinstance(driver.snooped[0], setNumberVector) and driver.snooped[1]["RA"] == "2"


async def test_snoop_one_device_sends_its_name_only_and_gets_all_its_vectors() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount")
        request = await client.expect(pe.GetProperties)
        assert (request.device, request.name, request.version) == ("Mount", None, "1.7")
        await client.send(_coord("Mount", "COORD", "3"))
        await client.send(_coord("Mount", "SITE", "4"))
        await until(lambda: len(driver.snooped) == 2, 10.0)
    assert [(e.vectorname, e["RA"]) for e in driver.snooped] == [("COORD", "3"), ("SITE", "4")]


async def test_own_devices_echo_is_not_taken_for_snooped_traffic() -> None:
    """With a snoop on all devices, a set about the driver's own device is not a snoop event."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver.send_getProperties()
        await client.expect(pe.GetProperties)
        await client.send(pe.SetNumberVector(DEV, "NUM", (pe.Number("A", "5"),)))
        await client.send(_coord("Mount"))
        await until(lambda: len(driver.snooped) == 1, 10.0)
        # A round trip: the driver has read (and judged) the echo before the Mount set.
        await client.get_properties(device=DEV, name="NUM")
    assert [e.devicename for e in driver.snooped] == ["Mount"]
    assert driver[DEV]["NUM"]["A"] == "1"  # our own state is not touched by the echo


class QuickSnoop(RecordingDriver):
    snoop_quiet_seconds = 10.0  # only a delete can trigger a repeat in these tests
    snoop_retry_after_delete = 0.05


async def test_one_property_snoop_is_repeated_with_its_name_after_its_device_restarts() -> None:
    """A snooped device that restarts is deleted (the server's delProperty) and comes back only
    when asked again: the one-property request is repeated, name included, and once the device
    talks again it is not repeated any more."""
    driver = QuickSnoop(make_device())
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount", "COORD")
        await client.expect(pe.GetProperties)
        await client.send(_coord("Mount"))
        await client.send(pe.DelProperty("Mount"))  # the whole device went away
        again = await client.expect(pe.GetProperties, timeout=10.0)
        assert (again.device, again.name, again.version) == ("Mount", "COORD", "1.7")
        await client.send(pe.DefNumberVector("Mount", "COORD", State.OK, Perm.RO, (
            pe.Number("RA", "2", None, "%g", "0", "24", "0"),)))
        await client.handled()
        assert not [e for e in client.pending() if isinstance(e, pe.GetProperties)]


async def test_deleting_another_property_does_not_repeat_a_one_property_snoop() -> None:
    driver = QuickSnoop(make_device())
    async with DriverHarness(driver) as client:
        await driver.send_getProperties("Mount", "COORD")
        await client.expect(pe.GetProperties)
        await client.send(_coord("Mount"))
        await client.send(pe.DelProperty("Mount", "OTHER"))
        await client.handled()
        assert not [e for e in client.pending() if isinstance(e, pe.GetProperties)]


# -- robustness: bad input is logged and the driver keeps running ---------------------------


async def test_malformed_xml_is_logged_and_the_next_request_is_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    driver = make_driver(echo=True)
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await client.send(b"<<<garbage & stuff <newNumberVector device='Dev' name='NUM'>")
            await client.send(b"<oneNumber name='A'>2</oneNumber></newNumberVector junk>")
            await client.send(b"skipped while resynchronising <newTextVector device='Dev' name='TXT'><oneText")
            await client.send(b" name='T'>x</oneText>  </newTextVector>")  # good, after text
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "3"),)))
            reply = await client.expect(pe.SetNumberVector, name="NUM")
    assert reply["A"].float == 3.0
    assert [type(e).__name__ for e in driver.events] == ["newTextVector", "newNumberVector"]
    assert "ignoring malformed input" in caplog.text
    assert "malformed closing tag of newNumberVector" in caplog.text
    assert "byte" in caplog.text  # the error says where


async def test_an_element_larger_than_the_cap_is_logged_skipped_and_the_driver_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Huge input: with the framing cap lowered to 64 KiB, a 1 MiB BLOB upload is refused with
    a log line naming the size, and the next (small) request is handled normally."""

    class SmallFramer(framing.Framer):
        def __init__(self, max_element_size: int = 64 * 1024, **options: Any) -> None:
            super().__init__(max_element_size, **options)

    monkeypatch.setattr(framing, "Framer", SmallFramer)
    driver = make_driver(echo=True)
    huge = pe.NewBLOBVector(DEV, "BLOB", (pe.BLOB("IMG", b"x" * (1 << 20), 1 << 20, ".bin"),))
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await client.send(huge)
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "4"),)))
            reply = await client.expect(pe.SetNumberVector, name="NUM")
    assert reply["A"].float == 4.0
    assert [type(e).__name__ for e in driver.events] == ["newNumberVector"]
    assert "larger than 65536 bytes" in caplog.text


async def test_an_error_in_snoopevent_is_logged_with_device_and_vector_and_snooping_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Failing(RecordingDriver):
        async def snoopevent(self, event: Any) -> None:
            self.snooped.append(event)
            if len(self.snooped) == 1:
                raise RuntimeError("user bug")

    driver = Failing(make_device())
    with caplog.at_level(logging.ERROR):
        async with DriverHarness(driver) as client:
            await driver.send_getProperties("Mount")
            await client.expect(pe.GetProperties)
            await client.send(_coord("Mount", value="1"))
            await client.send(_coord("Mount", value="2"))
            await until(lambda: len(driver.snooped) == 2, 10.0)
            assert client.serving
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("snoopevent" in r.getMessage() and "'Mount'" in r.getMessage()
               and "'COORD'" in r.getMessage() and r.exc_info for r in records), caplog.text


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ('<newNumberVector device="Dev" name="NUM"><oneNumber name="A">ten</oneNumber>'
         "</newNumberVector>", "Dev.NUM.A: 'ten' is not a number"),
        ('<newSwitchVector device="Dev" name="ONE"><oneSwitch name="S2">Maybe</oneSwitch>'
         "</newSwitchVector>", "malformed"),
        ('<newNumberVector device="Nobody" name="NUM"><oneNumber name="A">1</oneNumber>'
         "</newNumberVector>", "unknown device"),
    ],
    ids=["number-text", "switch-maybe", "unknown-device"],
)
async def test_wrong_types_and_unknown_devices_are_logged_and_state_is_kept(
    caplog: pytest.LogCaptureFixture, xml: str, reason: str
) -> None:
    driver = make_driver(echo=True)
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await client.send(xml)
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "-2"),)))
            reply = await _next_ok_reply(client)
    assert reply["A"].float == -2.0
    assert dict(driver[DEV]["ONE"]) == {"S1": "On", "S2": "Off", "S3": "Off"}
    assert reason in caplog.text and "rejected" in caplog.text
    assert [type(e).__name__ for e in driver.events] == ["newNumberVector"]


async def _next_ok_reply(client: DriverHarness) -> pe.SetNumberVector:
    """Skip the Alert answers rejected requests get; return the echo of the good request."""
    while True:
        event = await client.expect(pe.SetNumberVector, name="NUM")
        if event.state is not State.ALERT:
            return event


# -- getfloat and switch rules ---------------------------------------------------------------


async def test_rxevent_numbers_are_the_clients_text_and_getfloat_reads_them() -> None:
    """As in 3.x, a new number arrives as the text the client sent; getfloat, the event's
    getfloatvalue and indi_number_to_float read it, sexagesimal too."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "-5 30"),
                                                          pe.Number("B", "12;30"))))
        await until(lambda: len(driver.events) == 1, 10.0)
    event = driver.events[0]
    for name, text, expected in (("A", "-5 30", -5.5), ("B", "12;30", 12.5)):
        assert type(event[name]) is str and event[name] == text
        assert getfloat(event[name]) == event.getfloatvalue(name) == expected
        assert driver.indi_number_to_float(event[name]) == expected
        assert getfloat(event.raw[name].value) == expected  # the text as the client sent it


@pytest.mark.parametrize(
    ("vector", "assignments"),
    [
        ("ONE", [("S2", "On"), ("S3", "On"), ("S1", "On"), ("S1", "On")]),
        ("ATMOST", [("M1", "On"), ("M2", "On"), ("M2", "Off"), ("M1", "On")]),
    ],
)
async def test_one_of_many_and_at_most_one_never_send_two_members_on(
    vector: str, assignments: list[tuple[str, str]]
) -> None:
    """A driver assigning switches one by one (as it copies a client's single On) always sends
    a valid vector: at most one On, Off members listed before the On (SPEC pp.9-10)."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        for member, value in assignments:
            driver[DEV][vector][member] = value
            await driver[DEV][vector].send_setVector(allvalues=True)
            sent = await client.expect(pe.SetSwitchVector, name=vector)
            values = [m.value for m in sent.members]
            assert values.count(SwitchState.ON) <= 1
            on = [m.name for m in sent.members if m.value is SwitchState.ON]
            if value == "On":
                assert on == [member] and values[-1] is SwitchState.ON
            else:
                assert member not in on


async def test_sends_before_serving_are_dropped_not_delivered_later() -> None:
    """Strengthens test_sending's 'dropped, not raised': a set or message sent before the driver
    serves is not queued up and replayed once a client connects (it would be stale)."""
    driver = make_driver()
    await driver[DEV]["NUM"].send_setVector()
    await driver[DEV].send_message("too early")
    async with DriverHarness(driver) as client:
        await client.round_trip()
        assert client.pending() == []
        await driver[DEV].send_message("on time")
        assert (await client.expect(pe.Message)).message == "on time"
