"""The bridges reconnect with the policy they are given (``retry=``): the INDI link, the MQTT
link, the redis side and the web client's redis source each retry a real refused connection
after the delays the injected backoff gave, and count from 1 again after a success (real
redis-server and mosquitto, stopped and started again on their port)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import retrykit as rk
from brokers import Served
from waiting import until

from indipycore.retrypolicy import Retry
from indiredis import mqtt_server
from indiredis import redis_server
from indiredis.indilink import IndiLink
from indiredis.mqttlink import MqttLink
from indiredis.redisside import RedisSide
from indiredis.websource import RedisSource


async def _nothing(*args: object) -> None:
    return None


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_the_indi_link_reconnects_with_its_injected_retry(
        free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    backoff, slept = rk.recorded(monkeypatch, 0.071, 0.072, 0.073)
    link = IndiLink("127.0.0.1", free_port, _nothing, retry=Retry(backoff))
    task = asyncio.create_task(link.run())
    try:
        await until(lambda: len(backoff.asked) >= 3, what="three refusals")
        async with rk.dropping_server(free_port) as received:
            await until(lambda: rk.counted_then_reset(backoff.asked, 3), what="a reset")
        assert received[0].startswith(b"<getProperties")
    finally:
        await _stop(task)
    assert rk.slept_in_order(slept, [0.071, 0.072, 0.073])


async def test_the_mqtt_link_reconnects_with_its_injected_retry(
        mosquitto_factory: Callable[..., Served], monkeypatch: pytest.MonkeyPatch) -> None:
    broker = mosquitto_factory()
    broker.stop()
    backoff, slept = rk.recorded(monkeypatch, 0.081, 0.082)
    link = MqttLink(mqtt_server("127.0.0.1", broker.port), "retrytest", ["to_indi/#"],
                    _nothing, retry=Retry(backoff))
    task = asyncio.create_task(link.run())
    try:
        await until(lambda: len(backoff.asked) >= 2, what="two refusals")
        broker.start()
        await until(link.connected.is_set, timeout=15, what="connected to the broker")
        broker.stop()
        await until(lambda: rk.counted_then_reset(backoff.asked, 2), what="a reset")
    finally:
        await _stop(task)
    assert rk.slept_in_order(slept, [0.081, 0.082])


async def test_the_redis_side_retries_writes_with_its_injected_retry(
        redis_factory: Callable[..., Served], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A store write while redis is down waits the backoff's delays; the write that works
    resets the count, so the next outage starts from the first delay."""
    redis = redis_factory()
    redis.stop()
    backoff, slept = rk.recorded(monkeypatch, 0.091, 0.092)
    side = RedisSide(redis_server("127.0.0.1", redis.port), tmp_path, None,
                     lambda data, device: None, retry=Retry(backoff))
    try:
        clearing = asyncio.create_task(side.execute_when_up(side.clear))
        await until(lambda: len(backoff.asked) >= 2, what="two refused writes")
        redis.start()
        async with asyncio.timeout(15):
            await clearing
        redis.stop()
        clearing = asyncio.create_task(side.execute_when_up(side.clear))
        await until(lambda: rk.counted_then_reset(backoff.asked, 2), what="a reset")
        await _stop(clearing)
    finally:
        await side.redis.aclose()
    assert rk.slept_in_order(slept, [0.091, 0.092])


async def test_the_redis_source_rereads_the_store_with_its_injected_retry(
        redis_factory: Callable[..., Served], monkeypatch: pytest.MonkeyPatch) -> None:
    redis = redis_factory()
    redis.stop()
    backoff, slept = rk.recorded(monkeypatch, 0.101, 0.102)
    async with RedisSource(redis_server("127.0.0.1", redis.port),
                           retry=Retry(backoff)) as source:
        await until(lambda: len(backoff.asked) >= 2, what="two refusals")
        redis.start()
        await until(lambda: source.connected, timeout=15, what="the store read")
        redis.stop()
        await until(lambda: rk.counted_then_reset(backoff.asked, 2), what="a reset")
    assert rk.slept_in_order(slept, [0.101, 0.102])
