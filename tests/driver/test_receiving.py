"""Client requests: checked before rxevent; rejected ones are logged and answered with the
vector's current values, state Alert and the reason; the driver's state is left unchanged."""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any

import pytest
from driverkit import DEV
from driverkit import RecordingDriver
from driverkit import SlowDriver
from driverkit import make_device
from driverkit import make_driver
from waiting import until

from indipycore.protocol import events as pe
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipydriver import newBLOBVector
from indipydriver import newNumberVector
from indipydriver import newSwitchVector
from indipydriver import newTextVector
from indipydriver.testing import DriverHarness


async def _settle(driver: RecordingDriver, count: int = 1) -> None:
    """Until rxevent has been given `count` events (it fails if not: it used to return)."""
    await until(lambda: len(driver.events) >= count, 5, f"{count} events for rxevent")


async def test_valid_numbers_reach_rxevent_as_the_clients_text_with_their_floats() -> None:
    """3.x gave the stripped text; getfloatvalue gives the float the framework checked."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", " -1:30 "),
                                                          pe.Number("B", "1e6"))))
        await _settle(driver)
    event = driver.events[0]
    assert isinstance(event, newNumberVector)
    assert dict(event) == {"A": "-1:30", "B": "1e6"}
    assert (event.getfloatvalue("A"), event.getfloatvalue("B")) == (-1.5, 1e6)
    assert event.raw["A"].value == "-1:30"
    assert event.vector is driver[DEV]["NUM"] and event.devicename == DEV
    assert event.vectorname == "NUM" and event.timestamp is not None


async def test_partial_vector_is_accepted_like_indi_setprop_sends() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send('<newNumberVector device="Dev" name="NUM">'
                          '<oneNumber name="B">3</oneNumber></newNumberVector>')
        await _settle(driver)
    assert dict(driver.events[0]) == {"B": "3"}


REJECTIONS = [
    ('<newNumberVector device="Other" name="NUM"><oneNumber name="A">1</oneNumber>'
     '</newNumberVector>', "unknown device"),
    ('<newNumberVector device="Dev" name="NOPE"><oneNumber name="A">1</oneNumber>'
     '</newNumberVector>', "unknown vector"),
    ('<newNumberVector device="Dev" name="NUM"><oneNumber name="Z">1</oneNumber>'
     '</newNumberVector>', "unknown member"),
    ('<newNumberVector device="Dev" name="RO"><oneNumber name="X">1</oneNumber>'
     '</newNumberVector>', "read-only"),
    ('<newTextVector device="Dev" name="TXT"></newTextVector>', "no member values given"),
    ('<newNumberVector device="Dev" name="NUM"><oneNumber name="A">abc</oneNumber>'
     '</newNumberVector>', "is not a number"),
    ('<newNumberVector device="Dev" name="NUM"><oneNumber name="A">10.5</oneNumber>'
     '</newNumberVector>', "outside min"),
    ('<newNumberVector device="Dev" name="NUM"><oneNumber name="A">-11</oneNumber>'
     '</newNumberVector>', "outside min"),
    ('<newSwitchVector device="Dev" name="NUM"><oneSwitch name="A">On</oneSwitch>'
     '</newSwitchVector>', "not a SwitchVector"),
    ('<newSwitchVector device="Dev" name="ONE"><oneSwitch name="S2">On</oneSwitch>'
     '<oneSwitch name="S3">On</oneSwitch></newSwitchVector>', "allows one switch On"),
    ('<newSwitchVector device="Dev" name="ONE"><oneSwitch name="S1">Off</oneSwitch>'
     '</newSwitchVector>', "OneOfMany needs one switch On"),
    ('<newSwitchVector device="Dev" name="ATMOST"><oneSwitch name="M1">On</oneSwitch>'
     '<oneSwitch name="M2">On</oneSwitch></newSwitchVector>', "allows one switch On"),
    ('<newSwitchVector device="Dev" name="ONE"><oneSwitch name="S2">Maybe</oneSwitch>'
     '</newSwitchVector>', "S2"),
    ('<newBLOBVector device="Dev" name="BLOB"><oneBLOB name="IMG" size="3" format=".z">'
     'AAAA</oneBLOB></newBLOBVector>', "cannot be decoded"),
]


@pytest.mark.parametrize(("xml", "why"), REJECTIONS)
async def test_bad_requests_are_rejected_with_a_log_line_and_state_unchanged(
    xml: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    driver = make_driver()
    before = {name: dict(vector) for name, vector in driver[DEV].items()}
    states = {name: vector.state for name, vector in driver[DEV].items()}
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await client.send(xml)
            await client.handled()
            replies = client.pending()
    assert driver.events == []
    assert {name: dict(vector) for name, vector in driver[DEV].items()} == before
    assert {name: vector.state for name, vector in driver[DEV].items()} == states
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("rejected" in line and why in line for line in lines), lines
    if "device=" not in xml[:40] and "Other" not in xml:
        assert any(repr(DEV) in line for line in lines)
    # The client is answered, so it does not show the vector Busy for ever (SPEC p.6: Alert).
    name = xml.split('name="', 1)[1].split('"', 1)[0]
    if why in ("unknown device", "unknown vector"):
        assert replies == []  # no vector to answer with: the log line only
        return
    assert len(replies) == 1, replies
    reply = replies[0]
    vector = driver[DEV][name]
    assert type(reply).__name__ == f"Set{vector.kind}Vector"
    assert reply.device == DEV and reply.name == name and reply.state == State.ALERT
    assert reply.message.startswith("Request rejected") and why in reply.message
    if vector.kind == "BLOB":
        assert reply.members == ()  # state-only: no image sent back
    else:
        assert {m.name for m in reply.members} == set(vector)  # all current values


async def test_rejection_reply_carries_current_values_and_leaves_changed_flags() -> None:
    """The Alert answer repeats what the device holds now; later sends are unaffected."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver[DEV]["NUM"].send_setVector()  # all sent: nothing marked changed
        await client.expect(pe.SetNumberVector, name="NUM")
        driver[DEV]["NUM"]["A"] = 7
        await client.send('<newNumberVector device="Dev" name="NUM"><oneNumber name="A">99'
                          '</oneNumber></newNumberVector>')
        reply = await client.expect(pe.SetNumberVector, name="NUM")
        assert reply.state == State.ALERT and reply["A"].float == 7.0
        assert reply.message == "Request rejected: Dev.NUM.A: 99 is outside min -10 .. max 10"
        await driver[DEV]["NUM"].send_setVector(allvalues=False)
        again = await client.expect(pe.SetNumberVector, name="NUM")
    assert [m.name for m in again.members] == ["A"]  # still marked changed
    assert again.state == State.IDLE  # the device's own state was not touched


