"""The client sides of the MQTT network: ``mqtttoredis`` and ``mqtttoport``.

Both read ``from_indi/<site id>`` and ``indi_status/<site id>`` of every site (or those in
``subscribe_list``, or of their ``share`` of the sites: see ``topics.share_of``) and publish
their requests on ``to_indi/<own id>``. A site that says
``online`` (retained, so also on every (re)connection to the broker) is asked for everything
with ``getProperties`` (sites that come within ``ASK_DELAY`` of each other asked once, since
every site reads every request); one that says ``offline`` (its Last Will, or a clean stop) has its
devices removed: deleted from redis, or a ``delProperty`` to the INDI clients. So does every
site when the broker itself is lost: nothing can be said of the sites meanwhile (and a broker
shutting down sends some sites' Last Wills and not others'), and when it is back the sites'
retained ``online`` brings them back. What a site sent before its ``offline`` and arrives after
it is dropped, until the site says ``online`` again: mosquitto passes a QoS 2 message on when
its sender releases it (PUBREL), a round trip later than the QoS 1 ``offline`` that follows it,
so a stopping site's last definitions would put back the devices its ``offline`` removed.

``mqtttoport`` serves ordinary INDI clients (KStars, indi_getprop) with our own server
(``IPyServer``) on ``host:port``: the MQTT network is a *remote server* to it, reached in
process (``InProcessRemote``: elements framed once, no socket to itself), so the per-client
queues (bounded, slow-client safe), enableBLOB per client, snooping and routing are the
server's own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from indipycore.links import FramedLink
from indipycore.protocol import Frame
from indipycore.protocol import events as ev
from indipycore.protocol import serialise
from indipycore.retrypolicy import Retry

from .hosts import MqttServer
from .hosts import RedisServer
from .hosts import mqtt_server
from .hosts import redis_server
from .indilink import GET_PROPERTIES
from .mqttlink import MqttLink
from .mqttlink import refusal_unwrapped
from .redisside import RedisSide
from .topics import OFFLINE
from .topics import ONLINE
from .topics import Drops
from .topics import Topics
from .topics import share_of

__all__ = ["mqtttoport", "mqtttoport_async", "mqtttoredis", "mqtttoredis_async"]

logger = logging.getLogger(__name__)

#: How long mqtttoredis's writer waits for more values before a pipeline that is not full
#: (s): a fleet's values arrive one at a time, and a round trip each cost more than the rest.
LINGER = 0.005
#: How long a site's ``online`` waits for others before they are all asked at once (s).
ASK_DELAY = 0.2


class ClientSide:
    """What both client sides share: the broker link, sites' status, dropping garbage."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer,
                 subscribe_list: Sequence[str], retry: Retry | None = None,
                 qos: int = 2, share: tuple[int, int] | None = None) -> None:
        if share is not None and subscribe_list:
            raise ValueError("give a share or a subscribe_list, not both")
        self.topics = Topics.of(mqtt_host)
        self.share = share
        self.mqtt_id = mqtt_id
        self.out_topic = f"{self.topics.to_indi}/{mqtt_id}"
        self.site_devices: dict[str, set[str]] = {}
        self.drops = Drops(mqtt_id)
        self._asking: asyncio.TimerHandle | None = None
        # Sites whose last status was offline -> their messages dropped since (until online).
        self.offline: dict[str, int] = {}
        # With a share: every site's status, and the traffic of each site of the share once it
        # says online (`take`).
        subscriptions = ([f"{self.topics.status}/#"] if share is not None else
                         self.topics.client_subscriptions(subscribe_list))
        self.mqtt = MqttLink(mqtt_host, mqtt_id, subscriptions, self.from_broker,
                             on_connect=self.ask_all, on_lost=self.all_gone, retry=retry,
                             qos=qos)

    async def all_gone(self) -> None:
        """The broker is lost: every site's devices are removed until it is back."""
        for site in sorted(self.site_devices):
            logger.info("%s: site %s unreachable with the broker gone: its devices are removed",
                        self.mqtt_id, site)
            await self.site_gone(site)
        self.site_devices.clear()

    async def ask_all(self) -> None:
        self.mqtt.publish(self.out_topic, GET_PROPERTIES)

    def ask_soon(self) -> None:
        """``ask_all`` in ``ASK_DELAY`` s, once for every site that says ``online`` meanwhile:
        each getProperties reaches every site (they all read ``to_indi``), so a fleet coming
        online at once would otherwise be asked N times over, N x N x devices definitions."""
        if self._asking is None:
            self._asking = asyncio.get_running_loop().call_later(ASK_DELAY, self._ask_now)

    def _ask_now(self) -> None:
        self._asking = None
        self.mqtt.publish(self.out_topic, GET_PROPERTIES)

    async def from_broker(self, topic: str, payload: bytes) -> None:
        where = self.topics.split(topic)
        if where is None:
            self.drops.drop(topic, payload, "not a topic of ours")
            return
        root, site = where
        if self.share is not None and share_of(site, self.share[1]) != self.share[0]:
            return  # another client side's site
        if root == self.topics.status:
            if payload == ONLINE:
                logger.info("%s: site %s is online", self.mqtt_id, site)
                self.offline.pop(site, None)
                if self.share is not None:
                    await self.mqtt.subscribe(f"{self.topics.from_indi}/{site}")
                self.ask_soon()
            elif payload == OFFLINE:
                logger.info("%s: site %s is offline: its devices are removed", self.mqtt_id,
                            site)
                self.offline[site] = 0
                await self.site_gone(site)
                self.site_devices.pop(site, None)
                if self.share is not None:
                    await self.mqtt.unsubscribe(f"{self.topics.from_indi}/{site}")
            else:
                self.drops.drop(topic, payload, "a status is online or offline")
            return
        if root != self.topics.from_indi:
            self.drops.drop(topic, payload, "not a from_indi topic")
            return
        if site in self.offline:
            self._late(site)
            return
        frames = self.drops.frames(topic, payload)
        if frames is None:
            return
        devices = self.site_devices.setdefault(site, set())
        for frame in frames:
            tag = frame.tag  # a set's attributes are not decoded here (most messages)
            if tag.startswith("def"):
                device = frame.attrs.get("device")
                if device is not None:
                    devices.add(device)
            elif tag == "delProperty" and "name" not in frame.attrs:
                devices.discard(frame.attrs.get("device", ""))
        await self.from_site(site, frames)

    def _late(self, site: str) -> None:
        """A message of a site that said offline: dropped, logged once per offline."""
        if not self.offline[site]:
            logger.info("%s: site %s is offline: what it sent before and still arrives is "
                        "dropped", self.mqtt_id, site)
        self.offline[site] += 1

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        raise NotImplementedError

    async def site_gone(self, site: str) -> None:
        raise NotImplementedError


