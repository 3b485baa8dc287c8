"""More of the redis store against real peers: driverstoredis running indilib's simulator with
no INDI server of ours to start, a redis with a password, and the getProperties and messages
keys of the documented schema."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from peers import connect
from redis.exceptions import AuthenticationError
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running

from indipyserver import IPyServer
from indiredis import driverstoredis_async
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import redis_server

TEL = "Telescope Simulator"


async def test_driverstoredis_runs_the_simulator_itself_and_obeys_to_indi(
        redis_port: int, tmp_path: Path, tmp_home: Path) -> None:
    """driverstoredis given indi_simulator_telescope (an executable, no INDI server running)
    stores its definitions, and a to_indi connect reaches the driver: Busy, then Ok, and the
    driver's coordinates appear."""
    r = client(redis_port)
    rhost = redis_server("127.0.0.1", redis_port)
    async with bridge(driverstoredis_async(["indi_simulator_telescope"], rhost,
                                           blob_folder=tmp_path / "blobs")):
        attrs = f"indi_attributes:CONNECTION:{TEL}"
        await until(lambda: r.exists(attrs), timeout=20, what="the telescope defined")
        assert await r.smembers("indi_devices") == {TEL}
        await r.publish("to_indi", connect(TEL))

        async def ok() -> bool:
            return bool(await r.hget(attrs, "state") == "Ok")

        await until(ok, what="CONNECTION Ok")
        states = [json.loads(fields["datastring"])["state"]
                  for _, fields in await r.xrange(f"indi_logdata:attributes:CONNECTION:{TEL}")]
        assert "Busy" in states
        await until(lambda: r.exists(f"indi_elementattributes:RA:EQUATORIAL_EOD_COORD:{TEL}"),
                    what="the coordinates after connecting")
    await r.aclose()


async def test_a_redis_with_a_password_is_used_with_it_and_refused_without(
        redis_factory: Any, tmp_path: Path) -> None:
    """redis with requirepass: the bridge given the password keeps the store; given a wrong
    one it stops at once with redis's AuthenticationError (not retried for ever)."""
    served = redis_factory(password="pa55word")
    r = aioredis.Redis(host="127.0.0.1", port=served.port, password="pa55word",
                       decode_responses=True)
    async with running(IPyServer(make_gadget(), host="127.0.0.1", port=0,
                                 handle_signals=False)) as server:
        indi = indi_server("127.0.0.1", server.port)
        good = redis_server("127.0.0.1", served.port, password="pa55word")
        async with bridge(inditoredis_async(indi, good, blob_folder=tmp_path)):
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), what="stored")
        bad = redis_server("127.0.0.1", served.port, password="wrong")
        with pytest.raises(AuthenticationError):  # within the timeout below, not retried
            async with asyncio.timeout(10):
                await inditoredis_async(indi, bad, blob_folder=tmp_path)
    await r.aclose()


async def test_get_properties_and_message_keys_are_the_documented_schema(
        redis_port: int, tmp_path: Path) -> None:
    """getProperties published on to_indi stamps getProperties, getProperties:device:<d> and
    getProperties:property:<p>:<d>; a device-less message goes to messages, a device's to
    devicemessages:<d>, each "<timestamp> <text>" and logged."""
    driver = make_gadget()
    r = client(redis_port)
    rhost = redis_server("127.0.0.1", redis_port)
    server = IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)
    async with running(server), bridge(inditoredis_async(
            indi_server("127.0.0.1", server.port), rhost, blob_folder=tmp_path)):
        await until(lambda: r.exists("indi_attributes:VALUE:Gadget"))
        for xml in ('<getProperties version="1.7"/>',
                    '<getProperties version="1.7" device="Gadget"/>',
                    '<getProperties version="1.7" device="Gadget" name="VALUE"/>'):
            await r.publish("to_indi", xml)
        for key in ("indi_getProperties", "indi_getProperties:device:Gadget",
                    "indi_getProperties:property:VALUE:Gadget"):
            stamp = await until(lambda key=key: r.get(key), what=key)
            assert stamp.startswith("20")
        await driver.send_message("site-wide news")
        await driver["Gadget"].send_message("gadget news")
        text = await until(lambda: r.get("indi_messages"), what="the device-less message")
        stamp, _, said = text.partition(" ")
        assert said == "site-wide news" and stamp.startswith("20")
        text = await until(lambda: r.get("indi_devicemessages:Gadget"), what="device message")
        assert text.endswith(" gadget news")
        logged = await r.xrange("indi_logdata:messages")
        assert json.loads(logged[-1][1]["datastring"]).endswith(" site-wide news")
        assert await r.xlen("indi_logdata:devicemessages:Gadget") >= 1
    await r.aclose()
