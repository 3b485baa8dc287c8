"""indi-mr 0.4's package layout, a thin alias of ``indiredis``.

``from indimqttredis import indiredis, indimqtt, mqttredis, indi_server, redis_server,
mqtt_server``, then ``indiredis.run(indi_host, redis_host)``, ``indimqtt.run(indi_host,
mqtt_host)`` and ``mqttredis.run(mqtt_host, redis_host)``; ``toxml`` / ``fromxml`` name our pure
conversion modules. The host tuples take indi-mr's positional fields.
"""

from __future__ import annotations

from indiredis.hosts import MqttServer
from indiredis.hosts import RedisServer
from indiredis.hosts import indi_server

from . import fromxml
from . import indimqtt
from . import indiredis
from . import mqttredis
from . import toxml

__all__ = ["fromxml", "indi_server", "indimqtt", "indiredis", "mqtt_server", "mqttredis",
           "redis_server", "toxml"]


def redis_server(host: str = "localhost", port: int = 6379, db: int = 0, password: str = "",
                 keyprefix: str = "indi_") -> RedisServer:
    """indi-mr's redis tuple: the channels keep their defaults."""
    return RedisServer(host, port, db, password, keyprefix)


def mqtt_server(host: str = "localhost", port: int = 1883, username: str = "",
                password: str = "", to_indi_topic: str = "to_indi",
                from_indi_topic: str = "from_indi") -> MqttServer:
    """indi-mr's MQTT tuple: the snoop and status topics keep their defaults."""
    return MqttServer(host, port, username, password, to_indi_topic, from_indi_topic)



