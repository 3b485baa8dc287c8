"""The INDI 1.7 protocol events: one frozen dataclass per top-level element.

Events are wire-faithful (docs/architecture.md): attribute values are the entity-decoded,
whitespace-stripped strings from the wire, except the enumerations, which are the enums of
`enums.py`; an absent optional attribute is None. Members are shared by the `def*` and `one*`
elements; the parent vector decides which element and which attributes are written
(`elements.py`). Construction does no validation beyond turning `members` into a tuple, because
events are built on the hot path of every driver and server; the serialiser checks required
attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .enums import BLOBEnable
from .memberevents import BLOB
from .memberevents import Light
from .memberevents import Member
from .memberevents import Number
from .memberevents import Switch
from .memberevents import Text
from .vectorevents import DefBLOBVector
from .vectorevents import DefLightVector
from .vectorevents import DefNumberVector
from .vectorevents import DefSwitchVector
from .vectorevents import DefTextVector
from .vectorevents import NewBLOBVector
from .vectorevents import NewNumberVector
from .vectorevents import NewSwitchVector
from .vectorevents import NewTextVector
from .vectorevents import SetBLOBVector
from .vectorevents import SetLightVector
from .vectorevents import SetNumberVector
from .vectorevents import SetSwitchVector
from .vectorevents import SetTextVector
from .vectorevents import Vector

__all__ = [
    "BLOB",
    "DefBLOBVector",
    "DefLightVector",
    "DefNumberVector",
    "DefSwitchVector",
    "DefTextVector",
    "DelProperty",
    "EnableBLOB",
    "Event",
    "GetProperties",
    "Light",
    "Member",
    "Message",
    "NewBLOBVector",
    "NewNumberVector",
    "NewSwitchVector",
    "NewTextVector",
    "Number",
    "PingReply",
    "PingRequest",
    "SetBLOBVector",
    "SetLightVector",
    "SetNumberVector",
    "SetSwitchVector",
    "SetTextVector",
    "Switch",
    "Text",
    "Vector",
]


def _readable_repr(self: Any) -> str:
    """`Cls(a='x', state=State.OK)`: optional fields that are None are left out of log lines."""
    parts = []
    for name in self.__dataclass_fields__:
        value = getattr(self, name)
        if value is None:
            continue
        if isinstance(value, Enum):
            parts.append(f"{name}={type(value).__name__}.{value.name}")
        else:
            parts.append(f"{name}={value!r}")
    return f"{type(self).__name__}({', '.join(parts)})"


# ---------------------------------------------------------------- other elements


@dataclass(frozen=True, slots=True, repr=False)
class GetProperties:
    """Client asks for definitions; also a driver's snoop request (then usually no version)."""

    version: str | None = None
    device: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Message:
    """A message for the user; no device means site-wide."""

    device: str | None = None
    timestamp: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class DelProperty:
    """Property (or, without name, the whole device) is gone."""

    device: str
    name: str | None = None
    timestamp: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class EnableBLOB:
    """Client's BLOB policy for a device (or one property); only servers act on it."""

    device: str
    value: BLOBEnable
    name: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class PingRequest:
    """indilib extension: a peer asks for a PingReply with the same uid (BLOB back-pressure)."""

    uid: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class PingReply:
    """indilib extension: the answer to a PingRequest."""

    uid: str | None = None


Event = (
    GetProperties
    | DefTextVector
    | DefNumberVector
    | DefSwitchVector
    | DefLightVector
    | DefBLOBVector
    | SetTextVector
    | SetNumberVector
    | SetSwitchVector
    | SetLightVector
    | SetBLOBVector
    | NewTextVector
    | NewNumberVector
    | NewSwitchVector
    | NewBLOBVector
    | Message
    | DelProperty
    | EnableBLOB
    | PingRequest
    | PingReply
)


for _cls in (
    Text,
    Number,
    Switch,
    Light,
    GetProperties,
    DefTextVector,
    DefNumberVector,
    DefSwitchVector,
    DefLightVector,
    DefBLOBVector,
    SetTextVector,
    SetNumberVector,
    SetSwitchVector,
    SetLightVector,
    SetBLOBVector,
    NewTextVector,
    NewNumberVector,
    NewSwitchVector,
    NewBLOBVector,
    Message,
    DelProperty,
    EnableBLOB,
    PingRequest,
    PingReply,
):
    _cls.__repr__ = _readable_repr  # type: ignore[method-assign]
del _cls
