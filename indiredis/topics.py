"""MQTT topics and payloads of the bridges, pure.

Topics (indi-mr 0.4's, ``<root>/<mqtt id>``): a site (``inditomqtt``, ``driverstomqtt``)
publishes its INDI traffic on ``from_indi/<site id>`` and obeys ``to_indi/#`` (or
``to_indi/<id>`` for each id of its ``subscribe_list``); a client side (``mqtttoredis``,
``mqtttoport``) publishes on ``to_indi/<own id>`` and reads ``from_indi/#`` (or each listed id).
Beyond indi-mr, every site keeps a retained ``online``/``offline`` on ``indi_status/<site id>``
(``offline`` is also its Last Will), which client sides watch to drop a dead site's devices and
to ask a site that comes (back) for everything.

Payload: one or more complete INDI elements (``payload_frames``); anything else is refused with
the reason, and said by the bridge's `Drops`.

Shares: N client sides may split the sites between them (``--share K/N``): each takes the sites
whose ``share_of`` is its K, reading every site's status and only its own sites' traffic.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.protocol import Frame

from .hosts import MqttServer
from .toindi import whole_frames

__all__ = ["OFFLINE", "ONLINE", "Drops", "Topics", "parse_share", "payload_frames", "share_of"]

logger = logging.getLogger(__name__)

ONLINE = b"online"
OFFLINE = b"offline"
MAX_PAYLOAD = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one broker's roots (``mqtt_server``'s fields)."""

    to_indi: str = "to_indi"
    from_indi: str = "from_indi"
    snoop_control: str = "snoop_control"
    snoop_data: str = "snoop_data"
    status: str = "indi_status"

    @classmethod
    def of(cls, host: MqttServer) -> Topics:
        return cls(host.to_indi_topic, host.from_indi_topic, host.snoop_control_topic,
                   host.snoop_data_topic, host.status_topic)

    @staticmethod
    def _each(root: str, ids: Sequence[str]) -> list[str]:
        return [f"{root}/{i}" for i in ids] if ids else [f"{root}/#"]

    def site_subscriptions(self, subscribe_list: Sequence[str]) -> list[str]:
        """What a site reads: the commands of the listed clients (all when none)."""
        return self._each(self.to_indi, subscribe_list)

    def client_subscriptions(self, subscribe_list: Sequence[str]) -> list[str]:
        """What a client side reads: the traffic and status of the listed sites."""
        return self._each(self.from_indi, subscribe_list) + self._each(self.status,
                                                                       subscribe_list)

    def split(self, topic: str) -> tuple[str, str] | None:
        """``(root, id)`` of a topic of ours, or None (a stray topic, or a deeper level)."""
        root, sep, ident = topic.partition("/")
        if not sep or not ident or "/" in ident:
            return None
        if root not in (self.to_indi, self.from_indi, self.snoop_control, self.snoop_data,
                        self.status):
            return None
        return root, ident


def share_of(site: str, shares: int) -> int:
    """Which of ``shares`` client sides (1..shares) takes ``site``: CRC-32 of its id, so every
    process, and every run, agrees without asking the others."""
    return zlib.crc32(site.encode()) % shares + 1


def parse_share(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with 1 <= K <= N, or ValueError saying what is wrong."""
    part, sep, whole = text.partition("/")
    try:
        k, n = int(part), int(whole)
    except ValueError:
        k = n = 0
    if not sep or not 1 <= k <= n:
        raise ValueError(f"a share is K/N with 1 <= K <= N (e.g. 1/2), not {text!r}")
    return k, n


def payload_frames(payload: bytes) -> list[Frame] | str:
    """The complete INDI elements in a payload, or why it is refused."""
    frames = whole_frames(payload, MAX_PAYLOAD)
    if isinstance(frames, str):
        return frames
    if not frames:
        return "no INDI element"
    return frames


class Drops:
    """What a bridge drops of what the broker sends it (a topic not its own, a payload that is
    not whole INDI elements...): each said with its topic, why and the start of its payload,
    a few a window (`WarningBudget`), under the bridge's MQTT id."""

    def __init__(self, mqtt_id: str) -> None:
        self.mqtt_id = mqtt_id
        self._budget = WarningBudget(noun="MQTT messages dropped")

    def drop(self, topic: str, payload: bytes, why: str) -> None:
        note = self._budget.take()
        if note is not None:
            logger.warning("%s: dropped a message on %s (%s): %s%s", self.mqtt_id, topic, why,
                           clip(bytes(payload).decode(errors="replace")), note)

    def frames(self, topic: str, payload: bytes) -> list[Frame] | None:
        """The payload's INDI elements (`payload_frames`), or None when it is dropped."""
        frames = payload_frames(payload)
        if isinstance(frames, str):
            self.drop(topic, payload, frames)
            return None
        return frames
