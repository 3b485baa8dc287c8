"""The redis key names of the store, pure.

A key is the key prefix followed by its parts joined with ``:`` (the schema indiredis 0.7 and
indi-mr 0.4 use, so their readers keep working). Names come from the drivers and may hold ``:``
themselves, which would make two keys alike (device ``a:b`` property ``c`` against device ``b``
property ``a:c``...). The rule here: inside a key, each name has ``%`` written ``%25`` and ``:``
written ``%3A`` (percent-encoding of just those two characters), so ``:`` in a key is always a
separator and ``split_key`` gives the names back. Names without ``%`` or ``:`` (all of indilib's)
are unchanged, so the keys are exactly indiredis's. Set members and hash fields hold the names
as they are; only keys are encoded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys", "join_key", "key_part", "split_key", "unkey_part"]


def key_part(name: str) -> str:
    """A name as it appears inside a key (``%`` -> ``%25``, ``:`` -> ``%3A``)."""
    if "%" not in name and ":" not in name:
        return name
    return name.replace("%", "%25").replace(":", "%3A")


def unkey_part(part: str) -> str:
    """The name a key part stands for (the inverse of ``key_part``)."""
    if "%" not in part:
        return part
    return part.replace("%3A", ":").replace("%25", "%")


def join_key(*names: str) -> str:
    """The parts of a key (without the prefix), each encoded, joined with ``:``."""
    return ":".join(key_part(name) for name in names)


def split_key(key: str) -> list[str]:
    """The names in a key made by ``join_key`` (without the prefix)."""
    return [unkey_part(part) for part in key.split(":")]


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key of one store, under ``prefix`` (``indi_`` by default)."""

    prefix: str = "indi_"

    def full(self, bare: str) -> str:
        return self.prefix + bare

    # The bare keys (no prefix): also the names of their log streams (``logdata:<bare>``).
    @staticmethod
    def devices() -> str:
        return "devices"

    @staticmethod
    def properties(device: str) -> str:
        return join_key("properties", device)

    @staticmethod
    def propertyorder(device: str) -> str:
        """A list of the device's vector names in definition order (the ``properties`` set
        loses it, and a client shows the tabs and panels in it)."""
        return join_key("propertyorder", device)

    @staticmethod
    def attributes(vector: str, device: str) -> str:
        return join_key("attributes", vector, device)

    @staticmethod
    def elements(vector: str, device: str) -> str:
        return join_key("elements", vector, device)

    @staticmethod
    def elementorder(vector: str, device: str) -> str:
        """A list of the member names in definition order (the ``elements`` set loses it)."""
        return join_key("elementorder", vector, device)

    @staticmethod
    def elementattributes(member: str, vector: str, device: str) -> str:
        return join_key("elementattributes", member, vector, device)

    @staticmethod
    def messages() -> str:
        return "messages"

    @staticmethod
    def devicemessages(device: str) -> str:
        return join_key("devicemessages", device)

    @staticmethod
    def getproperties(device: str | None = None, vector: str | None = None) -> str:
        if device is None:
            return "getProperties"
        if vector is None:
            return join_key("getProperties", "device", device)
        return join_key("getProperties", "property", vector, device)

    @staticmethod
    def logdata(bare: str) -> str:
        return "logdata:" + bare
