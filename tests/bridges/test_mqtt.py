"""The MQTT bridges on a real mosquitto: two observatory sites (driverstomqtt running indilib's
telescope simulator, inditomqtt in front of our server), mqtttoport serving indi_getprop and
indi_setprop, mqtttoredis keeping a real redis."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
import ssl
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from brokers import Served
from brokers import make_certificates
from brokers import signed_certificate
from peers import enable_blob
from peers import free_port
from peers import getprop
from peers import setprop
from reaper import Reaper
from redishelpers import bridge
from redishelpers import client
from redishelpers import until
from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob

from indipycore.protocol import DefNumberVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import PingRequest
from indipycore.protocol import State
from indipycore.protocol import serialise
from indipyserver import IPyServer
from indiredis import MqttRefused
from indiredis import driverstomqtt_async
from indiredis import indi_server
from indiredis import inditomqtt_async
from indiredis import mqtt_server
from indiredis import mqtttoport_async
from indiredis import mqtttoredis_async
from indiredis import redis_server
from indiredis.topics import OFFLINE
from indiredis.topics import ONLINE

TEL = "Telescope Simulator"


async def getprop_async(port: int, *specs: str, timeout: float = 3.0) -> dict[str, str]:
    return dict(await asyncio.to_thread(getprop, port, *specs, timeout=timeout))


class Network:
    """Two sites, a port and a redis client side on one broker."""

    def __init__(self, broker: Served, redis_port: int, tmp: Path) -> None:
        self.broker, self.redis_port, self.tmp = broker, redis_port, tmp
        self.mqtt = mqtt_server("127.0.0.1", broker.port)
        self.port = free_port()
        self.gadget = make_gadget()


@pytest.fixture
async def network(mosquitto_factory: Any, redis_port: int, tmp_path: Path,
                  tmp_home: Path) -> AsyncIterator[Network]:
    net = Network(mosquitto_factory(), redis_port, tmp_path)
    server = IPyServer(net.gadget, host="127.0.0.1", port=0, handle_signals=False)
    async with (running(server),
                bridge(driverstomqtt_async(["indi_simulator_telescope"], "siteA", net.mqtt)),
                bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB",
                                        net.mqtt)),
                bridge(mqtttoport_async("port1", net.mqtt, port=net.port, host="127.0.0.1")),
                bridge(mqtttoredis_async("web1", net.mqtt, redis_server("127.0.0.1", redis_port),
                                         blob_folder=tmp_path / "blobs"))):
        yield net


async def test_indi_clients_through_mqtttoport_see_both_sites_and_set_the_right_one(
        network: Network) -> None:
    """indi_getprop through mqtttoport lists the telescope (site A) and the gadget (site B);
    indi_setprop reaches the gadget's driver, and redis (mqtttoredis) sees both and the set."""
    async def both() -> dict[str, str] | None:
        values = await getprop_async(network.port, f"{TEL}.CONNECTION.*", "Gadget.VALUE.V")
        return values if f"{TEL}.CONNECTION.CONNECT" in values and "Gadget.VALUE.V" in values \
            else None

    values = await until(both, timeout=30, what="both sites through mqtttoport")
    assert float(values["Gadget.VALUE.V"]) == 1.0
    result = await asyncio.to_thread(setprop, network.port, "Gadget.VALUE.V=42")
    assert result.returncode == 0, result
    await until(lambda: _gadget_value(network, 42.0), what="the gadget's driver set")
    r = client(network.redis_port)
    await until(lambda: r.sismember("indi_devices", TEL), timeout=20)
    await until(lambda: _redis_value(r, "42"), timeout=20, what="the set in redis")
    assert await r.sismember("indi_devices", "Gadget")
    await r.aclose()


async def _gadget_value(network: Network, value: float) -> bool:
    # The echoing driver keeps the member's text as the client sent it.
    return float(network.gadget["Gadget"]["VALUE"]["V"]) == value


