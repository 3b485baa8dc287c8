"""Helpers for programs that read the store and publish to the instruments (indiredis 0.7's
``tools``), blocking, on redis-py's ordinary client.

Each takes the redis connection (``open_redis``) and the ``redis_server`` tuple, as indiredis's
did. Readers return names and values as ``str``; publishers return the timestamp they stamped,
or None when nothing was published (unknown vector, a value the protocol refuses).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import Any

import redis

from indipycore.protocol.acceptance import judge
from indipycore.protocol.errors import LocalProtocolError
from indipycore.protocol.errors import ProtocolError

from .hosts import RedisServer
from .keys import Keys
from .toxml import enable_blob_xml
from .toxml import get_properties_xml
from .toxml import new_vector_xml
from .toxml import stored_shape

logger = logging.getLogger(__name__)

__all__ = ["attributes_dict", "devices", "elements", "elements_dict", "enableblob",
           "getProperties", "last_message", "logs", "newblobvector", "newnumbervector",
           "newswitchvector", "newtextvector", "open_redis", "properties", "property_elements"]


def open_redis(redisserver: RedisServer) -> tuple[redis.Redis | None, str]:
    """A connection to the store's redis and "" , or None and why not (as indiredis)."""
    try:
        rconn = redis.Redis(host=redisserver.host, port=redisserver.port, db=redisserver.db,
                            password=redisserver.password or None, decode_responses=True,
                            socket_timeout=5)
        rconn.ping()
    except redis.RedisError as exc:
        return None, f"cannot open redis {redisserver.host}:{redisserver.port}: {exc}"
    return rconn, ""


def _k(redisserver: RedisServer, bare: str) -> str:
    return Keys(redisserver.keyprefix).full(bare)


def devices(rconn: Any, redisserver: RedisServer) -> list[str]:
    """The device names, sorted."""
    return sorted(rconn.smembers(_k(redisserver, Keys.devices())))


def properties(rconn: Any, redisserver: RedisServer, device: str) -> list[str]:
    """The device's vector names, sorted."""
    return sorted(rconn.smembers(_k(redisserver, Keys.properties(device))))


def elements(rconn: Any, redisserver: RedisServer, name: str, device: str) -> list[str]:
    """The vector's member names in definition order."""
    order = rconn.lrange(_k(redisserver, Keys.elementorder(name, device)), 0, -1)
    return list(order) or sorted(rconn.smembers(_k(redisserver, Keys.elements(name, device))))


def attributes_dict(rconn: Any, redisserver: RedisServer, name: str,
                    device: str) -> dict[str, str]:
    """The vector's attributes hash."""
    return dict(rconn.hgetall(_k(redisserver, Keys.attributes(name, device))))


def elements_dict(rconn: Any, redisserver: RedisServer, elementname: str, name: str,
                  device: str) -> dict[str, str]:
    """One member's hash."""
    return dict(rconn.hgetall(_k(redisserver, Keys.elementattributes(elementname, name,
                                                                     device))))


def property_elements(rconn: Any, redisserver: RedisServer, name: str,
                      device: str) -> list[dict[str, str]]:
    """Every member's hash, in definition order."""
    return [elements_dict(rconn, redisserver, member, name, device)
            for member in elements(rconn, redisserver, name, device)]


def logs(rconn: Any, redisserver: RedisServer, number: int,
         *keys: str) -> list[tuple[str, Any]]:
    """The newest ``number`` entries of the log stream of the bare key made of ``keys``
    (e.g. ``"elementattributes", "RA", "EQUATORIAL_EOD_COORD", "Telescope Simulator"``), newest
    first: (timestamp, decoded JSON) pairs."""
    from .keys import join_key

    stream = _k(redisserver, Keys.logdata(join_key(*keys)))
    entries = rconn.xrevrange(stream, count=max(1, number))
    return [(fields["timestamp"], json.loads(fields["datastring"])) for _, fields in entries]


def last_message(rconn: Any, redisserver: RedisServer, device: str = "") -> str | None:
    """The last message (``"<timestamp> <text>"``) of a device, or the last device-less one."""
    key = Keys.devicemessages(device) if device else Keys.messages()
    value = rconn.get(_k(redisserver, key))
    return str(value) if value is not None else None


def _publish(rconn: Any, redisserver: RedisServer, data: bytes) -> str:
    rconn.publish(redisserver.to_indi_channel, data)
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def getProperties(rconn: Any, redisserver: RedisServer, name: str = "",
                  device: str = "") -> str:
    """Ask for everything, a device, or one vector."""
    return _publish(rconn, redisserver, get_properties_xml(device, name))


def enableblob(rconn: Any, redisserver: RedisServer, name: str, device: str,
               instruction: str) -> str | None:
    """``enableBLOB`` (``Never``, ``Also``, ``Only``) for a device or one of its vectors."""
    try:
        return _publish(rconn, redisserver, enable_blob_xml(device, instruction, name))
    except (ValueError, LocalProtocolError):
        return None


def _new(rconn: Any, redisserver: RedisServer, kind: str, name: str, device: str,
         values: Mapping[str, object]) -> str | None:
    attributes = attributes_dict(rconn, redisserver, name, device)
    if attributes.get("vector") != kind:
        return None
    members = property_elements(rconn, redisserver, name, device)
    # The rule every client applies (protocol.acceptance): a refusal is logged with its
    # message and nothing is published (indiredis's helpers return None then).
    verdict = judge(stored_shape(device, name, attributes, members), values)
    if not verdict:
        logger.warning("not published: %s", verdict.message)
        return None
    checked = verdict.values if kind != "BLOBVector" else dict(values)
    current: dict[str, str] = {}
    # Switches send only what is given: filling the others from the store could break the
    # vector's rule (two On in a OneOfMany).
    if kind in ("TextVector", "NumberVector"):
        for member in members:
            if "name" in member and "value" in member:
                current[member["name"]] = member["value"]
    try:
        data = new_vector_xml(kind, device, name, checked, current,
                              elements(rconn, redisserver, name, device))
    except (ValueError, LocalProtocolError, ProtocolError):
        return None
    return _publish(rconn, redisserver, data)


def newtextvector(rconn: Any, redisserver: RedisServer, name: str, device: str,
                  values: Mapping[str, str]) -> str | None:
    """Set texts (members not given keep the values in the store)."""
    return _new(rconn, redisserver, "TextVector", name, device, values)


def newnumbervector(rconn: Any, redisserver: RedisServer, name: str, device: str,
                    values: Mapping[str, object]) -> str | None:
    """Set numbers (members not given keep the values in the store)."""
    return _new(rconn, redisserver, "NumberVector", name, device, values)


def newswitchvector(rconn: Any, redisserver: RedisServer, name: str, device: str,
                    values: Mapping[str, str]) -> str | None:
    """Set switches (``On``/``Off``; members not given keep the values in the store)."""
    return _new(rconn, redisserver, "SwitchVector", name, device, values)


def newblobvector(rconn: Any, redisserver: RedisServer, name: str, device: str,
                  values: Mapping[str, tuple[bytes, str]]) -> str | None:
    """Send BLOBs: member -> (bytes, format)."""
    return _new(rconn, redisserver, "BLOBVector", name, device, values)
