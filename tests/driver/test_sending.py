"""What a driver sends: changed-only sets, messages not repeated, BLOB size per send, empty sets."""

from __future__ import annotations

import base64
import logging
import zlib
from datetime import UTC
from datetime import datetime

import pytest
from driverkit import DEV
from driverkit import make_driver

from indipycore.protocol import events as pe
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.parser import parse_element
from indipycore.protocol.wellformed import xml_error
from indipydriver.testing import DriverHarness


async def test_send_setvector_sends_all_members_or_only_changed_ones() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["NUM"]
        await vector.send_setVector()
        first = await client.expect(pe.SetNumberVector)
        assert [m.name for m in first.members] == ["A", "B"]
        vector["B"] = 7
        await vector.send_setVector(allvalues=False)
        changed = await client.expect(pe.SetNumberVector)
        assert [(m.name, m.float) for m in changed.members] == [("B", 7.0)]
        # nothing changed, no message, no state: nothing is sent
        await vector.send_setVector(allvalues=False)
        await client.round_trip()
        assert not [e for e in client.pending() if isinstance(e, pe.SetNumberVector)]


@pytest.mark.parametrize(("name", "kind"), [
    ("NUM", pe.SetNumberVector), ("TXT", pe.SetTextVector), ("ONE", pe.SetSwitchVector),
    ("BLOB", pe.SetBLOBVector)])