async def _redis_value(r: Any, value: str) -> bool:
    got = await r.hget("indi_elementattributes:V:VALUE:Gadget", "value")
    return got is not None and float(got) == float(value)


async def test_redis_to_indi_reaches_a_site_over_the_broker(network: Network) -> None:
    """A program's to_indi publish at the web server reaches site B's driver over MQTT."""
    r = client(network.redis_port)
    await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20)
    heard = await r.publish("to_indi", '<newNumberVector device="Gadget" name="VALUE">'
                    '<oneNumber name="V">17</oneNumber></newNumberVector>')
    assert heard == 1, "mqtttoredis listens on to_indi"
    await until(lambda: _gadget_value(network, 17.0), what="the driver got 17")
    await until(lambda: _redis_value(r, "17"), what="17 back in redis")
    await r.aclose()


async def test_a_killed_site_is_reported_gone_and_comes_back(mosquitto_factory: Any,
                                                              redis_port: int, tmp_path: Path,
                                                              reaper: Reaper) -> None:
    """A site that dies (its Last Will) has its devices removed from redis and from the INDI
    clients of mqtttoport; when it starts again they return."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    port = free_port()
    r = client(redis_port)
    server = IPyServer(make_gadget(), host="127.0.0.1", port=0, handle_signals=False)
    async with running(server), bridge(mqtttoredis_async(
            "web1", mqtt, redis_server("127.0.0.1", redis_port), blob_folder=tmp_path)), \
            bridge(mqtttoport_async("port1", mqtt, port=port, host="127.0.0.1")):
        site = await _start_site_process(server.port, broker.port, tmp_path, reaper)
        try:
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20)
            # mqtttoport hears the site on its own subscription, not when redis does
            await until(lambda: _has(port, "Gadget.VALUE.V"), timeout=20,
                        what="the site's device at mqtttoport's port")
            site.kill()  # no clean goodbye: the broker sends the Last Will
            await site.wait()
            reaper.release(site.pid)

            async def gone() -> bool:
                return not await r.exists("indi_attributes:VALUE:Gadget") and not (
                    await r.sismember("indi_devices", "Gadget"))

            await until(gone, timeout=40, what="the dead site's keys removed")
            # mqtttoport gets the Last Will on its own subscription: a moment later, maybe
            await until(lambda: _lacks(port, "Gadget.VALUE.V"), timeout=40,
                        what="the dead site's device removed from mqtttoport's port")
            site = await _start_site_process(server.port, broker.port, tmp_path, reaper)
            await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20,
                        what="the site back")
            await until(lambda: _has(port, "Gadget.VALUE.V"), timeout=20,
                        what="the site's device back at mqtttoport's port")
        finally:
            if site.returncode is None:
                site.kill()
                await site.wait()
                reaper.release(site.pid)
    await r.aclose()


async def test_what_a_site_sent_before_its_offline_and_arrives_after_it_is_dropped(
        mosquitto_factory: Any, redis_port: int, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """A stopping site's last definitions (QoS 2) reach the client sides after its ``offline``
    (QoS 1): mosquitto passes a QoS 2 message on at its PUBREL, a round trip later. So
    mqtttoredis drops what a site sends between its ``offline`` and its next ``online``:
    the device its ``offline`` removed stays removed (it came back under load, and the
    shares test timed out waiting for it to go), and after ``online`` the site is stored
    again. The site here is a plain MQTT client answering the client side's getProperties."""
    caplog.set_level(logging.INFO, logger="indiredis")
    broker = mosquitto_factory()
    r = client(redis_port)
    definition = serialise(DefNumberVector("Late", "VALUE", State.OK, Perm.RO, (
        Number("V", "1", format="%g", min="0", max="9", step="1"),)))

    async def stored() -> bool:
        return bool(await r.sismember("indi_devices", "Late"))

    async def removed() -> bool:
        return not await stored()

    async with bridge(mqtttoredis_async("web1", mqtt_server("127.0.0.1", broker.port),
                                        redis_server("127.0.0.1", redis_port),
                                        blob_folder=tmp_path / "blobs")), \
            aiomqtt.Client("127.0.0.1", broker.port) as site:
        await site.subscribe("to_indi/#", qos=1)

        async def online_and_defined() -> None:
            """Say online; answer the getProperties it brings with the definition."""
            await site.publish("indi_status/late", ONLINE, qos=1, retain=True)
            async with asyncio.timeout(20):
                async for message in site.messages:
                    if b"getProperties" in bytes(message.payload):  # type: ignore[arg-type]
                        break
            await site.publish("from_indi/late", definition, qos=2)
            await until(stored, timeout=20, what="the site's device stored")

        await online_and_defined()
        await site.publish("indi_status/late", OFFLINE, qos=1, retain=True)
        await until(removed, timeout=20, what="the device removed on offline")
        await site.publish("from_indi/late", definition, qos=2)  # arrives after its offline
        await until(lambda: "what it sent before and still arrives is dropped" in caplog.text,
                    timeout=20, what="the late definition dropped")
        assert await removed()
        await online_and_defined()
    await r.aclose()


