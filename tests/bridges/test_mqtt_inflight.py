"""How ``MqttLink`` publishes what it queued: in order, several messages unacknowledged at once
(bounded by count and by bytes), errors of one not stopping the rest; and ``send``'s
back-pressure. The broker is a fake here (what ``_send`` calls is ``publish``); the real
mosquitto run is in test_mqtt.py (a burst of thousands of values)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from typing import cast

import pytest

from indiredis import mqtt_server
from indiredis.mqttlink import IN_FLIGHT
from indiredis.mqttlink import IN_FLIGHT_BYTES
from indiredis.mqttlink import MqttLink
from indiredis.mqttsession import MqttError
from indiredis.mqttsession import MqttSession


class FakeBroker:
    """An `MqttSession` whose publishes complete when the test acknowledges them."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.acks: dict[str, asyncio.Future[None]] = {}
        self.cancelled: list[str] = []

    async def publish(self, topic: str, payload: bytes | bytearray, qos: int = 0,
                      retain: bool = False) -> None:
        self.started.append(topic)
        ack = self.acks[topic] = asyncio.get_running_loop().create_future()
        try:
            await ack
        except asyncio.CancelledError:
            self.cancelled.append(topic)
            raise

    def ack(self, topic: str, error: BaseException | None = None) -> None:
        if error is None:
            self.acks[topic].set_result(None)
        else:
            self.acks[topic].set_exception(error)

    def unacknowledged(self) -> list[str]:
        return [t for t in self.started if not self.acks[t].done()]


async def _nothing(topic: str, payload: bytes) -> None:
    return None


def make_link(max_queue: int = 1000) -> MqttLink:
    return MqttLink(mqtt_server("127.0.0.1", 1), "test", [], _nothing, max_queue=max_queue)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_publishes_overlap_up_to_the_in_flight_limit_in_queued_order() -> None:
    """With 20 small messages queued, IN_FLIGHT are published before any acknowledgement, in
    the order queued; each acknowledgement lets the next one go, and all go in order."""
    link, broker = make_link(), FakeBroker()
    topics = [f"t/{i}" for i in range(20)]
    for topic in topics:
        assert link.publish(topic, b"x")
    sender = asyncio.create_task(link._send(cast(MqttSession, broker)))
    await settle()
    assert broker.started == topics[:IN_FLIGHT]
    broker.ack("t/0")
    await settle()
    assert broker.started == topics[:IN_FLIGHT + 1]
    while len(broker.started) < len(topics) or broker.unacknowledged():
        for topic in broker.unacknowledged():
            broker.ack(topic)
        await settle()
    assert broker.started == topics
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)


async def test_payload_bytes_in_flight_are_bounded_and_a_larger_message_goes_alone() -> None:
    """Messages whose payloads together pass IN_FLIGHT_BYTES wait for room; one larger than
    the bound is still sent, alone, once nothing else is in flight."""
    link, broker = make_link(), FakeBroker()
    third = IN_FLIGHT_BYTES // 3 + 1
    link.publish("a", bytes(third))
    link.publish("b", bytes(third))
    link.publish("c", bytes(third))  # a + b + c > IN_FLIGHT_BYTES
    link.publish("huge", bytes(IN_FLIGHT_BYTES + 1))
    sender = asyncio.create_task(link._send(cast(MqttSession, broker)))
    await settle()
    assert broker.started == ["a", "b"]
    broker.ack("a")
    await settle()
    assert broker.started == ["a", "b", "c"]
    broker.ack("b")
    await settle()
    assert broker.started == ["a", "b", "c"]  # huge waits for c
    broker.ack("c")
    await settle()
    assert broker.started == ["a", "b", "c", "huge"]
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)


async def test_a_publish_that_fails_is_logged_and_the_others_go_on(
        caplog: pytest.LogCaptureFixture) -> None:
    """A message lost with the connection (MqttError) is logged at INFO; the messages after
    it are still published."""
    link, broker = make_link(), FakeBroker()
    for topic in ("t/0", "t/1", "t/2"):
        link.publish(topic, b"x")
    sender = asyncio.create_task(link._send(cast(MqttSession, broker)))
    await settle()
    with caplog.at_level(logging.INFO, logger="indiredis.mqttlink"):
        broker.ack("t/0", MqttError("gone"))
        broker.ack("t/1")
        broker.ack("t/2")
        await settle()
    assert "a message to t/0 lost" in caplog.text
    assert broker.started == ["t/0", "t/1", "t/2"] and not broker.unacknowledged()
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)


async def test_stopping_the_sender_cancels_what_is_in_flight() -> None:
    """When the session ends, the publishes still waiting for the broker are cancelled and
    waited for: none is left running after the sender."""
    link, broker = make_link(), FakeBroker()
    for topic in ("t/0", "t/1"):
        link.publish(topic, b"x")
    sender = asyncio.create_task(link._send(cast(MqttSession, broker)))
    await settle()
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
    assert sorted(broker.cancelled) == ["t/0", "t/1"]


async def test_send_drops_the_newest_at_once_when_the_queue_is_full_and_the_link_is_down(
        caplog: pytest.LogCaptureFixture) -> None:
    """Not connected, ``send`` does not wait for room (nothing would make any): past
    ``max_queue`` the newest message is dropped and logged, as ``publish`` does."""
    link = make_link(max_queue=2)
    with caplog.at_level(logging.WARNING, logger="indiredis.mqttlink"):
        results = [await asyncio.wait_for(link.send("t", b"x"), 1) for _ in range(3)]
    assert results == [True, True, False]
    assert "queue of test full" in caplog.text


async def test_send_waits_for_room_while_connected_then_queues() -> None:
    """Connected, a full queue makes ``send`` wait until the sender takes a message; a lost
    connection ends the wait (the message is then dropped)."""
    link, broker = make_link(max_queue=1), FakeBroker()
    link.connected.set()
    link._lost_event.clear()
    assert await link.send("t/0", b"x")
    waiting = asyncio.create_task(link.send("t/1", b"x"))
    await settle()
    assert not waiting.done()
    sender = asyncio.create_task(link._send(cast(MqttSession, broker)))
    assert await asyncio.wait_for(waiting, 1)
    await settle()
    assert broker.started == ["t/0", "t/1"]
    stuck = [asyncio.create_task(link.send(f"u/{i}", b"x")) for i in range(IN_FLIGHT + 2)]
    await settle()
    assert any(not task.done() for task in stuck)
    link.connected.clear()
    link._lost_event.set()
    outcomes: list[Any] = await asyncio.wait_for(asyncio.gather(*stuck), 1)
    assert False in outcomes
    sender.cancel()
    await asyncio.gather(sender, return_exceptions=True)