async def test_rxevent_queue_is_bounded_and_drops_the_newest_with_an_alert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client sending faster than rxevent handles must not grow memory without bound:
    past rx_queue_size the newest request is dropped, logged and answered with Alert; the
    ones already accepted are handled, in order."""
    driver = SlowDriver(make_device())
    with caplog.at_level(logging.WARNING):
        async with DriverHarness(driver) as client:
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "0"),)))
            await asyncio.wait_for(driver.busy.wait(), 5)  # rxevent holds event 0
            for value in range(1, 6):
                await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", str(value)),)))
            await client.round_trip()  # rxevent is held: its queue is not waited for
            replies = client.pending()
            driver.gate.set()
            await _settle(driver, 4)
            await client.handled()
    # The consumer holds one event while waiting, three wait in the queue: 0..3 kept.
    assert [e["A"] for e in driver.events] == ["0", "1", "2", "3"]
    alerts = [r for r in replies if isinstance(r, pe.SetNumberVector)]
    assert len(alerts) == 2 and all(r.state == State.ALERT for r in alerts)
    assert all("driver is busy" in r.message for r in alerts)
    assert any("rxevent queue full" in r.getMessage() for r in caplog.records)


async def test_min_equal_to_max_means_no_limits() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("B", "123456"),)))
        await _settle(driver)
    assert driver.events[0]["B"] == "123456"


async def test_one_of_many_accepts_the_single_switch_turning_on() -> None:
    driver = make_driver(echo=True)
    async with DriverHarness(driver) as client:
        await client.send(pe.NewSwitchVector(DEV, "ONE", (pe.Switch("S3", SwitchState.ON),)))
        reply = await client.expect(pe.SetSwitchVector)
    assert isinstance(driver.events[0], newSwitchVector)
    assert {m.name: m.value for m in reply.members} == {"S1": "Off", "S2": "Off", "S3": "On"}
    assert dict(driver[DEV]["ONE"]) == {"S1": "Off", "S2": "Off", "S3": "On"}


async def test_text_and_blob_values_arrive_decoded() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(pe.NewTextVector(DEV, "TXT", (pe.Text("T", "a < b & c"),)))
        payload = b"image" * 100
        await client.send(pe.NewBLOBVector(DEV, "BLOB", (
            pe.BLOB("IMG", zlib.compress(payload), len(payload), ".bin.z"),)))
        await _settle(driver, 2)
    text, blob = driver.events
    assert isinstance(text, newTextVector) and text["T"] == "a < b & c"
    assert isinstance(blob, newBLOBVector) and blob["IMG"] == payload
    assert blob.sizeformat["IMG"] == (500, ".bin.z")


async def test_enableblob_is_not_acted_on_by_the_driver() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send('<enableBLOB device="Dev">Never</enableBLOB>')
        await client.handled()
        assert client.pending() == []
        vector = driver[DEV]["BLOB"]
        vector["IMG"] = b"still sent"
        await vector.send_setVectorMembers(members=["IMG"])
        assert (await client.expect(pe.SetBLOBVector))["IMG"].data == b"still sent"


class FailingDriver(RecordingDriver):
    async def rxevent(self, event: Any) -> None:
        self.events.append(event)
        if len(self.events) == 1:
            raise RuntimeError("boom")
        await event.vector.send_setVector()


async def test_an_error_in_rxevent_is_logged_with_device_and_vector_and_the_driver_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The traceback is logged with the device and vector; the client that sent the request
    gets the vector in state Alert with the error as its message (it would otherwise show the
    vector Busy for ever); the next request is handled as usual."""
    from driverkit import make_device

    driver = FailingDriver(make_device())
    async with DriverHarness(driver) as client:
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "1"),)))
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "2"),)))
        failed = await client.expect(pe.SetNumberVector, name="NUM")
        assert failed.state == "Alert"
        assert failed.message == "Request failed: RuntimeError in the driver: boom"
        answered = await client.expect(pe.SetNumberVector, name="NUM")
        assert answered.state != "Alert"
        assert client.serving
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("rxevent" in r.getMessage() and "'Dev'" in r.getMessage()
               and "'NUM'" in r.getMessage() and r.exc_info for r in errors)