async def _start_site_process(indi_port: int, mqtt_port: int, tmp: Path,
                              reaper: Reaper) -> asyncio.subprocess.Process:
    import sys

    code = ("import indiredis, sys; indiredis.inditomqtt(indiredis.indi_server('127.0.0.1', "
            f"{indi_port}), 'siteB', indiredis.mqtt_server('127.0.0.1', {mqtt_port}))")
    site = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=tmp,
                                                start_new_session=True)
    reaper.watch(site.pid)
    return site


async def test_the_broker_restarted_mid_run_is_recovered(
        network: Network, caplog: pytest.LogCaptureFixture) -> None:
    """mosquitto going away: every bridge logs it and keeps retrying (none ends), and the
    client sides remove the sites' devices (mqtttoport's INDI clients no longer see them,
    redis no longer holds them) since nothing can be said of the sites; started again on its
    port, every bridge reconnects, the sites say online again and mqtttoport's clients and
    redis get new values again."""
    caplog.set_level(logging.WARNING, logger="indiredis")
    r = client(network.redis_port)
    await until(lambda: r.exists("indi_attributes:VALUE:Gadget"), timeout=20)
    await until(lambda: _has(network.port, "Gadget.VALUE.V"), timeout=20)
    network.broker.stop()

    async def gone() -> bool:
        return not await r.exists("indi_attributes:VALUE:Gadget")

    await until(gone, what="the sites' keys removed with the broker away")
    # mqtttoport finds the broker gone on its own connection, not when mqtttoredis does
    await until(lambda: _lacks(network.port, "Gadget.VALUE.V"), timeout=30,
                what="the sites' devices removed from mqtttoport's port")
    # each bridge logs the loss on its own connection, after removing what it must (a site's
    # Last Will may have removed its devices before the loss is seen)
    said = [f"{who}: MQTT broker 127.0.0.1:{network.broker.port}"
            for who in ("siteA", "siteB", "port1", "web1")]
    await until(lambda: all(line in caplog.text for line in said), timeout=30,
                what=lambda: f"{said} in the log: {caplog.text[-2000:]}")
    network.broker.start()
    result = None

    async def set_arrives() -> bool:
        """Set again (a set sent while a bridge reconnects is lost) and look for the value."""
        nonlocal result
        result = await asyncio.to_thread(setprop, network.port, "Gadget.VALUE.V=99",
                                         timeout=1.0)
        return await _gadget_value(network, 99.0)

    await until(set_arrives, timeout=30, what="a set after the broker restart")
    await until(lambda: _redis_value(r, "99"), timeout=30)
    await r.aclose()