class RedisClient(ClientSide):
    """``mqtttoredis``: every site's devices in one redis store (each site its own source)."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer, redis_host: RedisServer,
                 subscribe_list: Sequence[str], log_lengths: Mapping[str, int] | None,
                 blob_folder: str | Path, retry: Retry | None = None, qos: int = 1,
                 share: tuple[int, int] | None = None) -> None:
        super().__init__(mqtt_id, mqtt_host, subscribe_list, retry, qos, share)
        self.side = RedisSide(redis_host, blob_folder, log_lengths, self.send,
                              resync=self.ask_all, retry=retry, linger=LINGER,
                              label=f"mqtttoredis {mqtt_id}", inbound=self.mqtt.waiting,
                              clears=share is None or share[0] == 1)

    def send(self, data: bytes, device: str | None) -> None:
        self.mqtt.publish(self.out_topic, data)

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        await self.side.store(site, frames)

    async def site_gone(self, site: str) -> None:
        await self.side.forget(site)

    async def run(self) -> None:
        try:
            await self.side.execute_when_up(self.side.clear if self.side.clears else
                                            self.side.mark)
            async with refusal_unwrapped(), asyncio.TaskGroup() as group:
                group.create_task(self.mqtt.run())
                group.create_task(self.side.run())
        finally:
            await self.side.close()


class PortClient(ClientSide):
    """``mqtttoport``: the MQTT network as an in-process remote of a private ``IPyServer``."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer, subscribe_list: Sequence[str],
                 host: str, port: int, retry: Retry | None = None) -> None:
        super().__init__(mqtt_id, mqtt_host, subscribe_list, retry)
        self.host, self.port = host, port
        self._link: FramedLink | None = None
        self.server: object = None

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        link = self._link
        if link is None:
            return  # the server asks for everything again as it takes the link
        for frame in frames:  # framed once, by `Drops.frames`: the server takes them so
            await link.write_frame(frame)

    async def site_gone(self, site: str) -> None:
        link = self._link
        if link is None:
            return
        for device in sorted(self.site_devices.get(site, ())):
            await link.write(serialise(ev.DelProperty(device,
                                                      message=f"site {site} is offline")))

    async def serve(self, link: FramedLink) -> None:
        """Our server's side of the network (`InProcessRemote`): what it sends goes to the
        sites, until it closes the link."""
        self._link = link
        try:
            while frames := await link.read_frames():
                for item in frames:
                    if item.tag == "enableBLOB":
                        continue  # the sites send every BLOB; our server filters per client
                    if item.tag == "getProperties" and item.attrs.get("device") == "*":
                        # a chained server's "everything" (indiserver's form): the sites'
                        # servers know the plain one
                        await self.ask_all()
                    else:
                        await self.mqtt.send(self.out_topic, bytes(item.data))
        finally:
            if self._link is link:
                self._link = None

    async def run(self) -> None:
        from indipyserver import IPyServer
        from indipyserver.drivers.inprocess import InProcessRemote

        server = IPyServer(host=self.host, port=self.port, handle_signals=False)
        server.add_connection(InProcessRemote(self, label=f"MQTT network ({self.mqtt_id})"))
        self.server = server
        try:
            async with refusal_unwrapped(), asyncio.TaskGroup() as group:
                serving = group.create_task(server.asyncrun())
                group.create_task(self.mqtt.run())
                await server.started()
                self.port = server.port
                await serving
        finally:
            server.shutdown()


