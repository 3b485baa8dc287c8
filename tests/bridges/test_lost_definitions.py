"""A definition lost on its way to mqtttoredis is asked for again, on a real mosquitto and redis.

In a fleet's start the sites all answer the central side's getProperties at once, and an
``mqtttoredis`` whose inbound queue overflowed lost some of their definitions (the session discards
past its queue): 2-11 of 3,000 devices were then never stored, their values dropped as "not
defined" for as long as the bridge ran. Here a site's answer to the general getProperties is
lost on purpose (it does not answer that one), and it keeps sending values."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from redishelpers import bridge
from redishelpers import client
from redishelpers import until

from indipycore.protocol import Perm
from indipycore.protocol import State
from indipycore.protocol import events as ev
from indipycore.protocol import serialise
from indiredis import mqtt_server
from indiredis import mqtttoredis_async
from indiredis import redis_server
from indiredis.mqttlink import MqttLink
from indiredis.topics import Topics

DEVICE = "Lonely"


def definition() -> bytes:
    return serialise(ev.DefNumberVector(
        DEVICE, "READING", State.OK, Perm.RO, (ev.Number("VALUE", "0", "Value", "%.1f", "0",
                                                         "100", "0"),)))


def reading(value: int) -> bytes:
    return serialise(ev.SetNumberVector(DEVICE, "READING", (ev.Number("VALUE", str(value)),),
                                        State.OK))


async def test_a_device_whose_values_arrive_undefined_is_asked_for_by_name(
        mosquitto_factory: Any, redis_port: int, tmp_path: Path) -> None:
    """The site never answers the getProperties for everything (its answer lost), only one
    naming its device: mqtttoredis, seeing its values arrive undefined, asks for it by name
    (``<getProperties device="Lonely">``, not everything again), and from then on the device
    is in redis with its newest value. Before, it was never stored."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    topics = Topics.of(mqtt)
    out = f"{topics.from_indi}/lonely"
    asked: list[bytes] = []
    link: MqttLink

    async def from_broker(topic: str, payload: bytes) -> None:
        if payload.startswith(b"<getProperties"):
            asked.append(payload)
            if re.search(rb'device="Lonely"', payload):
                await link.send(out, definition())

    link = MqttLink(mqtt, "lonely", topics.site_subscriptions(()), from_broker,
                    status_topic=f"{topics.status}/lonely")
    r = client(redis_port)
    values = 0

    async def publish_values() -> None:
        nonlocal values
        while True:
            await link.connected.wait()
            values += 1
            link.publish(out, reading(values))
            await asyncio.sleep(0.2)

    try:
        async with bridge(mqtttoredis_async("central", mqtt,
                                            redis_server("127.0.0.1", redis_port),
                                            blob_folder=tmp_path / "blobs")), \
                bridge(link.run()), bridge(publish_values()):
            await until(lambda: asked, timeout=20, what="the general getProperties")
            assert b"device=" not in asked[0]

            async def stored() -> bool:
                value = await r.hget("indi_elementattributes:VALUE:READING:Lonely",
                                     "value")
                return value is not None and float(value) >= 1

            await until(stored, timeout=30, what="the device asked for and its value stored")
            assert await r.sismember("indi_devices", DEVICE)
            named = [p for p in asked if b"device=" in p]
            assert named and all(b'device="Lonely"' in p for p in named), asked
            assert values > 1
    finally:
        await r.aclose()


def test_undefined_vectors_are_asked_for_every_few_seconds_and_forgotten_when_quiet() -> None:
    """A vector seen undefined is due `every` s after it was first seen, and again `every` s
    after each ask while its values keep coming; one whose values stopped, or that is now
    defined, is forgotten; a device's two vectors make one ask."""
    from indiredis.undefined import Undefined

    undefined = Undefined(every=5.0)
    undefined.saw("A", "x", 0.0)
    undefined.saw("A", "y", 1.0)
    undefined.saw("B", "x", 0.0)
    assert undefined.due(4.0, lambda device, name: False) == []
    undefined.saw("A", "x", 4.5)
    undefined.saw("A", "y", 4.5)
    assert undefined.due(6.0, lambda device, name: False) == ["A"]  # B quiet since 0: gone
    undefined.saw("A", "x", 9.0)
    assert undefined.due(9.5, lambda device, name: False) == []  # asked at 6: due at 11
    assert undefined.due(11.0, lambda device, name: name == "y") == ["A"]
    assert undefined.due(17.0, lambda device, name: False) == [] and not undefined


async def test_many_devices_undefined_at_once_are_asked_for_by_name_a_few_a_round(
        tmp_path: Path) -> None:
    """Past `ASK_AT_ONCE` devices due together, `ASK_AT_ONCE` are asked for by name and the
    rest on the next round; never everything at once (every site's definitions together:
    the answer that overflowed the inbound queue in the first place); quiet ones are not."""
    from indiredis.redisside import RedisSide
    from indiredis.undefined import ASK_AT_ONCE

    sent: list[bytes] = []
    everything: list[bool] = []

    async def resync() -> None:
        everything.append(True)

    side = RedisSide(redis_server("127.0.0.1", 1), tmp_path, None,
                     lambda data, device: sent.append(data), resync)
    devices = [f"D{k:02d}" for k in range(ASK_AT_ONCE + 5)]
    try:
        for device in devices:
            side.undefined.saw(device, "v", 0.0)
        await side.ask_undefined(100.0)  # quiet since 0: forgotten, none asked
        assert not sent
        for when in (100.0, 106.0):
            for device in devices:
                side.undefined.saw(device, "v", when)
        await side.ask_undefined(106.0)
        await side.ask_undefined(107.0)
        assert not everything
        assert sent == [serialise(ev.GetProperties(version="1.7", device=device))
                        for device in devices]
    finally:
        await side.close()
