"""inditoredis against real peers: indilib's indiserver with the telescope and CCD simulators
(and our own server with a small Python driver), and a real redis-server."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Awaitable
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from peers import connect
from peers import new_number
from redishelpers import bridge
from redishelpers import client
from redishelpers import stored
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import redis_server

TEL = "Telescope Simulator"
CCD = "CCD Simulator"
NUMBER_FIELDS = {"name", "label", "value", "timestamp", "timeout", "format", "formatted_number",
                 "float_number", "min", "float_min", "max", "float_max", "step", "float_step"}
VECTOR_FIELDS = {"device", "name", "vector", "state", "perm", "label", "group", "timestamp",
                 "timeout", "message"}


async def test_telescope_and_ccd_keys_are_exactly_the_documented_schema(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """def, set, del and message from indilib's simulators land under the documented keys,
    with exactly the documented hash fields (numbers, switches, BLOBs, vectors)."""
    server = indiserver_factory("indi_simulator_telescope", "indi_simulator_ccd")
    r = client(redis_port)
    rhost = redis_server("127.0.0.1", redis_port)
    async with bridge(inditoredis_async(indi_server("127.0.0.1", server.port), rhost,
                                        blob_folder=tmp_path / "blobs")):
        async def both_defined() -> bool:  # the simulators define themselves in any order
            return bool(await r.smembers("indi_devices") >= {TEL, CCD})

        await until(both_defined, what="the telescope and the CCD in indi_devices")
        conn = await until(lambda: r.hgetall(f"indi_attributes:CONNECTION:{TEL}"))
        assert set(conn) == VECTOR_FIELDS | {"rule"}
        assert conn["vector"] == "SwitchVector" and conn["rule"] == "OneOfMany"
        assert conn["group"] == "Main Control" and conn["perm"] == "rw"
        assert await r.smembers(f"indi_elements:CONNECTION:{TEL}") == {"CONNECT", "DISCONNECT"}
        assert await r.lrange(f"indi_elementorder:CONNECTION:{TEL}", 0, -1) == [
            "CONNECT", "DISCONNECT"]
        sw = await r.hgetall(f"indi_elementattributes:CONNECT:CONNECTION:{TEL}")
        assert set(sw) == {"name", "label", "value", "timestamp", "timeout"}
        assert sw["value"] == "Off"

        await r.publish("to_indi", connect(TEL))
        await r.publish("to_indi", connect(CCD))
        coord = f"indi_elementattributes:RA:EQUATORIAL_EOD_COORD:{TEL}"
        ra = await until(lambda: r.hgetall(coord), what="telescope coordinates")
        assert set(ra) == NUMBER_FIELDS
        assert float(ra["float_number"]) == pytest.approx(float(ra["value"]))
        assert await r.sismember(f"indi_properties:{TEL}", "EQUATORIAL_EOD_COORD")
        blob = await until(lambda: r.hgetall(f"indi_attributes:CCD1:{CCD}"))
        assert set(blob) == VECTOR_FIELDS | {"blobs"} and blob["vector"] == "BLOBVector"
        assert blob["blobs"] == "Enabled"
        member = await r.hgetall(f"indi_elementattributes:CCD1:CCD1:{CCD}")
        assert set(member) == {"name", "label", "format", "size", "filepath", "timestamp",
                               "timeout"}
        # Messages: the simulators say something when they connect.
        text = await until(lambda: r.get(f"indi_devicemessages:{TEL}"), what="a message")
        assert text.split(" ", 1)[0].startswith("20")

        # Disconnecting makes the telescope delete its coordinates (delProperty).
        await r.publish("to_indi", connect(TEL, on=False))

        async def gone() -> bool:
            return not await r.exists(coord) and not await r.sismember(
                f"indi_properties:{TEL}", "EQUATORIAL_EOD_COORD")

        await until(gone, what="coordinates deleted")
        assert not await r.exists(f"indi_attributes:EQUATORIAL_EOD_COORD:{TEL}")
        assert not await r.exists(f"indi_elements:EQUATORIAL_EOD_COORD:{TEL}")
        assert await r.sismember("indi_devices", TEL)
    await r.aclose()


async def test_to_indi_reaches_the_driver_busy_then_ok(indiserver_factory: Any,
                                                        redis_port: int, tmp_path: Path) -> None:
    """A new vector published on to_indi reaches the driver: Busy in redis at once, then the
    driver's Ok; from_indi carries the driver's answer."""
    server = indiserver_factory("indi_simulator_telescope")
    r = client(redis_port)
    sub = r.pubsub()
    await sub.subscribe("from_indi")
    rhost = redis_server("127.0.0.1", redis_port)
    async with bridge(inditoredis_async(indi_server("127.0.0.1", server.port), rhost,
                                        blob_folder=tmp_path)):
        await until(lambda: r.exists(f"indi_attributes:CONNECTION:{TEL}"))
        await r.publish("to_indi", connect(TEL))

        async def ok() -> bool:
            attrs = await r.hgetall(f"indi_attributes:CONNECTION:{TEL}")
            return attrs.get("state") == "Ok"

        await until(ok, what="Ok")
        log = await r.xrange(f"indi_logdata:attributes:CONNECTION:{TEL}")
        states = [json.loads(fields["datastring"]).get("state") for _, fields in log]
        assert "Busy" in states and states.index("Busy") < len(states) - 1
        assert states[-1] == "Ok"
        seen = []
        async with asyncio.timeout(10):
            while not any(b'name="CONNECTION"' in s and b"setSwitchVector" in s for s in seen):
                message = await sub.get_message(timeout=1)
                if message and message["type"] == "message":
                    seen.append(message["data"].encode())  # decode_responses
    await sub.aclose()
    await r.aclose()


async def test_log_streams_are_trimmed_to_their_lengths(redis_port: int, tmp_path: Path) -> None:
    """log_lengths bounds each stream: after 12 sets a number member keeps its last 3."""
    driver = make_gadget()
    key = "indi_elementattributes:V:VALUE:Gadget"
    async with stored(driver, redis_port, key, log_lengths={"numbervector": 3},
                      blob_folder=tmp_path) as r:
        for value in range(1, 13):
            await r.publish("to_indi", new_number("Gadget", "VALUE", "V", value))

        async def last() -> bool:
            return (await r.hget(key, "value")) in ("12", "12.0")

        await until(last, what="the last value")
        entries = await r.xrange("indi_logdata:elementattributes:V:VALUE:Gadget")
        assert len(entries) == 3
        assert json.loads(entries[-1][1]["datastring"])["float_number"] == "12.0"
        assert await r.xlen("indi_logdata:devices") <= 5

        # The same value again (a fresh timestamp) is stored, not logged; a new one is.
        member = "indi_logdata:elementattributes:V:VALUE:Gadget"
        before = await r.xrange(member)
        vector = driver["Gadget"]["VALUE"]
        await vector.send_setVector(timestamp=datetime(2026, 1, 1, tzinfo=UTC))
        await until(lambda: _stamped(r, key, "2026-01-01T00:00:00"), what="the repeat")
        assert await r.xrange(member) == before
        vector["V"] = 13
        await vector.send_setVector()
        await until(lambda: _value_log_ends(r, member, "13"), what="13 logged")


async def _stamped(r: Any, key: str, stamp: str) -> bool:
    return str(await r.hget(key, "timestamp")).startswith(stamp)


async def _value_log_ends(r: Any, stream: str, value: str) -> bool:
    entries = await r.xrevrange(stream, count=1)
    return bool(entries) and float(json.loads(entries[0][1]["datastring"])["value"]) == float(
        value)


async def test_a_ccd_exposure_is_a_fits_file_named_in_the_member_hash(
        indiserver_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """A CCD simulator exposure is saved as a FITS file in the BLOB folder (never in redis),
    its path in the member hash, and from_indi carries the path instead of the bytes."""
    server = indiserver_factory("indi_simulator_ccd")
    r = client(redis_port)
    sub = r.pubsub()
    await sub.subscribe("from_indi")
    folder = tmp_path / "blobs"
    rhost = redis_server("127.0.0.1", redis_port)
    async with bridge(inditoredis_async(indi_server("127.0.0.1", server.port), rhost,
                                        blob_folder=folder)):
        await until(lambda: r.exists(f"indi_attributes:CONNECTION:{CCD}"))
        await r.publish("to_indi", connect(CCD))
        await until(lambda: r.exists(f"indi_attributes:CCD_EXPOSURE:{CCD}"))
        # stored as the bridge sends its enableBLOB, on the connection the exposure takes next
        await until(lambda: _equals(r.hget(f"indi_attributes:CCD1:{CCD}", "blobs"), "Enabled"),
                    what="the bridge's enableBLOB")
        await r.publish("to_indi", new_number(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", 0.1))
        path = await until(lambda: r.hget(f"indi_elementattributes:CCD1:CCD1:{CCD}", "filepath"),
                           timeout=30, what="the FITS file")
        saved = Path(path)
        assert saved.parent == folder and saved.suffix == ".fits"
        data = saved.read_bytes()
        assert data.startswith(b"SIMPLE  =")
        member = await r.hgetall(f"indi_elementattributes:CCD1:CCD1:{CCD}")
        assert int(member["size"]) == len(data)
        notices = []
        async with asyncio.timeout(10):
            while not notices:
                message = await sub.get_message(timeout=1)
                if message and message["type"] == "message" and "setBLOBVector" in message[
                        "data"]:
                    notices.append(message["data"])
        assert path in notices[0] and len(notices[0]) < 2000
    await sub.aclose()
    await r.aclose()


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def test_zlib_blobs_are_saved_decompressed(redis_port: int, tmp_path: Path) -> None:
    """A '.z' BLOB is written decompressed, named without '.z', with its decompressed size."""
    driver = make_gadget()
    payload = b"FITS-like payload " * 1000
    async with stored(driver, redis_port, "indi_attributes:IMAGE:Gadget",
                      blob_folder=tmp_path) as r:
        vector = driver["Gadget"]["IMAGE"]
        vector["I"] = zlib.compress(payload)
        vector.set_blobformat("I", ".bin.z")

        async def saved() -> bytes | str | None:
            """Send the BLOB (again: one sent before the bridge's enableBLOB reached the server
            is not for it) and look for its file."""
            await vector.send_setVector()
            return await r.hget("indi_elementattributes:I:IMAGE:Gadget", "filepath")

        path = await until(saved, what="the BLOB's file")
        assert Path(path).suffix == ".bin"
        assert Path(path).read_bytes() == payload
        assert await r.hget("indi_elementattributes:I:IMAGE:Gadget", "size") == str(
            len(payload))


async def test_bad_to_indi_input_is_logged_dropped_and_the_bridge_goes_on(
        redis_port: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Malformed XML, two elements at once, a driver's element and an unknown device are each
    logged and dropped; a good element after them still reaches the driver."""
    driver = make_gadget()
    caplog.set_level(logging.WARNING, logger="indiredis")
    async with stored(driver, redis_port, "indi_attributes:VALUE:Gadget",
                      blob_folder=tmp_path) as r:
        for bad in ['<newNumberVector device="Gadget" name="VALUE"><oneNumber',
                    "not xml at all", "\x00\xff<<>>",
                    '<newNumberVector device="Nobody" name="VALUE">'
                    '<oneNumber name="V">1</oneNumber></newNumberVector>',
                    '<setNumberVector device="Gadget" name="VALUE">'
                    '<oneNumber name="V">5</oneNumber></setNumberVector>',
                    '<getProperties version="1.7"/><getProperties version="1.7"/>']:
            await r.publish("to_indi", bad)
        await r.publish("to_indi", '<newNumberVector device="Gadget" name="VALUE">'
                        '<oneNumber name="V">7</oneNumber></newNumberVector>')

        async def seven() -> bool:
            return await r.hget("indi_elementattributes:V:VALUE:Gadget", "value") in (
                "7", "7.0")

        await until(seven, what="the good element's answer")
    text = caplog.text
    assert "unknown device 'Nobody'" in text
    assert "not an element a client sends" in text
    assert "2 elements, not one" in text
    assert text.count("to_indi:") >= 5


