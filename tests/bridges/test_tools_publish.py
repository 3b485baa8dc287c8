"""indiredis.tools' remaining public helpers against a real redis-server, our server and the
bridge: what each publishes on the to-INDI channel, that it reaches the driver through the
bridge, and what each reads back from the store (indiredis 0.7's ``tools`` names)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import redis
from redishelpers import stored
from redishelpers import until

import indipydriver as ipd
from indipycore.protocol import EnableBLOB
from indipycore.protocol import GetProperties
from indipycore.protocol import parse_element
from indiredis import redis_server
from indiredis import tools

TOOL = "Tool"


class ToolDriver(ipd.IPyDriver):
    """Device Tool: MODE (OneOfMany switch), UPLOAD (writable BLOB), N (read-only number).
    Every new*Vector it gets is kept in ``driverdata["got"]`` and answered Ok."""

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, ipd.newSwitchVector | ipd.newBLOBVector):
            self.driverdata["got"].append((event.vectorname, dict(event)))
            if isinstance(event, ipd.newSwitchVector):
                for name, value in event.items():
                    event.vector[name] = value
            event.vector.state = "Ok"
            await event.vector.send_setVector()


def make_tool() -> ToolDriver:
    device = ipd.Device(TOOL, [
        ipd.SwitchVector("MODE", "Mode", "Main", "rw", "OneOfMany", "Idle",
                     [ipd.SwitchMember("SLOW", "Slow", "On"), ipd.SwitchMember("FAST", "Fast", "Off")]),
        ipd.BLOBVector("UPLOAD", "Upload", "Main", "wo", "Idle", [ipd.BLOBMember("FILE", "File")]),
        ipd.NumberVector("N", "N", "Main", "ro", "Ok", [ipd.NumberMember("X", "X", "%.1f", 0, 10, 0, 4)]),
    ])
    return ToolDriver(device, got=[])


async def test_tools_read_members_and_messages_and_publish_switches_blobs_and_requests(
    redis_port: int, tmp_path: Path,
) -> None:
    """property_elements gives every member's hash in definition order; last_message the
    device's newest message, or the newest one without a device; newswitchvector and
    newblobvector reach the driver through the bridge; getProperties and enableblob publish
    the request for the server (checked on the channel), and a wrong mode publishes nothing."""
    driver = make_tool()
    rhost = redis_server("127.0.0.1", redis_port)
    conn = redis.Redis(host="127.0.0.1", port=redis_port)
    pubsub = conn.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(rhost.to_indi_channel)
    on_channel: list[bytes] = []

    def channel() -> list[bytes]:
        while (message := pubsub.get_message(timeout=0.01)) is not None:
            on_channel.append(message["data"])
        return on_channel

    try:
        async with stored(driver, redis_port, f"indi_attributes:N:{TOOL}",
                          blob_folder=tmp_path) as r:
            rconn, why = tools.open_redis(rhost)
            assert rconn is not None, why
            members = await asyncio.to_thread(tools.property_elements, rconn, rhost, "MODE",
                                              TOOL)
            assert [(m["name"], m["label"], m["value"]) for m in members] == [
                ("SLOW", "Slow", "On"), ("FAST", "Fast", "Off")]
            assert await asyncio.to_thread(tools.property_elements, rconn, rhost, "NOPE",
                                           TOOL) == []

            await driver[TOOL].send_message("tool ready")
            await driver.send_message("site message")  # no device

            async def said(device: str, text: str) -> str | None:
                last = await asyncio.to_thread(tools.last_message, rconn, rhost, device)
                return last if last is not None and last.endswith(text) else None

            assert (await until(lambda: said(TOOL, "tool ready"))).split(" ", 1)[1] == "tool ready"
            await until(lambda: said("", "site message"), what="the device-less message")
            assert await asyncio.to_thread(tools.last_message, rconn, rhost, "Nobody") is None

            assert await asyncio.to_thread(tools.newswitchvector, rconn, rhost, "MODE", TOOL,
                                           {"FAST": "On"}) is not None
            await until(lambda: ("MODE", {"FAST": "On"}) in driver.driverdata["got"],
                        what="FAST=On at the driver")
            assert await asyncio.to_thread(tools.newblobvector, rconn, rhost, "UPLOAD", TOOL,
                                           {"FILE": (b"\x00payload\xff", ".bin")}) is not None
            await until(lambda: ("UPLOAD", {"FILE": b"\x00payload\xff"})
                        in driver.driverdata["got"], what="the BLOB at the driver")
            # A kind that does not match the vector is refused, nothing sent.
            assert await asyncio.to_thread(tools.newswitchvector, rconn, rhost, "N", TOOL,
                                           {"X": "On"}) is None

            assert await asyncio.to_thread(tools.getProperties, rconn, rhost, "MODE", TOOL)
            assert await asyncio.to_thread(tools.enableblob, rconn, rhost, "UPLOAD", TOOL,
                                           "Sometimes") is None
            assert await asyncio.to_thread(tools.enableblob, rconn, rhost, "UPLOAD", TOOL,
                                           "Never")

            def requests() -> list[object]:
                return [e for e in map(parse_element, channel())
                        if isinstance(e, GetProperties | EnableBLOB)]

            await until(lambda: len(requests()) >= 2, what="the two requests on the channel")
            request, blobs = requests()
            assert request == GetProperties(version="1.7", device=TOOL, name="MODE")
            assert isinstance(blobs, EnableBLOB)
            assert (blobs.device, blobs.name, blobs.value.value) == (TOOL, "UPLOAD", "Never")
            assert await r.exists(f"indi_attributes:MODE:{TOOL}")
            rconn.close()
    finally:
        pubsub.close()
        conn.close()