async def mqtttoredis_async(mqtt_id: str, mqtt_host: MqttServer | None = None,
                            redis_host: RedisServer | None = None,
                            subscribe_list: Sequence[str] = (),
                            log_lengths: Mapping[str, int] | None = None,
                            blob_folder: str | Path = "", *,
                            retry: Retry | None = None, qos: int = 1,
                            share: tuple[int, int] | None = None) -> None:
    """The async twin of ``mqtttoredis``: runs until cancelled. ``retry``: the reconnect
    policy of the broker and redis links (None: ``bridge_retry()``). ``qos``: of its
    subscriptions (and requests); 1 spares it half the packets of QoS 2 (a PUBACK a message
    instead of PUBREC and PUBCOMP) and loses nothing QoS 2 would keep, its MQTT session being a
    clean one: see docs/bridges.rst.
    ``share=(K, N)``: this process is the K-th of N splitting the sites between them
    (``topics.share_of``), instead of a ``subscribe_list``."""
    if not blob_folder:
        raise ValueError("blob_folder is required: BLOBs are saved there, never in redis")
    await RedisClient(mqtt_id, mqtt_host or mqtt_server(), redis_host or redis_server(),
                      subscribe_list, log_lengths, blob_folder, retry, qos, share).run()


def mqtttoredis(mqtt_id: str, mqtt_host: MqttServer | None = None,
                redis_host: RedisServer | None = None, subscribe_list: Sequence[str] = (),
                log_lengths: Mapping[str, int] | None = None,
                blob_folder: str | Path = "", *, retry: Retry | None = None,
                qos: int = 1, share: tuple[int, int] | None = None) -> None:
    """The sites' devices in redis, ``to_indi`` to them over the broker; blocks."""
    from .toredis import _run

    _run(mqtttoredis_async(mqtt_id, mqtt_host, redis_host, subscribe_list, log_lengths,
                           blob_folder, retry=retry, qos=qos, share=share))


async def mqtttoport_async(mqtt_id: str, mqtt_host: MqttServer | None = None,
                           subscribe_list: Sequence[str] = (), port: int = 7624,
                           host: str = "localhost", *, retry: Retry | None = None) -> None:
    """The async twin of ``mqtttoport``: runs until cancelled."""
    await PortClient(mqtt_id, mqtt_host or mqtt_server(), subscribe_list, host, port,
                     retry).run()


def mqtttoport(mqtt_id: str, mqtt_host: MqttServer | None = None,
               subscribe_list: Sequence[str] = (), port: int = 7624,
               host: str = "localhost", *, retry: Retry | None = None) -> None:
    """An INDI port on ``host:port`` for ordinary INDI clients, serving the sites' devices
    over the broker; blocks."""
    from .toredis import _run

    _run(mqtttoport_async(mqtt_id, mqtt_host, subscribe_list, port, host, retry=retry))
