"""What the client knows of a server's devices: devices -> vectors -> members, as data. Pure.

``Device`` (a mapping of vector name -> vector), the vectors (``PropertyVector`` and one class
per kind, mappings of member name -> value) and their members, read by programs and events
alike. Imports nothing of the package: ``events`` names these types and ``model`` fills them,
so neither imports the other back; import them from here.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from indipycore.byname import ByName
from indipycore.protocol import State
from indipycore.protocol.acceptance import Limits
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import vector_shape
from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import parse_number

__all__ = [
    "BLOBMember",
    "BLOBVector",
    "ByName",
    "Device",
    "LightMember",
    "LightVector",
    "Member",
    "NumberMember",
    "NumberVector",
    "PropertyVector",
    "SwitchMember",
    "SwitchVector",
    "TextMember",
    "TextVector",
]

MAX_MESSAGES = 8  # 0.9.4 keeps the last 8 messages

# ---------------------------------------------------------------------------- members


class Member:
    """One member of a vector: ``name``, ``label`` and ``value`` (``membervalue`` in 0.9.4)."""

    __slots__ = ("label", "name", "value")

    def __init__(self, name: str, label: str, value: Any) -> None:
        self.name = name
        self.label = label
        self.value = value

    @property
    def membervalue(self) -> Any:
        """The value (indipyclient 0.9.4's name)."""
        return self.value

    def labels(self) -> Any:
        """What 0.9.4's ``memberlabels`` held for this member: its label."""
        return self.label

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}={self.value!r}>"


class TextMember(Member):
    __slots__ = ()
    value: str


class SwitchMember(Member):
    __slots__ = ()
    value: str


class LightMember(Member):
    __slots__ = ()
    value: str


class NumberMember(Member):
    """A number: ``value`` is the wire text; ``format``/``min``/``max``/``step`` as defined."""

    __slots__ = ("format", "max", "min", "step")
    value: str

    def __init__(
        self, name: str, label: str, value: str, format: str, min: str, max: str, step: str
    ) -> None:
        super().__init__(name, label, value)
        self.format = format
        self.min = min
        self.max = max
        self.step = step

    def getfloatvalue(self) -> float:
        """The value as a float (integer, real or sexagesimal text)."""
        return parse_number(self.value)

    def getformattedvalue(self) -> str:
        """The value as the driver's ``format`` shows it (printf or INDI ``%m``); the raw
        text when the format cannot be applied."""
        return self.getformattedstring(self.getfloatvalue())

    def getformattedstring(self, value: float) -> str:
        """Any ``value`` shown in this member's format."""
        try:
            return format_number(value, self.format)
        except ValueError:
            return repr(value)

    def labels(self) -> tuple[str, str, str, str, str]:
        return (self.label, self.format, self.min, self.max, self.step)


class BLOBMember(Member):
    """A BLOB: ``value`` is always None (bodies are not kept); ``blobsize``/``blobformat`` of the
    last one received, ``filename`` where it was saved (None if not saved)."""

    __slots__ = ("blobformat", "blobsize", "filename")

    def __init__(self, name: str, label: str) -> None:
        super().__init__(name, label, None)
        self.blobsize = 0
        self.blobformat = ""
        self.filename: str | None = None


# ---------------------------------------------------------------------------- vectors


