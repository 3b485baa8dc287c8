"""The client sides of the MQTT network: ``mqtttoredis`` and ``mqtttoport``.

Both read ``from_indi/<site id>`` and ``indi_status/<site id>`` of every site (or those in
``subscribe_list``) and publish their requests on ``to_indi/<own id>``. A site that says
``online`` (retained, so also on every (re)connection to the broker) is asked for everything
with ``getProperties``; one that says ``offline`` (its Last Will, or a clean stop) has its
devices removed: deleted from redis, or a ``delProperty`` to the INDI clients. So does every
site when the broker itself is lost: nothing can be said of the sites meanwhile (and a broker
shutting down sends some sites' Last Wills and not others'), and when it is back the sites'
retained ``online`` brings them back.

``mqtttoport`` serves ordinary INDI clients (KStars, indi_getprop) with our own server
(``IPyServer``) on ``host:port``: the MQTT network is a *remote server* to it, reached through a
private loopback listener of this module, so the per-client queues (bounded, slow-client safe),
enableBLOB per client, snooping and routing are the server's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from indipyclient.serverstream import ServerStream
from indipydriver.protocol import Frame
from indipydriver.protocol import events as ev
from indipydriver.protocol import serialise
from indipydriver.retrypolicy import Retry

from .hosts import MqttServer
from .hosts import RedisServer
from .hosts import mqtt_server
from .hosts import redis_server
from .indilink import GET_PROPERTIES
from .indilink import listen
from .indilink import served_frames
from .mqttlink import MqttLink
from .mqttlink import refusal_unwrapped
from .redisside import RedisSide
from .topics import OFFLINE
from .topics import ONLINE
from .topics import Drops
from .topics import Topics

__all__ = ["mqtttoport", "mqtttoport_async", "mqtttoredis", "mqtttoredis_async"]

logger = logging.getLogger(__name__)


class ClientSide:
    """What both client sides share: the broker link, sites' status, dropping garbage."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer,
                 subscribe_list: Sequence[str], retry: Retry | None = None) -> None:
        self.topics = Topics.of(mqtt_host)
        self.mqtt_id = mqtt_id
        self.out_topic = f"{self.topics.to_indi}/{mqtt_id}"
        self.site_devices: dict[str, set[str]] = {}
        self.drops = Drops(mqtt_id)
        self.mqtt = MqttLink(mqtt_host, mqtt_id,
                             self.topics.client_subscriptions(subscribe_list), self.from_broker,
                             on_connect=self.ask_all, on_lost=self.all_gone, retry=retry)

    async def all_gone(self) -> None:
        """The broker is lost: every site's devices are removed until it is back."""
        for site in sorted(self.site_devices):
            logger.info("%s: site %s unreachable with the broker gone: its devices are removed",
                        self.mqtt_id, site)
            await self.site_gone(site)
        self.site_devices.clear()

    async def ask_all(self) -> None:
        self.mqtt.publish(self.out_topic, GET_PROPERTIES)

    async def from_broker(self, topic: str, payload: bytes) -> None:
        where = self.topics.split(topic)
        if where is None:
            self.drops.drop(topic, payload, "not a topic of ours")
            return
        root, site = where
        if root == self.topics.status:
            if payload == ONLINE:
                logger.info("%s: site %s is online", self.mqtt_id, site)
                await self.ask_all()
            elif payload == OFFLINE:
                logger.info("%s: site %s is offline: its devices are removed", self.mqtt_id,
                            site)
                await self.site_gone(site)
                self.site_devices.pop(site, None)
            else:
                self.drops.drop(topic, payload, "a status is online or offline")
            return
        if root != self.topics.from_indi:
            self.drops.drop(topic, payload, "not a from_indi topic")
            return
        frames = self.drops.frames(topic, payload)
        if frames is None:
            return
        devices = self.site_devices.setdefault(site, set())
        for frame in frames:
            device = frame.attrs.get("device")
            if device is not None:
                if frame.tag.startswith("def"):
                    devices.add(device)
                elif frame.tag == "delProperty" and "name" not in frame.attrs:
                    devices.discard(device)
        await self.from_site(site, frames)

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        raise NotImplementedError

    async def site_gone(self, site: str) -> None:
        raise NotImplementedError


