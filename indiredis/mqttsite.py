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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from indipydriver.logbudget import WarningBudget, clip
from indipydriver.protocol import Frame
from indipydriver.protocol.escaping import escape

from .hosts import IndiServer, MqttServer, indi_server, mqtt_server
from .indilink import IndiLink
from .mqttlink import MqttLink, refusal_unwrapped
from .toindi import CLIENT_TAGS
from .topics import Topics, payload_frames

__all__ = ["driverstomqtt", "driverstomqtt_async", "inditomqtt", "inditomqtt_async"]

logger = logging.getLogger(__name__)


class Site:
    """One site's two links (see the module docstring)."""

    def __init__(self, indi_host: IndiServer, mqtt_id: str, mqtt_host: MqttServer,
                 subscribe_list: Sequence[str]) -> None:
        self.topics = Topics.of(mqtt_host)
        self.mqtt_id = mqtt_id
        self.out_topic = f"{self.topics.from_indi}/{mqtt_id}"
        self.devices: set[str] = set()
        self._bad = WarningBudget(noun="MQTT messages dropped")
        self.indi = IndiLink(indi_host.host, indi_host.port, self.from_server,
                             on_lost=self.server_lost)
        self.mqtt = MqttLink(mqtt_host, mqtt_id, self.topics.site_subscriptions(subscribe_list),
                             self.from_broker,
                             status_topic=f"{self.topics.status}/{mqtt_id}")

    async def run(self) -> None:
        import asyncio

        async with refusal_unwrapped(), asyncio.TaskGroup() as group:
            group.create_task(self.indi.run())
            group.create_task(self.mqtt.run())

    async def from_server(self, frame: Frame) -> None:
        device = frame.attrs.get("device")
        if frame.tag.startswith("def") and device is not None:
            self.devices.add(device)
            if frame.tag == "defBLOBVector":
                name = frame.attrs.get("name", "")
                self.indi.send(f'<enableBLOB device="{escape(device)}" name="{escape(name)}">'
                               "Also</enableBLOB>\n".encode())
        elif frame.tag == "delProperty" and device is not None and "name" not in frame.attrs:
            self.devices.discard(device)
        self.mqtt.publish(self.out_topic, bytes(frame.data))

    async def server_lost(self) -> None:
        # The client sides hear it as deletions of every device the site had.
        for device in sorted(self.devices):
            self.mqtt.publish(self.out_topic, f'<delProperty device="{escape(device)}"/>'
                              .encode())
        self.devices.clear()

    async def from_broker(self, topic: str, payload: bytes) -> None:
        where = self.topics.split(topic)
        if where is None or where[0] != self.topics.to_indi:
            self._drop(topic, payload, "not a to_indi topic")
            return
        frames = payload_frames(payload)
        if isinstance(frames, str):
            self._drop(topic, payload, frames)
            return
        for frame in frames:
            device = frame.attrs.get("device")
            if frame.tag not in CLIENT_TAGS:
                self._drop(topic, frame.data, f"<{frame.tag}> is not an element a client sends")
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

    def _drop(self, topic: str, payload: bytes, why: str) -> None:
        note = self._bad.take()
        if note is not None:
            logger.warning("%s: dropped a message on %s (%s): %s%s", self.mqtt_id, topic, why,
                           clip(bytes(payload).decode(errors="replace")), note)


async def inditomqtt_async(indi_host: IndiServer | None, mqtt_id: str,
                           mqtt_host: MqttServer | None = None,
                           subscribe_list: Sequence[str] = ()) -> None:
    """The async twin of ``inditomqtt``: runs until cancelled."""
    await Site(indi_host or indi_server(), mqtt_id, mqtt_host or mqtt_server(),
               subscribe_list).run()


def inditomqtt(indi_host: IndiServer | None, mqtt_id: str, mqtt_host: MqttServer | None = None,
               subscribe_list: Sequence[str] = ()) -> None:
    """An INDI server's devices on the MQTT network as site ``mqtt_id``; blocks."""
    from .toredis import _run

    _run(inditomqtt_async(indi_host, mqtt_id, mqtt_host, subscribe_list))


async def driverstomqtt_async(drivers: Sequence[str], mqtt_id: str,
                              mqtt_host: MqttServer | None = None,
                              subscribe_list: Sequence[str] = ()) -> None:
    """The async twin of ``driverstomqtt``: runs until cancelled."""
    from .driverserver import private_server

    async with private_server(drivers) as server:
        await inditomqtt_async(IndiServer("127.0.0.1", server.port), mqtt_id, mqtt_host,
                               subscribe_list)


def driverstomqtt(drivers: Sequence[str], mqtt_id: str, mqtt_host: MqttServer | None = None,
                  subscribe_list: Sequence[str] = ()) -> None:
    """Executable drivers on the MQTT network as site ``mqtt_id``; blocks."""
    from .toredis import _run

    _run(driverstomqtt_async(drivers, mqtt_id, mqtt_host, subscribe_list))
