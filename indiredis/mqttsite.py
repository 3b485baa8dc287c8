"""``inditomqtt`` and ``driverstomqtt``: an observatory site on the MQTT network.

The site is a client of its INDI server (``IndiLink``) and passes every element the server
sends to ``from_indi/<site id>`` unchanged; what client sides publish on ``to_indi/<their id>``
(all of them, or those in ``subscribe_list``) goes to the server once checked: one or more
elements a client may send, about a device of this site (or none). The site asks for every
BLOB (``enableBLOB Also`` on each BLOB vector) and ignores the client sides' ``enableBLOB``:
several client sides share the one INDI connection, so their modes would overwrite each
other's; each client side filters BLOBs for its own clients instead.

Liveness: a retained ``online`` on ``indi_status/<site id>`` while up, ``offline`` as its Last
Will and when stopped. ``driverstomqtt`` runs its executable drivers under a private
``IPyServer`` (``driverserver``).

Snooping across sites: the site listens on a loopback port that its INDI server chains as a
*remote server* (``driverstomqtt``: its private server, always; ``inditomqtt``: with
``snoop_port``, the user's server given ``@127.0.0.1:PORT`` (ours) or ``"Device"@127.0.0.1:PORT``
(indiserver, per device)). A driver's getProperties for a device its server does not have
reaches that listener, goes out on ``snoop_control/<site id>``, and what the owning site sends
back on ``snoop_data/<site id>`` goes into the server through the same connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from indipyclient.session.serverstream import ServerStream
from indipycore.protocol import BLOBEnable
from indipycore.protocol import Frame
from indipycore.protocol import events as ev
from indipycore.protocol import serialise
from indipycore.retrypolicy import Retry

from .hosts import IndiServer
from .hosts import MqttServer
from .hosts import indi_server
from .hosts import mqtt_server
from .indilink import IndiLink
from .indilink import listen
from .indilink import served_frames
from .mqttlink import MqttLink
from .mqttlink import refusal_unwrapped
from .toindi import CLIENT_TAGS
from .topics import Drops
from .topics import Topics
from .topics import payload_frames

__all__ = ["driverstomqtt", "driverstomqtt_async", "inditomqtt", "inditomqtt_async"]

logger = logging.getLogger(__name__)

MAX_SNOOPS = 1000  # snoop requests remembered per site, and sites


class Site:
    """One site's two links (see the module docstring)."""

    def __init__(self, indi_host: IndiServer, mqtt_id: str, mqtt_host: MqttServer,
                 subscribe_list: Sequence[str], retry: Retry | None = None) -> None:
        self.topics = Topics.of(mqtt_host)
        self.mqtt_id = mqtt_id
        self.out_topic = f"{self.topics.from_indi}/{mqtt_id}"
        self.devices: set[str] = set()
        self.drops = Drops(mqtt_id)
        self.indi = IndiLink(indi_host.host, indi_host.port, self.from_server,
                             on_lost=self.server_lost, retry=retry, ssl=indi_host.tls)
        self.mqtt = MqttLink(mqtt_host, mqtt_id,
                             [*self.topics.site_subscriptions(subscribe_list),
                              f"{self.topics.snoop_control}/#",
                              f"{self.topics.snoop_data}/{mqtt_id}"],
                             self.from_broker,
                             status_topic=f"{self.topics.status}/{mqtt_id}", retry=retry)
        # Snooping across sites: what other sites' drivers asked of ours (site -> (device,
        # vector or None)), bounded; devices of other sites our drivers snoop (never
        # published as ours); our private server's connection to us as its remote.
        self.snoopers: dict[str, set[tuple[str, str | None]]] = {}
        self.foreign: set[str] = set()
        self.remote_writer: ServerStream | None = None

    async def run(self) -> None:
        async with refusal_unwrapped(), asyncio.TaskGroup() as group:
            group.create_task(self.indi.run())
            group.create_task(self.mqtt.run())

    async def from_server(self, frames: list[Frame]) -> None:
        """One read of the INDI server: each element on ``from_indi/<site id>``."""
        for frame in frames:
            await self._from_server(frame)

    async def _from_server(self, frame: Frame) -> None:
        device = frame.attrs.get("device")
        if device is not None and device in self.foreign:
            return  # another site's device, snooped by our drivers: not ours to publish
        if device is not None and self.snoopers:
            name = frame.attrs.get("name")
            for site, wants in self.snoopers.items():
                if (device, None) in wants or (device, name) in wants:
                    await self.mqtt.send(f"{self.topics.snoop_data}/{site}", frame.data)
        if frame.tag.startswith("def") and device is not None:
            self.devices.add(device)
            if frame.tag == "defBLOBVector":
                name = frame.attrs.get("name", "")
                self.indi.send(serialise(ev.EnableBLOB(device, BLOBEnable.ALSO, name)))
        elif frame.tag == "delProperty" and device is not None and "name" not in frame.attrs:
            self.devices.discard(device)
        # As read: a BLOB's data is the bytes its pieces were joined into once
        # (indilink.stream_frames), so the broker gets it without another copy.
        await self.mqtt.send(self.out_topic, frame.data)

    async def server_lost(self) -> None:
        # The client sides hear it as deletions of every device the site had.
        for device in sorted(self.devices):
            self.mqtt.publish(self.out_topic, serialise(ev.DelProperty(device)))
        self.devices.clear()

    async def from_broker(self, topic: str, payload: bytes) -> None:
        where = self.topics.split(topic)
        if where is not None and where[0] == self.topics.snoop_control:
            if where[1] != self.mqtt_id:
                self._snoop_request(where[1], payload)
            return
        if where is not None and where[0] == self.topics.snoop_data:
            await self._snooped(payload)
            return
        if where is None or where[0] != self.topics.to_indi:
            self.drops.drop(topic, payload, "not a to_indi topic")
            return
        frames = self.drops.frames(topic, payload)
        if frames is None:
            return
        for frame in frames:
            device = frame.attrs.get("device")
            if frame.tag not in CLIENT_TAGS:
                self.drops.drop(topic, frame.data,
                                f"<{frame.tag}> is not an element a client sends")
            elif frame.tag == "enableBLOB":
                logger.debug("%s: enableBLOB from %s not passed on (the site asks for every "
                             "BLOB)", self.mqtt_id, topic)
            elif frame.tag != "getProperties" and device not in self.devices:
                # Another site's device: not for us (every site reads to_indi).
                logger.debug("%s: %s for %s is not for this site", self.mqtt_id, frame.tag,
                             device)
                continue
            elif frame.tag == "getProperties" and device is not None and device != "*" and (
                    self.devices and device not in self.devices):
                continue
            else:
                self.indi.send(bytes(frame.data))

    # -- snooping across sites -------------------------------------------------------------

    def _snoop_request(self, site: str, payload: bytes) -> None:
        """Another site's driver asked for a device: if it is ours, its traffic goes to
        ``snoop_data/<that site>`` from now on."""
        frames = self.drops.frames(f"{self.topics.snoop_control}/{site}", payload)
        if frames is None:
            return
        for frame in frames:
            device = frame.attrs.get("device")
            if frame.tag != "getProperties" or device is None or device == "*":
                continue
            wants = self.snoopers.setdefault(site, set())
            if len(wants) < MAX_SNOOPS and len(self.snoopers) <= MAX_SNOOPS:
                wants.add((device, frame.attrs.get("name")))
            if device in self.devices:
                # Our server replays the device to us, and so to the snooping site.
                self.indi.send(bytes(frame.data))

    async def _snooped(self, payload: bytes) -> None:
        """Traffic of another site's device that our drivers snoop: into our server through
        its remote connection to us."""
        frames = payload_frames(payload)
        writer = self.remote_writer
        if isinstance(frames, str) or writer is None:
            return
        for frame in frames:
            device = frame.attrs.get("device")
            if device is None or device in self.devices:
                continue
            self.foreign.add(device)
            writer.write(bytes(frame.data))
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def serve_remote(self, stream: ServerStream) -> None:
        """Our private server connected to us as to a remote server: its drivers' requests
        for devices it does not have are snoop requests for the other sites."""
        self.remote_writer = stream
        try:
            async for frames in served_frames(stream):
                for item in frames:
                    device = item.attrs.get("device")
                    if item.tag == "getProperties" and device not in (None, "*"):
                        self.mqtt.publish(f"{self.topics.snoop_control}/{self.mqtt_id}",
                                          bytes(item.data))
        except ConnectionError:
            pass
        finally:
            if self.remote_writer is stream:
                self.remote_writer = None
            stream.close()

    async def listen_for_snoops(self, host: str, port: int) -> asyncio.Server:
        """The listener the INDI server chains as a remote (see the module docstring)."""
        return await listen(self.serve_remote, host, port)



