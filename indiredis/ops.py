"""The redis operations the pure modules ask for, as data (``redisstore`` runs them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Delete", "HSet", "Log", "Op", "Publish", "ReplaceList", "SAdd", "SRem",
           "SetValue"]


@dataclass(frozen=True, slots=True)
class HSet:
    """HSET key field value ... (fields not given are kept)."""

    key: str
    mapping: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _KeyValues:
    """An operation on the key ``key`` with the strings ``values`` (each kind its own class,
    so that an SAdd never equals an SRem of the same)."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SAdd(_KeyValues):
    """SADD key value ..."""


@dataclass(frozen=True, slots=True)
class SRem(_KeyValues):
    """SREM key value ..."""


@dataclass(frozen=True, slots=True)
class Delete:
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetValue:
    """SET key value (a string key)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ReplaceList(_KeyValues):
    """The list at ``key`` replaced by ``values`` (DEL then RPUSH)."""


@dataclass(frozen=True, slots=True)
class Log:
    """XADD key MAXLEN ~ maxlen * fields: one entry of a log stream, trimmed."""

    key: str
    fields: Mapping[str, str]
    maxlen: int


@dataclass(frozen=True, slots=True)
class Publish:
    """PUBLISH channel data (in the same pipeline as the writes it announces)."""

    channel: str
    data: bytes


Op = HSet | SAdd | SRem | Delete | SetValue | ReplaceList | Log | Publish
