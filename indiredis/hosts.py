"""The host tuples of indiredis 0.7 / indi-mr 0.4, with the same fields and defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import NamedTuple

if TYPE_CHECKING:
    from ssl import SSLContext

__all__ = ["IndiServer", "MqttServer", "RedisServer", "indi_server", "mqtt_server",
           "redis_server"]


class IndiServer(NamedTuple):
    """An INDI server; ``tls`` (an ``ssl.SSLContext``: ``indipycore.tls.client_context``) for
    its TLS port, None for plain TCP."""

    host: str = "localhost"
    port: int = 7624
    tls: SSLContext | None = None


class RedisServer(NamedTuple):
    host: str = "localhost"
    port: int = 6379
    db: int = 0
    password: str = ""
    keyprefix: str = "indi_"
    to_indi_channel: str = "to_indi"
    from_indi_channel: str = "from_indi"


class MqttServer(NamedTuple):
    """A broker. Beyond indi-mr: ``status_topic`` (each site's retained status and Last Will)
    and ``tls`` (an ``ssl.SSLContext``, or None for plain TCP)."""

    host: str = "localhost"
    port: int = 1883
    username: str = ""
    password: str = ""
    to_indi_topic: str = "to_indi"
    from_indi_topic: str = "from_indi"
    snoop_control_topic: str = "snoop_control"
    snoop_data_topic: str = "snoop_data"
    status_topic: str = "indi_status"
    tls: object = None


def indi_server(host: str = "localhost", port: int = 7624,
                tls: SSLContext | None = None) -> IndiServer:
    """Where an INDI server listens (its TLS port with `tls`)."""
    return IndiServer(host, port, tls)


def redis_server(host: str = "localhost", port: int = 6379, db: int = 0, password: str = "",
                 keyprefix: str = "indi_", to_indi_channel: str = "to_indi",
                 from_indi_channel: str = "from_indi") -> RedisServer:
    """A redis server, the key prefix and the two pub/sub channels."""
    return RedisServer(host, port, db, password, keyprefix, to_indi_channel, from_indi_channel)


def mqtt_server(host: str = "localhost", port: int = 1883, username: str = "",
                password: str = "", to_indi_topic: str = "to_indi",
                from_indi_topic: str = "from_indi", snoop_control_topic: str = "snoop_control",
                snoop_data_topic: str = "snoop_data", status_topic: str = "indi_status",
                tls: object = None) -> MqttServer:
    """An MQTT broker, its credentials, the topic roots and (optionally) an SSL context."""
    return MqttServer(host, port, username, password, to_indi_topic, from_indi_topic,
                      snoop_control_topic, snoop_data_topic, status_topic, tls)