async def test_redis_and_indi_server_restarts_are_recovered(redis_factory: Any,
                                                            tmp_path: Path) -> None:
    """redis restarted under a running bridge (its keys lost) is refilled; the INDI server
    stopped removes its devices, started again brings them back."""
    redis = redis_factory()
    driver = make_gadget()
    r = client(redis.port)
    rhost = redis_server("127.0.0.1", redis.port)
    server = IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)
    async with running(server):
        port = server.port
        async with bridge(inditoredis_async(indi_server("127.0.0.1", port), rhost,
                                            blob_folder=tmp_path)):
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"))
            redis.stop()
            redis.start()
            # The bridge notices on its next write: the driver sends one.
            await r.ping()
            assert not await r.exists("indi_attributes:VALUE:Gadget")
            driver["Gadget"]["VALUE"]["V"] = 3
            await driver["Gadget"]["VALUE"].send_setVector()
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20,
                        what="keys rebuilt after the redis restart")
            await until(lambda: r.exists("indi_attributes:STATIC:Gadget"), timeout=20)
    # The INDI server gone: its devices leave the store.
    async def none_left() -> bool:
        return not await r.exists("indi_devices")

    driver2 = make_gadget()
    server2 = IPyServer(driver2, host="127.0.0.1", port=port, handle_signals=False)
    async with bridge(inditoredis_async(indi_server("127.0.0.1", port), rhost,
                                        blob_folder=tmp_path)):
        async with running(server2):
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20)
        await until(none_left, timeout=20, what="devices removed with the server gone")
        async with running(IPyServer(make_gadget(), host="127.0.0.1", port=port,
                                     handle_signals=False)):
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20,
                        what="devices back with the server")
    await r.aclose()