class RedisClient(ClientSide):
    """``mqtttoredis``: every site's devices in one redis store (each site its own source)."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer, redis_host: RedisServer,
                 subscribe_list: Sequence[str], log_lengths: Mapping[str, int] | None,
                 blob_folder: str | Path, retry: Retry | None = None) -> None:
        super().__init__(mqtt_id, mqtt_host, subscribe_list, retry)
        self.side = RedisSide(redis_host, blob_folder, log_lengths, self.send,
                              resync=self.ask_all, retry=retry)

    def send(self, data: bytes, device: str | None) -> None:
        self.mqtt.publish(self.out_topic, data)

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        await self.side.store(site, frames)

    async def site_gone(self, site: str) -> None:
        await self.side.forget(site)

    async def run(self) -> None:
        try:
            await self.side.execute_when_up(self.side.clear)
            async with refusal_unwrapped(), asyncio.TaskGroup() as group:
                group.create_task(self.mqtt.run())
                group.create_task(self.side.run())
        finally:
            await self.side.close()


class PortClient(ClientSide):
    """``mqtttoport``: the MQTT network as a remote server of a private ``IPyServer``."""

    def __init__(self, mqtt_id: str, mqtt_host: MqttServer, subscribe_list: Sequence[str],
                 host: str, port: int, retry: Retry | None = None) -> None:
        super().__init__(mqtt_id, mqtt_host, subscribe_list, retry)
        self.host, self.port = host, port
        self._writer: ServerStream | None = None
        self.server: object = None

    async def from_site(self, site: str, frames: list[Frame]) -> None:
        await self._write(b"".join(frame.data for frame in frames))

    async def site_gone(self, site: str) -> None:
        for device in sorted(self.site_devices.get(site, ())):
            await self._write(serialise(ev.DelProperty(device,
                                                       message=f"site {site} is offline")))

    async def _write(self, data: bytes) -> None:
        writer = self._writer
        if writer is None:
            return  # asked again when the server connects
        # As a view: what the socket does not take at once, the transport keeps by slicing
        # what it was given, which for bytes is one more copy of most of a BLOB.
        writer.write(memoryview(data))
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def _serve_server(self, stream: ServerStream) -> None:
        """Our server connected as to a remote: what it sends goes to the sites."""
        if self._writer is not None:
            self._writer.close()
        self._writer = stream
        try:
            async for frames in served_frames(stream):
                for item in frames:
                    if item.tag == "enableBLOB":
                        continue  # the sites send every BLOB; our server filters per client
                    elif item.tag == "getProperties" and item.attrs.get("device") == "*":
                        continue  # a chained server's marker; the plain one follows
                    else:
                        self.mqtt.publish(self.out_topic, bytes(item.data))
        except ConnectionError:
            pass
        finally:
            if self._writer is stream:
                self._writer = None
            stream.close()

    async def run(self) -> None:
        from indipyserver import IPyServer

        inner = await listen(self._serve_server, "127.0.0.1", 0)
        inner_port = inner.sockets[0].getsockname()[1]
        server = IPyServer(host=self.host, port=self.port, handle_signals=False)
        server.add_remote("127.0.0.1", inner_port, blob_enable=True)
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
            inner.close()


async def mqtttoredis_async(mqtt_id: str, mqtt_host: MqttServer | None = None,
                            redis_host: RedisServer | None = None,
                            subscribe_list: Sequence[str] = (),
                            log_lengths: Mapping[str, int] | None = None,
                            blob_folder: str | Path = "", *,
                            retry: Retry | None = None) -> None:
    """The async twin of ``mqtttoredis``: runs until cancelled. ``retry``: the reconnect
    policy of the broker and redis links (None: ``bridge_retry()``)."""
    if not blob_folder:
        raise ValueError("blob_folder is required: BLOBs are saved there, never in redis")
    await RedisClient(mqtt_id, mqtt_host or mqtt_server(), redis_host or redis_server(),
                      subscribe_list, log_lengths, blob_folder, retry).run()


def mqtttoredis(mqtt_id: str, mqtt_host: MqttServer | None = None,
                redis_host: RedisServer | None = None, subscribe_list: Sequence[str] = (),
                log_lengths: Mapping[str, int] | None = None,
                blob_folder: str | Path = "", *, retry: Retry | None = None) -> None:
    """The sites' devices in redis, ``to_indi`` to them over the broker; blocks."""
    from .toredis import _run

    _run(mqtttoredis_async(mqtt_id, mqtt_host, redis_host, subscribe_list, log_lengths,
                           blob_folder, retry=retry))


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
