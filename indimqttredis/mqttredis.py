"""indi-mr's ``indimqttredis.mqttredis``: MQTT <-> redis at the web server
(``indiredis.mqtttoredis``)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from indiredis.hosts import MqttServer
from indiredis.hosts import RedisServer
from indiredis.mqttclient import mqtttoredis

__all__ = ["run"]


def run(mqtt_host: MqttServer, redis_host: RedisServer, mqtt_id: str = "indi_web",
        subscribe_list: Sequence[str] = (), log_lengths: Mapping[str, int] | None = None,
        blob_folder: str | Path = "") -> None:
    """Blocks: every site's devices kept in redis (``blob_folder`` defaults to
    ``./indiblobs``)."""
    mqtttoredis(mqtt_id, mqtt_host, redis_host, subscribe_list, log_lengths,
                blob_folder or Path("indiblobs"))
