"""``MqttSession`` (paho-mqtt driven by asyncio, indiredis/mqttsession.py) against a real
mosquitto: a wake-up reads every packet waiting and acknowledges them before it returns (else
the broker's window of 20 unacknowledged QoS 1 messages would stall the stream), the inbound
queue is bounded, and every way a connection fails is an ``MqttError`` in bounded time."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import socket
import sys
import termios
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from indiredis.mqttsession import MqttError
from indiredis.mqttsession import MqttSession


def publish_from_a_thread(port: int, topic: str, count: int, qos: int) -> threading.Thread:
    """paho's own threaded client publishing ``count`` numbered messages (an independent peer)."""
    def run() -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{topic}")
        client.connect("127.0.0.1", port)
        client.loop_start()
        infos = [client.publish(topic, str(i).encode(), qos=qos) for i in range(count)]
        for info in infos:
            info.wait_for_publish(10)
        client.disconnect()
        client.loop_stop()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def hold_loop_until_received(session: MqttSession, size: int) -> None:
    """Block the event loop (as a busy bridge would) until the session's socket holds at
    least ``size`` unread bytes: the messages pile up there, unread and unacknowledged."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = int.from_bytes(fcntl.ioctl(session.fileno(), termios.FIONREAD, b"\0\0\0\0"),
                              sys.byteorder)
        if held >= size:
            return
        time.sleep(0.01)  # (a plain function: the loop is held on purpose)
    pytest.fail(f"the broker did not send {size} bytes in 10 s (held {held})")


async def take(session: MqttSession, count: int) -> list[list[bytes]]:
    """``count`` messages, as the batches each wake-up handed on."""
    batches: list[list[bytes]] = []
    got = 0
    async with asyncio.timeout(20):
        while got < count:
            await session.arrival()
            batch = [session.inbox.popleft()[1] for _ in range(len(session.inbox))]
            batches.append(batch)
            got += len(batch)
    return batches


async def test_a_backlog_is_read_in_few_wakes_in_order_and_every_message_acknowledged(
        mosquitto_factory: Any) -> None:
    """QoS 1 messages that piled up while the loop was busy are read in one wake-up, and all 600
    come in order; mosquitto sends at most 20 unacknowledged, so all 600 arriving proves the
    PUBACKs went."""
    broker = mosquitto_factory()
    async with MqttSession("127.0.0.1", broker.port, identifier="reader") as session:
        await session.subscribe("t/burst", qos=1)
        publisher = publish_from_a_thread(broker.port, "t/burst", 600, qos=1)
        # The first 20 QoS 1 PUBLISH packets (header 2, topic 2 + 7, id 2, payload "0".."19"),
        # all mosquitto sends before an acknowledgement (its max_inflight_messages, 20).
        hold_loop_until_received(session, sum(13 + len(str(i)) for i in range(20)))
        batches = await take(session, 600)
        await asyncio.to_thread(publisher.join, 20)
    received = [int(m) for batch in batches for m in batch]
    assert received == list(range(600))
    # Everything the socket held when the loop was free again, read in its first wake-up.
    assert len(batches[0]) >= 20, f"the first wake-up read {len(batches[0])} of 20 waiting"


async def test_past_the_inbound_bound_the_newest_are_dropped_and_logged(
        mosquitto_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    """``max_incoming``: what arrives while that many wait is dropped with a warning; the
    oldest stay, in order, and the session goes on."""
    broker = mosquitto_factory()
    async with MqttSession("127.0.0.1", broker.port, identifier="small",
                           max_incoming=5) as session:
        await session.subscribe("t/flood", qos=0)
        publisher = publish_from_a_thread(broker.port, "t/flood", 50, qos=0)
        # All 50 QoS 0 PUBLISH packets (header 2, topic 2 + 7, payload "0".."49") wait unread.
        hold_loop_until_received(session, sum(11 + len(str(i)) for i in range(50)))
        await asyncio.to_thread(publisher.join, 20)
        with caplog.at_level(logging.WARNING, logger="indiredis.mqttsession"):
            kept = await take(session, 5)
        assert [int(m) for batch in kept for m in batch] == [0, 1, 2, 3, 4]
        assert "inbound queue full (5 messages)" in caplog.text
        # Still served: a message sent now arrives.
        await session.publish("t/flood", b"after", qos=1)
        assert (await take(session, 1))[0] == [b"after"]


async def test_a_lost_broker_fails_the_reader_and_the_publish_waiting_for_its_ack(
        mosquitto_factory: Any) -> None:
    """The broker killed mid-session: a QoS 1 publish waiting for its PUBACK and the reader
    both get an MqttError at once, not at the timeout."""
    broker = mosquitto_factory()
    async with asyncio.timeout(8):
        session = await MqttSession("127.0.0.1", broker.port, identifier="lost",
                                    timeout=30).__aenter__()
        try:
            await session.subscribe("t/x", qos=1)
            assert broker.process is not None
            broker.process.send_signal(19)  # SIGSTOP: the PUBACK never comes
            waiting = asyncio.create_task(session.publish("t/x", b"1", qos=1))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            broker.process.kill()  # dies stopped: its end of the connection closes unanswered
            broker.stop()
            with pytest.raises(MqttError):
                await session.arrival()
            with pytest.raises(MqttError):
                await waiting
        finally:
            await session.__aexit__(None, None, None)


async def test_nothing_listening_and_a_listener_that_never_answers_are_mqtt_errors() -> None:
    """A refused connect and a CONNECT never answered (bounded by ``timeout``) are both an
    MqttError; neither hangs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(MqttError, match="cannot connect"):
        async with MqttSession("127.0.0.1", closed, identifier="none", timeout=2):
            pass

    served = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # takes CONNECT, answers nothing, until the client gives up
        finally:
            writer.close()  # (left open, its transport would outlive the test's loop)
            served.set()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.monotonic()
    with pytest.raises(MqttError, match="did not answer CONNECT"):
        async with MqttSession("127.0.0.1", port, identifier="mute", timeout=0.5):
            pass
    assert time.monotonic() - started < 5
    async with asyncio.timeout(5):
        await served.wait()  # the session closed its socket: the mute end saw it go
    server.close()
    await server.wait_closed()