class PropertyVector(ByName[Any]):
    """A vector as the client knows it; a mapping of member name -> value.

    Attributes: ``devicename``, ``name``, ``vectortype`` (``"NumberVector"``...), ``label``,
    ``group``, ``state`` (a ``State``, equal to its string ``"Ok"``...), ``perm`` (lights
    ``"ro"``), ``rule`` (switches only, else None), ``timeout`` (seconds), ``timestamp`` and
    ``message_timestamp`` (aware UTC datetimes), ``message``, ``enable`` (True while defined).
    """

    __slots__ = (
        "_by_name",
        "_shape",
        "device",
        "devicename",
        "enable",
        "group",
        "label",
        "members_",
        "message",
        "message_timestamp",
        "name",
        "perm",
        "rule",
        "snap",
        "state",
        "timeout",
        "timestamp",
    )
    vectortype = ""

    def __init__(
        self,
        device: Device,
        name: str,
        label: str,
        group: str,
        state: State,
        perm: str,
        timeout: float,
        timestamp: datetime,
        message: str,
    ) -> None:
        self.device: Device | None = device
        self.devicename = device.devicename
        self.name = name
        self.label = label
        self.group = group
        self.state = state
        self.perm = perm
        self.rule: str | None = None
        self.timeout = timeout
        self.timestamp = timestamp
        self.message = message
        self.message_timestamp = timestamp
        self.enable = True
        self.members_: dict[str, Any] = {}
        self._by_name = self.members_  # names, length and membership (ByName); values below
        # This vector in the snapshot shape, built by `snapshot.vector_dict` when first asked
        # and dropped (None) by every change: a snapshot copies only what changed since the
        # last one. Never mutated once built.
        self.snap: dict[str, Any] | None = None
        # What the value rule needs of this vector (`shape`), built when first asked and
        # dropped (None) when a set brings new limits: a definition makes a new vector.
        self._shape: VectorShape | None = None

    @property
    def shape(self) -> VectorShape:
        """What the value rule (``protocol.acceptance.judge``) needs of this vector, built by
        the core's one `vector_shape`: every face that holds this model asks here."""
        if self._shape is None:
            limits: dict[str, Limits] = {
                name: (m.min, m.max, m.step) for name, m in self.members_.items()
                if isinstance(m, NumberMember)}
            self._shape = vector_shape(self.devicename, self.name, self.vectortype, self.perm,
                                       self.rule, self.members_, limits)
        return self._shape

    def limits_changed(self) -> None:
        """A member's min, max or step changed: the shape is built again when next asked."""
        self._shape = None

    def __getitem__(self, membername: str) -> Any:
        return self.members_[membername].value

    def member(self, membername: str) -> Any:
        """The member object (``label``, ``value``; numbers also ``format``/``min``/...)."""
        return self.members_[membername]

    def members(self) -> dict[str, Any]:
        """Member name -> member object (a copy)."""
        return dict(self.members_)

    def memberlabel(self, membername: str) -> str:
        return str(self.members_[membername].label)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.devicename}.{self.name} {self.state} {dict(self)}>"


class TextVector(PropertyVector):
    __slots__ = ()
    vectortype = "TextVector"


class SwitchVector(PropertyVector):
    __slots__ = ()
    vectortype = "SwitchVector"


class LightVector(PropertyVector):
    __slots__ = ()
    vectortype = "LightVector"


class BLOBVector(PropertyVector):
    __slots__ = ()
    vectortype = "BLOBVector"


class NumberVector(PropertyVector):
    """A number vector: ``getfloatvalue(member)`` and ``getformattedvalue(member)`` too."""

    __slots__ = ()
    vectortype = "NumberVector"

    def getfloatvalue(self, membername: str) -> float:
        member: NumberMember = self.members_[membername]
        return member.getfloatvalue()

    def getformattedvalue(self, membername: str) -> str:
        member: NumberMember = self.members_[membername]
        return member.getformattedvalue()


# ---------------------------------------------------------------------------- by name

# `ByName` (the model's devices, a device's vectors, an event's values) is the driver side's,
# imported above and re-exported here.


# ---------------------------------------------------------------------------- devices


class Device(ByName[PropertyVector]):
    """A device: a mapping of vector name -> vector, with its last ``messages`` (newest first,
    ``(timestamp, text)`` pairs as in 0.9.4)."""

    __slots__ = ("_by_name", "devicename", "messages", "vectors")

    def __init__(self, devicename: str, max_messages: int = MAX_MESSAGES) -> None:
        self.devicename = devicename
        self.vectors: dict[str, PropertyVector] = {}
        self._by_name = self.vectors
        self.messages: deque[tuple[datetime, str]] = deque(maxlen=max_messages)

    @property
    def enable(self) -> bool:
        """True while the device has a vector (0.9.4 name)."""
        return bool(self.vectors)

    def __repr__(self) -> str:
        return f"<Device {self.devicename} {len(self.vectors)} vectors>"