async def inditomqtt_async(indi_host: IndiServer | None, mqtt_id: str,
                           mqtt_host: MqttServer | None = None,
                           subscribe_list: Sequence[str] = (),
                           snoop_port: int | None = None, *,
                           retry: Retry | None = None) -> None:
    """The async twin of ``inditomqtt``: runs until cancelled. ``retry``: the reconnect
    policy of both links (None: ``bridge_retry()``)."""
    site = Site(indi_host or indi_server(), mqtt_id, mqtt_host or mqtt_server(), subscribe_list,
                retry)
    if snoop_port is None:
        await site.run()
        return
    listener = await site.listen_for_snoops("127.0.0.1", snoop_port)
    try:
        await site.run()
    finally:
        listener.close()


def inditomqtt(indi_host: IndiServer | None, mqtt_id: str, mqtt_host: MqttServer | None = None,
               subscribe_list: Sequence[str] = (), snoop_port: int | None = None, *,
               retry: Retry | None = None) -> None:
    """An INDI server's devices on the MQTT network as site ``mqtt_id``; blocks. With
    ``snoop_port``, the INDI server's drivers may snoop other sites' devices: chain
    ``127.0.0.1:snoop_port`` to it as a remote server (see docs/bridges.rst)."""
    from .toredis import _run

    _run(inditomqtt_async(indi_host, mqtt_id, mqtt_host, subscribe_list, snoop_port,
                          retry=retry))


