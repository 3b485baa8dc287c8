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

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from .enums import BLOBEnable, Perm, Rule, State, SwitchState

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
    for name in self.__slots__:
        value = getattr(self, name)
        if value is None:
            continue
        if isinstance(value, Enum):
            parts.append(f"{name}={type(value).__name__}.{value.name}")
        else:
            parts.append(f"{name}={value!r}")
    return f"{type(self).__name__}({', '.join(parts)})"


# ---------------------------------------------------------------- members


@dataclass(frozen=True, slots=True, repr=False)
class Text:
    """A text member (`defText` / `oneText`)."""

    name: str
    value: str = ""
    label: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Number:
    """A number member (`defNumber` / `oneNumber`); `value` stays the wire text.

    The text is kept because INDI numbers may be sexagesimal and `format` is display-only
    (indi-notes 1.3); `.float` converts. `format`/`min`/`max`/`step` are required in `defNumber`;
    in `oneNumber` indilib may send `min`/`max`/`step` to change limits (IUUpdateMinMax).
    """

    name: str
    value: str = "0"
    label: str | None = None
    format: str | None = None
    min: str | None = None
    max: str | None = None
    step: str | None = None

    @property
    def float(self) -> float:
        """The value as a float (integer, real or sexagesimal)."""
        # Imported lazily: numbers.py is written in parallel and is not needed for framing.
        from .numbers import parse_number

        return parse_number(self.value)


@dataclass(frozen=True, slots=True, repr=False)
class Switch:
    """A switch member (`defSwitch` / `oneSwitch`)."""

    name: str
    value: SwitchState = SwitchState.OFF
    label: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class Light:
    """A light member (`defLight` / `oneLight`); its value is a property state."""

    name: str
    value: State = State.IDLE
    label: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class BLOB:
    """A BLOB member (`defBLOB` / `oneBLOB`).

    `data` is the base64-decoded payload, still compressed when `format` ends in `.z`; `size` is
    the wire `size` attribute (bytes after decompression). `enclen` is indilib's base64 length.
    """

    name: str
    data: bytes = b""
    size: int = 0
    format: str = ""
    label: str | None = None
    enclen: int | None = None

    def __repr__(self) -> str:
        # Never dump megabytes of image into a log line.
        extra = f", label={self.label!r}" if self.label is not None else ""
        if self.enclen is not None:
            extra += f", enclen={self.enclen!r}"
        return (
            f"BLOB(name={self.name!r}, data=<{len(self.data)} bytes>, size={self.size!r}, "
            f"format={self.format!r}{extra})"
        )


Member = Text | Number | Switch | Light | BLOB
M = TypeVar("M", Text, Number, Switch, Light, BLOB)


# ---------------------------------------------------------------- vectors


class Vector(Generic[M]):
    """Mapping-like access shared by all vector events: `ev[name]`, `len(ev)`, `iter(ev)`.

    Members are few (typically 1-10), so a linear search is cheaper than building a dict per
    event.
    """

    __slots__ = ()
    members: tuple[M, ...]

    def __getitem__(self, name: str) -> M:
        for member in self.members:
            if member.name == name:
                return member
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(member.name == name for member in self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[str]:
        return (member.name for member in self.members)

    def get(self, name: str, default: Any = None) -> M | Any:
        """The member called `name`, or `default`."""
        for member in self.members:
            if member.name == name:
                return member
        return default

    def _freeze_members(self) -> None:
        # Accept any iterable so callers may pass a list; events must stay hashable and equal
        # to their parsed round trip, which yields tuples.
        if type(self.members) is not tuple:
            object.__setattr__(self, "members", tuple(self.members))


@dataclass(frozen=True, slots=True, repr=False)
class GetProperties:
    """Client asks for definitions; also a driver's snoop request (then usually no version)."""

    version: str | None = None
    device: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class DefTextVector(Vector[Text]):
    device: str
    name: str
    state: State
    perm: Perm
    members: tuple[Text, ...]
    label: str | None = None
    group: str | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class DefNumberVector(Vector[Number]):
    device: str
    name: str
    state: State
    perm: Perm
    members: tuple[Number, ...]
    label: str | None = None
    group: str | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class DefSwitchVector(Vector[Switch]):
    device: str
    name: str
    state: State
    perm: Perm
    rule: Rule
    members: tuple[Switch, ...]
    label: str | None = None
    group: str | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class DefLightVector(Vector[Light]):
    """Lights have no perm and no timeout (SPEC p.3)."""

    device: str
    name: str
    state: State
    members: tuple[Light, ...]
    label: str | None = None
    group: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class DefBLOBVector(Vector[BLOB]):
    """BLOB definitions carry no data (SPEC: defBLOB is EMPTY)."""

    device: str
    name: str
    state: State
    perm: Perm
    members: tuple[BLOB, ...]
    label: str | None = None
    group: str | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class SetTextVector(Vector[Text]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""

    device: str
    name: str
    members: tuple[Text, ...] = field(default=())
    state: State | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class SetNumberVector(Vector[Number]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""

    device: str
    name: str
    members: tuple[Number, ...] = field(default=())
    state: State | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class SetSwitchVector(Vector[Switch]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""

    device: str
    name: str
    members: tuple[Switch, ...] = field(default=())
    state: State | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class SetLightVector(Vector[Light]):
    """Device -> client update of lights (no timeout)."""

    device: str
    name: str
    members: tuple[Light, ...] = field(default=())
    state: State | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class SetBLOBVector(Vector[BLOB]):
    """Device -> client BLOB delivery."""

    device: str
    name: str
    members: tuple[BLOB, ...] = field(default=())
    state: State | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class NewTextVector(Vector[Text]):
    """Client -> device request; real clients send partial vectors (indi_setprop)."""

    device: str
    name: str
    members: tuple[Text, ...] = field(default=())
    timestamp: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class NewNumberVector(Vector[Number]):
    """Client -> device request; real clients send partial vectors (indi_setprop)."""

    device: str
    name: str
    members: tuple[Number, ...] = field(default=())
    timestamp: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class NewSwitchVector(Vector[Switch]):
    """Client -> device request; usually only the switch turning On (SPEC pp.9-10)."""

    device: str
    name: str
    members: tuple[Switch, ...] = field(default=())
    timestamp: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


@dataclass(frozen=True, slots=True, repr=False)
class NewBLOBVector(Vector[BLOB]):
    """Client -> device upload."""

    device: str
    name: str
    members: tuple[BLOB, ...] = field(default=())
    timestamp: str | None = None

    def __post_init__(self) -> None:
        self._freeze_members()


# ---------------------------------------------------------------- other elements


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
