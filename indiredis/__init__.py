"""indiredis: INDI <-> redis and INDI <-> MQTT bridges (optional extras ``[redis]``, ``[mqtt]``).

The public names of indiredis 0.7 and indi-mr 0.4, each blocking function with an async twin
(``..._async``); see docs/bridges.rst for the layouts, the key schema and the topics.
"""

from __future__ import annotations

from . import tools
from .hosts import indi_server, mqtt_server, redis_server
from .mqttclient import mqtttoport, mqtttoport_async, mqtttoredis, mqtttoredis_async
from .mqttlink import MqttRefused
from .mqttsite import driverstomqtt, driverstomqtt_async, inditomqtt, inditomqtt_async
from .toredis import driverstoredis, driverstoredis_async, inditoredis, inditoredis_async

__all__ = [
    "MqttRefused",
    "driverstomqtt",
    "driverstomqtt_async",
    "driverstoredis",
    "driverstoredis_async",
    "indi_server",
    "inditomqtt",
    "inditomqtt_async",
    "inditoredis",
    "inditoredis_async",
    "mqtt_server",
    "mqtttoport",
    "mqtttoport_async",
    "mqtttoredis",
    "mqtttoredis_async",
    "redis_server",
    "tools",
]