async def driverstomqtt_async(drivers: Sequence[str], mqtt_id: str,
                              mqtt_host: MqttServer | None = None,
                              subscribe_list: Sequence[str] = (), *,
                              retry: Retry | None = None) -> None:
    """The async twin of ``driverstomqtt``: runs until cancelled."""
    from .driverserver import private_server

    # The site listens privately for our server's remote connection (snooping across sites);
    # the server's port is known once it runs, so the site learns it then.
    site = Site(IndiServer("127.0.0.1", 0), mqtt_id, mqtt_host or mqtt_server(), subscribe_list,
                retry)
    inner = await site.listen_for_snoops("127.0.0.1", 0)
    inner_port = inner.sockets[0].getsockname()[1]
    try:
        async with private_server(drivers, remote_port=inner_port) as server:
            site.indi.port = server.port
            await site.run()
    finally:
        inner.close()


def driverstomqtt(drivers: Sequence[str], mqtt_id: str, mqtt_host: MqttServer | None = None,
                  subscribe_list: Sequence[str] = (), *, retry: Retry | None = None) -> None:
    """Executable drivers on the MQTT network as site ``mqtt_id``; blocks."""
    from .toredis import _run

    _run(driverstomqtt_async(drivers, mqtt_id, mqtt_host, subscribe_list, retry=retry))