async def test_malformed_xml_is_skipped_and_later_requests_still_work() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(b"<newNumberVector device='Dev' name='NUM'><oneNumber <<>></newNumberVector>")
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "4"),)))
        await _settle(driver)
    assert driver.events[-1]["A"] == "4"


async def test_ping_requests_are_answered_with_the_same_uid() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await client.send(pe.PingRequest(uid="abc/1"))
        assert await client.expect(pe.PingReply) == pe.PingReply(uid="abc/1")


async def test_a_failed_answer_to_a_failed_request_does_not_stop_the_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When rxevent raised because the link broke, answering with Alert fails too: that second
    error is logged, not raised out of the driver's task group; the driver goes on."""
    from driverkit import make_device

    driver = FailingDriver(make_device())

    async def broken(*args: Any) -> None:
        raise BrokenPipeError("link gone")

    monkeypatch.setattr(driver, "_answer_rejected", broken)
    async with DriverHarness(driver) as client:
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "1"),)))
        await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "2"),)))
        await client.expect(pe.SetNumberVector, name="NUM")  # the second, answered
        assert client.serving
    assert len(driver.events) == 2


class AlwaysFailing(RecordingDriver):
    async def rxevent(self, event: Any) -> None:
        raise RuntimeError("boom")


async def test_a_request_failing_again_and_again_cannot_flood_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client repeating a request rxevent fails on made a traceback each (19,129 in a chaos
    run): 20 are logged per 10 s, the next one logged saying how many were left out; every
    request is still answered."""
    from driverkit import make_device

    async with DriverHarness(AlwaysFailing(make_device())) as client:
        for i in range(30):
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", str(i % 5)),)))
        for _ in range(30):
            failed = await client.expect(pe.SetNumberVector, name="NUM")
            assert failed.message == "Request failed: RuntimeError in the driver: boom"
    logged = [r for r in caplog.records if "rxevent failed" in r.getMessage()]
    assert len(logged) == 20 and all(r.exc_info for r in logged)