async def test_a_changed_only_set_with_nothing_changed_is_the_same_for_every_kind(
    name: str, kind: type,
) -> None:
    """`send_setVector(allvalues=False)` with no member changed applies its timeout even
    when it sends nothing, and a message assigned since the last send goes out in a set of
    no members, for a BLOB vector as for the others (it once returned before either)."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV][name]
        await vector.send_defVector()  # every member sent: none changed
        await client.round_trip()
        client.pending()
        await vector.send_setVector(allvalues=False, timeout=7)
        await client.round_trip()
        assert vector.timeout == "7"
        assert not [e for e in client.pending() if isinstance(e, kind)]
        vector.message = "cooling down"
        await vector.send_setVector(allvalues=False)
        event = await client.expect(kind)
        assert (event.name, event.members, event.message) == (name, (), "cooling down")


async def test_a_message_goes_with_one_send_only() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["NUM"]
        await vector.send_setVector(message="moving")
        assert (await client.expect(pe.SetNumberVector)).message == "moving"
        await vector.send_setVector()
        assert (await client.expect(pe.SetNumberVector)).message is None
        await driver[DEV].send_message("device says")
        assert (await client.expect(pe.Message)).message == "device says"
        await driver.send_message("site wide")
        site = await client.expect(pe.Message)
        assert site.device is None and site.message == "site wide"


async def test_state_timeout_and_timestamp_arguments_are_sent() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        await driver[DEV]["NUM"].send_setVector(state="Busy", timeout=5, timestamp=when)
        event = await client.expect(pe.SetNumberVector)
        assert (event.state, event.timeout, event.timestamp) == (
            State.BUSY, "5", "2024-01-02T03:04:05.678")


async def test_empty_set_is_a_valid_state_only_acknowledgement() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver[DEV]["NUM"].send_setVectorMembers(state="Alert", members=[])
        event = await client.expect(pe.SetNumberVector)
        assert event.members == () and event.state == State.ALERT


async def test_switch_sets_report_off_before_on() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["ONE"]
        await vector.send_defVector()  # everything sent once: nothing pending
        vector["S2"] = "On"
        await vector.send_setVector(allvalues=False)
        event = await client.expect(pe.SetSwitchVector)
        assert [(m.name, m.value) for m in event.members] == [
            ("S1", SwitchState.OFF), ("S2", SwitchState.ON)]


async def test_blob_size_applies_to_one_send_and_is_otherwise_the_data_length() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["BLOB"]
        raw = b"x" * 1000
        vector["IMG"] = zlib.compress(raw)
        vector.set_blobsize("IMG", len(raw))
        vector.set_blobformat("IMG", ".bin.z")
        await vector.send_setVectorMembers(members=["IMG"])
        first = await client.expect(pe.SetBLOBVector)
        assert first["IMG"].size == 1000 and zlib.decompress(first["IMG"].data) == raw
        vector["IMG"] = b"abc"
        vector.set_blobformat("IMG", ".bin")
        await vector.send_setVectorMembers(members=["IMG"])
        second = await client.expect(pe.SetBLOBVector)
        assert second["IMG"].size == 3 and second["IMG"].data == b"abc"


async def test_blob_from_a_file_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "image.bin"
    path.write_bytes(b"\x00\x01\x02")
    driver = make_driver()
    async with DriverHarness(driver) as client:
        driver[DEV]["BLOB"]["IMG"] = str(path)
        await driver[DEV]["BLOB"].send_setVectorMembers(members=["IMG"])
        assert (await client.expect(pe.SetBLOBVector))["IMG"].data == b"\x00\x01\x02"


async def test_each_blob_is_followed_by_a_ping_and_the_next_waits_for_its_reply(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """indilib's BLOB back-pressure: each BLOB is followed by a pingRequest, and the next BLOB
    waits for its pingReply. Unanswered, it is held until `blob_ping_timeout` passes (the
    warning says so) and then sent; answered, it goes at once, with no warning."""
    import asyncio

    driver = make_driver()
    driver.blob_ping_timeout = 0.3  # passes on purpose in the first half
    async with DriverHarness(driver, answer_pings=False, show_pings=True) as client:
        vector = driver[DEV]["BLOB"]
        vector["IMG"] = b"1"
        await vector.send_setVectorMembers(members=["IMG"])
        await client.expect(pe.SetBLOBVector)
        await client.expect(pe.PingRequest)
        with caplog.at_level(logging.WARNING, logger="indipydriver"):
            await vector.send_setVectorMembers(members=["IMG"])  # held, then sent anyway
            assert caplog.text.count("no pingReply for the previous BLOB within 0.3 s") == 1
            await client.expect(pe.SetBLOBVector)
            ping = await client.expect(pe.PingRequest)
            driver.blob_ping_timeout = 60.0  # from now on only the reply can release the next
            third = asyncio.create_task(vector.send_setVectorMembers(members=["IMG"]))
            await client.send(pe.PingReply(uid=ping.uid))
            await asyncio.wait_for(third, 10)
            await client.expect(pe.SetBLOBVector)
        assert caplog.text.count("no pingReply for the previous BLOB") == 1


async def test_delproperty_disables_the_vector_and_device() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        await driver[DEV]["NUM"].send_delProperty(message="gone")
        event = await client.expect(pe.DelProperty)
        assert (event.device, event.name, event.message) == (DEV, "NUM", "gone")
        await driver[DEV]["NUM"].send_setVector()
        await client.round_trip()
        assert not [e for e in client.pending() if isinstance(e, pe.SetNumberVector)]
        await driver[DEV].send_delProperty()
        assert (await client.expect(pe.DelProperty)).name is None
        assert await client.get_properties() == []


async def test_sends_before_serving_are_dropped_not_raised(
    caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing can be sent before the driver is served: the values go with the definitions
    later, but a message is lost, so the first drop says so (once: a loop must not flood)."""
    driver = make_driver()
    await driver[DEV]["NUM"].send_setVector()
    await driver[DEV].send_message("lost")
    assert caplog.text.count("is not served yet (or no longer)") == 1
    assert "a message is lost" in caplog.text