async def test_subscribe_list_chooses_the_sites_a_client_side_sees(mosquitto_factory: Any,
                                                                    tmp_path: Path) -> None:
    """mqtttoport with subscribe_list=["siteB"] shows site B's devices only."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    port = free_port()
    a = IPyServer(make_gadget("Alpha"), host="127.0.0.1", port=0, handle_signals=False)
    b = IPyServer(make_gadget("Beta"), host="127.0.0.1", port=0, handle_signals=False)
    async with running(a), running(b), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", a.port), "siteA", mqtt)), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", b.port), "siteB", mqtt)), \
            bridge(mqtttoport_async("port1", mqtt, ["siteB"], port=port, host="127.0.0.1")):
        await until(lambda: _has(port, "Beta.VALUE.V"), timeout=20)
        values = await getprop_async(port, "*.VALUE.V", timeout=2)
        assert "Beta.VALUE.V" in values and "Alpha.VALUE.V" not in values


async def _has(port: int, spec: str) -> bool:
    # A short bound of its own: _lacks awaits an absence with it.
    return spec in await getprop_async(port, spec, timeout=1.5)


async def _lacks(port: int, spec: str) -> bool:
    """Our server answers getProperties from its cache at once: a spec not there in 1.5 s is
    not served."""
    return not await _has(port, spec)


async def test_garbage_on_topics_is_logged_dropped_and_the_bridges_go_on(
        network: Network, caplog: pytest.LogCaptureFixture) -> None:
    """Non-XML, an unfinished element, a driver's element on to_indi, an unknown status and a
    stray topic are logged and dropped; a new value for a device no site has is dropped by
    every site (each obeys only its own devices); the network still works after them."""
    caplog.set_level(logging.WARNING, logger="indiredis")
    await until(lambda: _has(network.port, "Gadget.VALUE.V"), timeout=30)
    async with aiomqtt.Client("127.0.0.1", network.broker.port) as mq:
        await mq.publish("to_indi/evil", b"\x00\xffgarbage", qos=1)
        await mq.publish("to_indi/evil", b"<newNumberVector device='Gadget'", qos=1)
        await mq.publish("to_indi/evil", b'<setNumberVector device="Gadget" name="VALUE">'
                         b'<oneNumber name="V">1</oneNumber></setNumberVector>', qos=1)
        await mq.publish("from_indi/evil", b"not xml", qos=1)
        await mq.publish("indi_status/evil", b"maybe", qos=1)
        await mq.publish("to_indi/evil", b'<newNumberVector device="Nobody" name="VALUE">'
                         b'<oneNumber name="V">3</oneNumber></newNumberVector>', qos=1)
    result = await asyncio.to_thread(setprop, network.port, "Gadget.VALUE.V=5")
    assert result.returncode == 0
    await until(lambda: _gadget_value(network, 5.0))
    # Each side logs what it drops as it reads its topics, in its own time: waited for.
    await until(lambda: "not an element a client sends" in caplog.text, 10, "the set refused")
    await until(lambda: "malformed" in caplog.text or "unfinished" in caplog.text, 10,
                "the garbage dropped")
    await until(lambda: "a status is online or offline" in caplog.text, 10,
                "the unknown status dropped")


async def gadget_through(site_mqtt: Any, port_mqtt: Any, what: str) -> IPyServer:
    """Our server with the gadget, site B (inditomqtt) on ``site_mqtt`` and mqtttoport on
    ``port_mqtt``: returns (all stopped again) once an INDI client of mqtttoport saw the
    gadget; the server, whose port is then free."""
    port = free_port()
    server = IPyServer(make_gadget(), host="127.0.0.1", port=0, handle_signals=False)
    async with running(server), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB", site_mqtt)), \
            bridge(mqtttoport_async("port1", port_mqtt, port=port, host="127.0.0.1")):
        await until(lambda: _has(port, "Gadget.VALUE.V"), timeout=30, what=what)
    return server


async def test_password_and_tls_listeners(mosquitto_factory: Any, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """A broker with passwords on TLS: a site and mqtttoport with the right password and the
    test CA (made with openssl) work; a wrong password is a clear MqttRefused."""
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, cert, key = make_certificates(certs)
    broker = mosquitto_factory(passwords={"site": "s3cret"}, tls=(ca, cert, key))
    context = ssl.create_default_context(cafile=str(ca))
    good = mqtt_server("127.0.0.1", broker.port, "site", "s3cret", tls=context)
    bad = mqtt_server("127.0.0.1", broker.port, "site", "wrong", tls=context)
    server = await gadget_through(good, good, "over TLS")
    with pytest.raises(MqttRefused, match="refused.*password"):
        async with asyncio.timeout(20):
            await inditomqtt_async(indi_server("127.0.0.1", server.port), "siteC", bad)
    plain = mqtt_server("127.0.0.1", broker.port, "site", "s3cret")
    # Plain TCP on a TLS listener never connects: retried, never refused as a password.
    await retried_not_refused(
        caplog, inditomqtt_async(indi_server("127.0.0.1", server.port), "siteD", plain), "siteD")


async def retried_not_refused(caplog: pytest.LogCaptureFixture,
                              bridging: Coroutine[Any, Any, None], mqtt_id: str) -> None:
    """Run ``bridging`` until it logs its first failed attempt as one to retry ("reconnecting");
    it must still be running then (a refusal would have ended it with MqttRefused)."""
    caplog.set_level(logging.WARNING, logger="indiredis")
    task = asyncio.ensure_future(bridging)
    try:
        await until(lambda: task.done() or any(
            r.getMessage().startswith(f"{mqtt_id}: MQTT broker") and "reconnecting" in r.getMessage()
            for r in caplog.records), timeout=30, what=f"{mqtt_id} failing an attempt")
        assert not task.done(), task.exception()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


SNOOPER = '''
import asyncio
import base64
import indipydriver as ipd


class Snooper(ipd.IPyDriver):
    async def hardware(self):
        await self.send_getProperties("Gadget", "VALUE")
        await asyncio.Event().wait()

    async def snoopevent(self, event):
        if event.devicename == "Gadget" and event.vectorname == "VALUE" and "V" in event:
            seen = self["Snooper"]["SEEN"]
            seen["S"] = float(event["V"])
            await seen.send_setVector(state="Ok")


seen = ipd.NumberVector("SEEN", "Seen", "Main", "ro", "Idle",
                        [ipd.NumberMember("S", "S", "%.2f", -1e9, 1e9, 0, 0)])
asyncio.run(Snooper(ipd.Device("Snooper", [seen])).asyncrun())
'''


def snooper_script(folder: Path) -> Path:
    """SNOOPER as an executable driver run by this interpreter."""
    import stat
    import sys

    script = folder / "snooper.py"
    script.write_text(f"#!{sys.executable}\n{SNOOPER}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def watch(broker_port: int, topic: str, into: list[bytes],
                subscribed: asyncio.Event | None = None) -> None:
    """Keep every payload published on ``topic`` (run it as a bridge); `subscribed` is set
    once the broker has the subscription (nothing published before it reaches us)."""
    async with aiomqtt.Client("127.0.0.1", broker_port) as mq:
        await mq.subscribe(topic)
        if subscribed is not None:
            subscribed.set()
        async for message in mq.messages:
            into.append(bytes(message.payload))  # type: ignore[arg-type]


async def set_at_b_seen_at_a(port: int) -> None:
    """indi_setprop Gadget (site B) through mqtttoport, then wait until the snooper (site A)
    reports the value it snooped."""
    result = await asyncio.to_thread(setprop, port, "Gadget.VALUE.V=33")
    assert result.returncode == 0

    async def seen() -> bool:
        values = await getprop_async(port, "Snooper.SEEN.S", timeout=1.5)
        return float(values.get("Snooper.SEEN.S", "0")) == 33.0

    await until(seen, timeout=30, what="site A's driver saw site B's value")


async def test_a_driver_at_one_site_snoops_a_device_at_another(mosquitto_factory: Any,
                                                               tmp_path: Path,
                                                               tmp_home: Path) -> None:
    """Site A (driverstomqtt) runs a driver snooping Gadget.VALUE, which lives at site B
    (inditomqtt before our server): a set at B reaches A's driver over snoop_control /
    snoop_data, and A does not publish B's device as its own."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    script = snooper_script(tmp_path)
    port = free_port()
    gadget = make_gadget()
    server = IPyServer(gadget, host="127.0.0.1", port=0, handle_signals=False)
    from_a: list[bytes] = []
    async with running(server), bridge(watch(broker.port, "from_indi/siteA", from_a)), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB", mqtt)), \
            bridge(driverstomqtt_async([str(script)], "siteA", mqtt)), \
            bridge(mqtttoport_async("port1", mqtt, port=port, host="127.0.0.1")):
        await until(lambda: _has(port, "Snooper.SEEN.S"), timeout=30, what="the snooper")
        await set_at_b_seen_at_a(port)
    assert any(b'device="Snooper"' in m for m in from_a)
    assert not any(b'device="Gadget"' in m for m in from_a), "B's device published as A's"


