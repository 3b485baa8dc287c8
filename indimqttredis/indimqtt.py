"""indi-mr's ``indimqttredis.indimqtt``: INDI <-> MQTT at the observatory
(``indiredis.inditomqtt``)."""

from __future__ import annotations

from collections.abc import Sequence

from indiredis.hosts import IndiServer
from indiredis.hosts import MqttServer
from indiredis.mqttsite import inditomqtt

__all__ = ["run"]


def run(indi_host: IndiServer, mqtt_host: MqttServer, mqtt_id: str = "indi_site",
        subscribe_list: Sequence[str] = ()) -> None:
    """Blocks: the INDI server's devices published as site ``mqtt_id``."""
    inditomqtt(indi_host, mqtt_id, mqtt_host, subscribe_list)