async def test_control_characters_go_out_as_replacement_characters(
    caplog: pytest.LogCaptureFixture
) -> None:
    """XML 1.0 cannot carry control characters (other than tab, newline, return) at all, and
    our server passes an in-process driver's bytes on unchecked: text from an instrument's reply
    would break every client's parser ("Bad XML" in indilib). They go out as U+FFFD, warned
    about, and the element stays well-formed."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["TXT"]
        vector["T"] = "ctl\x01char\ttab"
        await vector.send_setVector(message="m\x02sg")
        frame = await client.receive_frame()
        assert xml_error(frame.data) is None, frame.data
        event = parse_element(frame.data)
        assert event.members[0].value == "ctl\ufffdchar\ttab"  # type: ignore[union-attr]
        assert event.message == "m\ufffdsg"  # type: ignore[union-attr]
        await driver.send_message("site \x1b[0m wide")
        assert (await client.expect(pe.Message)).message == "site \ufffd[0m wide"
    assert "control character(s) in 'ctl\\x01char\\ttab' sent as U+FFFD" in caplog.text


async def test_blob_is_one_line_of_base64_without_enclen() -> None:
    """indilib's lilxml (indiserver and libindiclient 1.9.9) reads an element with ``enclen`` by
    copying whole reads into a buffer of enclen + enclen/72 + 1 bytes, expecting base64 wrapped
    at 72 columns: one line of base64 leaves that slack free, the closing tags of a BLOB over
    one read land in it, and the connection stalls for good (KStars saw no more messages; under
    indiserver the driver's BLOBs and everything after them were lost). So a BLOB goes out as
    one line with no ``enclen``, the form indiserver itself sends to its clients."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["BLOB"]
        payload = bytes(range(256)) * 1000
        for data in (payload, b"\x00" * 300_000):  # the second one is encoded on a thread
            vector["IMG"] = data
            await vector.send_setVectorMembers(members=["IMG"])
            frame = await client.receive_frame()
            assert frame.tag == "setBLOBVector"
            start = frame.data.index(b"<oneBLOB")
            tag = frame.data[start : frame.data.index(b">", start) + 1]
            assert b"enclen" not in tag, tag
            body = frame.data[len(tag) + start : frame.data.index(b"</oneBLOB>")]
            assert not any(c in body for c in b" \t\r\n")
            assert base64.b64decode(body, validate=True) == data


async def test_each_set_says_the_state_timeout_and_perm_of_its_moment() -> None:
    """A set's start tag is built once per shape (state, timeout, perm, device name) and
    reused: every change between two sets of one vector shows in the very next set, in its
    bytes and in the attributes an in-process server is handed with them."""
    from indipycore.protocol.framing import Frame
    from indipycore.protocol.framing import Framer

    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["NUM"]
        steps: list[dict[str, object]] = [
            {"state": "Ok"}, {"state": "Ok"}, {"state": "Busy", "timeout": 5}, {"timeout": "7.5"},
            {"message": "a & b"}, {"state": "Alert", "message": "plain"}, {"perm": "ro"},
            {"perm": "rw", "timeout": 2}, {"state": "Idle"},
        ]
        for step in steps:
            if "perm" in step:
                vector.perm = step.pop("perm")
            await vector.send_setVector(**step)  # type: ignore[arg-type]
            event = await client.expect(pe.SetNumberVector)
            assert event.state == vector.state
            assert event.timeout == (None if vector.perm == "ro" else vector.timeout)
            assert event.message == step.get("message")
            attrs: dict[str, str] = {}
            data = vector._set_bytes(vector.data.values(), step.get("message", ""), None,
                                     mark_sent=False, attrs=attrs)
            (framed,) = Framer().feed(data)
            assert isinstance(framed, Frame)
            if attrs:  # filled only when nothing needed escaping (the "a & b" message)
                assert attrs == framed.attrs
            else:
                assert step.get("message") == "a & b"


def test_now_timestamp_follows_the_clock_across_milliseconds_and_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The text is reused within one millisecond only, and its date part within one second."""
    from indipydriver import wire

    clock = [0.0]
    monkeypatch.setattr(wire.time, "time", lambda: clock[0])
    expected = {
        1_700_000_000.0004: "2023-11-14T22:13:20.000",
        1_700_000_000.0009: "2023-11-14T22:13:20.000",
        1_700_000_000.0012: "2023-11-14T22:13:20.001",
        1_700_000_000.9995: "2023-11-14T22:13:20.999",
        1_700_000_001.0001: "2023-11-14T22:13:21.000",
        1_700_086_400.5: "2023-11-15T22:13:20.500",
        1_700_000_000.0012 + 1: "2023-11-14T22:13:21.001",
    }
    for now, text in expected.items():
        clock[0] = now
        assert wire.now_timestamp() == text, now