async def test_a_driver_behind_inditomqtt_snoops_a_device_at_another_site(
        mosquitto_factory: Any, indiserver_factory: Any, tmp_path: Path) -> None:
    """Site A is indilib's indiserver running a snooping driver, joined by inditomqtt with a
    snoop_port that indiserver chains as the remote of device Gadget; Gadget lives at site B
    (inditomqtt before our server). A set at B reaches A's driver, and A does not publish B's
    device as its own."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    script = snooper_script(tmp_path)
    port, indi_port, snoop_port = free_port(), free_port(), free_port()
    gadget = make_gadget()
    server = IPyServer(gadget, host="127.0.0.1", port=0, handle_signals=False)
    from_a: list[bytes] = []
    async with running(server), bridge(watch(broker.port, "from_indi/siteA", from_a)), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB", mqtt)), \
            bridge(mqtttoport_async("port1", mqtt, port=port, host="127.0.0.1")), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", indi_port), "siteA", mqtt,
                                    snoop_port=snoop_port)):
        await until(lambda: _has(port, "Gadget.VALUE.V"), timeout=30, what="site B")
        await until(lambda: _accepts(snoop_port), what="site A's snoop listener")
        indiserver_factory(str(script), f"Gadget@127.0.0.1:{snoop_port}", port=indi_port)
        await until(lambda: _has(port, "Snooper.SEEN.S"), timeout=30, what="the snooper")
        await set_at_b_seen_at_a(port)
    assert any(b'device="Snooper"' in m for m in from_a)
    assert not any(b'device="Gadget"' in m for m in from_a), "B's device published as A's"


async def _accepts(port: int) -> bool:
    from peers import port_accepts

    return await asyncio.to_thread(port_accepts, port)


async def test_client_certificates_are_required_and_accepted(
        mosquitto_factory: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A TLS listener with require_certificate: a site and mqtttoport showing client
    certificates the CA signed (made with the openssl CLI) work; a site showing none never
    connects (the handshake fails and is retried)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    ca, cert, key = make_certificates(certs)
    broker = mosquitto_factory(tls=(ca, cert, key), require_certificate=True)

    def context(name: str | None) -> ssl.SSLContext:
        made = ssl.create_default_context(cafile=str(ca))
        if name is not None:
            client_cert, client_key = signed_certificate(certs, name)
            made.load_cert_chain(str(client_cert), str(client_key))
        return made

    server = await gadget_through(mqtt_server("127.0.0.1", broker.port, tls=context("siteB")),
                                  mqtt_server("127.0.0.1", broker.port, tls=context("port1")),
                                  "over mutual TLS")
    nameless = mqtt_server("127.0.0.1", broker.port, tls=context(None))
    await retried_not_refused(
        caplog, inditomqtt_async(indi_server("127.0.0.1", server.port), "siteC", nameless), "siteC")


async def test_a_site_with_a_subscribe_list_obeys_only_the_listed_client_sides(
        mosquitto_factory: Any) -> None:
    """inditomqtt with subscribe_list=["port1"]: a new value published on to_indi/intruder
    never reaches its driver; the same from to_indi/port1 does. The getProperties is sent once
    the watcher is subscribed and the site says it is online (it subscribes before that):
    MQTT keeps nothing for a subscriber that is not there yet."""
    broker = mosquitto_factory()
    mqtt = mqtt_server("127.0.0.1", broker.port)
    gadget = make_gadget()
    server = IPyServer(gadget, host="127.0.0.1", port=0, handle_signals=False)
    answers: list[bytes] = []
    status: list[bytes] = []
    watching = asyncio.Event()

    def new_value(value: int) -> bytes:
        return (b'<newNumberVector device="Gadget" name="VALUE"><oneNumber name="V">'
                + str(value).encode() + b"</oneNumber></newNumberVector>")

    async with running(server), \
            bridge(watch(broker.port, "from_indi/siteB", answers, watching)), \
            bridge(watch(broker.port, "indi_status/siteB", status)), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB", mqtt,
                                    ["port1"])):
        async with aiomqtt.Client("127.0.0.1", broker.port) as mq:
            await asyncio.wait_for(watching.wait(), 15)
            await until(lambda: _any(status, ONLINE), what="the site online")
            await mq.publish("to_indi/port1", b'<getProperties version="1.7"/>', qos=2)
            await until(lambda: _any(answers, b"defNumberVector"), what="the site's devices")
            await mq.publish("to_indi/intruder", new_value(77), qos=2)
            await mq.publish("to_indi/port1", new_value(55), qos=2)
        await until(lambda: _gadget_is(gadget, 55.0), what="port1's value")
        assert not any(b">77" in answer for answer in answers)


async def _any(messages: list[bytes], text: bytes) -> bool:
    return any(text in message for message in messages)


async def _gadget_is(driver: Any, value: float) -> bool:
    return float(driver["Gadget"]["VALUE"]["V"]) == value


class RawClient:
    """An INDI client on a socket that keeps every byte it receives."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.data = reader, writer, b""

    async def read_until(self, text: bytes, count: int = 1, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while self.data.count(text) < count:
                self.data += await self.reader.read(1 << 20)


@contextlib.asynccontextmanager
async def gadget_across_the_broker(broker: Served) -> AsyncIterator[tuple[Any, int]]:
    """Our server serving the gadget, inditomqtt in front of it and mqtttoport on a free port,
    all on `broker`: (the gadget driver, mqtttoport's port) once that port serves the gadget."""
    mqtt = mqtt_server("127.0.0.1", broker.port)
    port = free_port()
    gadget = make_gadget()
    server = IPyServer(gadget, host="127.0.0.1", port=0, handle_signals=False)
    async with running(server), \
            bridge(inditomqtt_async(indi_server("127.0.0.1", server.port), "siteB", mqtt)), \
            bridge(mqtttoport_async("port1", mqtt, port=port, host="127.0.0.1")):
        await until(lambda: _has(port, "Gadget.VALUE.V"), timeout=30, what="the gadget")
        yield gadget, port


async def test_mqtttoport_filters_blobs_per_client_by_its_enable_blob(
        mosquitto_factory: Any) -> None:
    """Three INDI clients of one mqtttoport: Never gets the number set and no BLOB, Also gets
    both BLOBs and the number, Only gets both BLOBs and no number set."""
    async with gadget_across_the_broker(mosquitto_factory()) as (gadget, port):
        clients = {}
        for mode in ("Never", "Also", "Only"):
            client_ = RawClient(*await asyncio.open_connection("127.0.0.1", port))
            client_.writer.write(b'<getProperties version="1.7"/>')
            await client_.read_until(b"</defBLOBVector>")
            client_.writer.write(enable_blob("Gadget", mode) + serialise(PingRequest(mode)))
            # the reply: mqtttoport's server, which filters per client, has its mode
            await client_.read_until(b"<pingReply")
            clients[mode] = client_
        for mode, client_ in clients.items():
            client_.data = b""
        await send_blob(gadget, b"first image")
        gadget["Gadget"]["VALUE"]["V"] = 5
        await gadget["Gadget"]["VALUE"].send_setVector()
        await send_blob(gadget, b"second image")
        gadget["Gadget"]["VALUE"]["V"] = 6  # after the second image on the one topic
        await gadget["Gadget"]["VALUE"].send_setVector()
        await clients["Also"].read_until(b"</setBLOBVector>", 2)
        await clients["Only"].read_until(b"</setBLOBVector>", 2)
        await clients["Never"].read_until(b"</setNumberVector>", 2)
        also, only, never = (clients[m].data for m in ("Also", "Only", "Never"))
        assert b"setNumberVector" in also
        assert b"setNumberVector" not in only
        assert b"setBLOBVector" not in never
        for client_ in clients.values():
            client_.writer.close()


async def test_a_large_blob_crosses_the_broker_byte_for_byte(mosquitto_factory: Any) -> None:
    """A BLOB of several MiB (read by inditomqtt over many reads, so its frame's data is the
    framer's own buffer, published without a copy) reaches a client of mqtttoport whole and
    unchanged, and the number set sent after it arrives after it."""
    payload = bytes(range(256)) * (3 * 4096 + 7)  # 3 MiB and a bit, every byte value
    async with gadget_across_the_broker(mosquitto_factory()) as (gadget, port):
        client_ = RawClient(*await asyncio.open_connection("127.0.0.1", port))
        client_.writer.write(b'<getProperties version="1.7"/>')
        await client_.read_until(b"</defBLOBVector>")
        # mqtttoport takes a client's messages in order: the answer to the second
        # getProperties proves the enableBLOB before it is in force.
        client_.writer.write(b'<enableBLOB device="Gadget">Also</enableBLOB>'
                             b'<getProperties version="1.7" device="Gadget" name="IMAGE"/>')
        await client_.read_until(b"</defBLOBVector>", 2)
        client_.data = b""
        await send_blob(gadget, payload)
        gadget["Gadget"]["VALUE"]["V"] = 7
        await gadget["Gadget"]["VALUE"].send_setVector()
        await client_.read_until(b"</setNumberVector>")
        client_.writer.close()
    start = client_.data.index(b"<setBLOBVector")
    blob = ET.fromstring(client_.data[start:client_.data.index(b"</setBLOBVector>", start) + 16])
    member = blob.find("oneBLOB")
    assert member is not None and member.get("size") == str(len(payload))
    assert base64.b64decode("".join((member.text or "").split())) == payload
    assert client_.data.index(b"</setBLOBVector>") < client_.data.index(b"<setNumberVector")


async def test_a_burst_of_thousands_of_values_crosses_the_broker_whole_and_in_order(
        mosquitto_factory: Any) -> None:
    """3,000 number sets written at once by a driver (more than inditomqtt's MQTT queue holds,
    most of them in one read of its server) all reach a client of mqtttoport, in order: the
    site reads its server no faster than the broker takes the messages (``MqttLink.send``)
    instead of dropping the newest once its queue is full, and its publishes overlap."""
    count = 3000
    async with gadget_across_the_broker(mosquitto_factory()) as (gadget, port):
        client_ = RawClient(*await asyncio.open_connection("127.0.0.1", port))
        client_.writer.write(b'<getProperties version="1.7"/>')
        await client_.read_until(b"</defNumberVector>")
        client_.data = b""
        vector = gadget["Gadget"]["VALUE"]
        for value in range(count):
            vector["V"] = value
            await vector.send_setVector()
        await client_.read_until(b"</setNumberVector>", count, timeout=60)
        client_.writer.close()
    values = [float(ET.fromstring(element).findtext("oneNumber") or "")
              for element in re.findall(rb"<setNumberVector.*?</setNumberVector>", client_.data,
                                        re.DOTALL)]
    assert values == [float(v) for v in range(count)]
