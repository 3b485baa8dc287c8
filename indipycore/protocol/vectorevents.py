"""The vector events: `Vector`, their mapping-like base, and the def/set/new vector of each
kind of member (`events` re-exports them). Their readable repr is set in `events`, with the
other events'.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Generic

from .enums import Perm
from .enums import Rule
from .enums import State
from .memberevents import BLOB
from .memberevents import Light
from .memberevents import M
from .memberevents import Number
from .memberevents import Switch
from .memberevents import Text

__all__ = [
    "DefBLOBVector",
    "DefLightVector",
    "DefNumberVector",
    "DefSwitchVector",
    "DefTextVector",
    "NewBLOBVector",
    "NewNumberVector",
    "NewSwitchVector",
    "NewTextVector",
    "SetBLOBVector",
    "SetLightVector",
    "SetNumberVector",
    "SetSwitchVector",
    "SetTextVector",
    "Vector",
]


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

    def __post_init__(self) -> None:
        # Accept any iterable so callers may pass a list; events must stay hashable and equal
        # to their parsed round trip, which yields tuples. (Each dataclass below calls this.)
        if type(self.members) is not tuple:
            object.__setattr__(self, "members", tuple(self.members))


# The fields each family shares, declared once; the member kind is the type parameter. A
# dataclass is equal only to one of its own class, so a DefTextVector never equals a
# DefNumberVector with the same fields.


@dataclass(frozen=True, slots=True, repr=False)
class _DefVector(Vector[M]):
    device: str
    name: str
    state: State
    perm: Perm
    members: tuple[M, ...]
    label: str | None = None
    group: str | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class _SetVector(Vector[M]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""

    device: str
    name: str
    members: tuple[M, ...] = field(default=())
    state: State | None = None
    timeout: str | None = None
    timestamp: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class _NewVector(Vector[M]):
    device: str
    name: str
    members: tuple[M, ...] = field(default=())
    timestamp: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class DefTextVector(_DefVector[Text]):
    """A device defines a text property."""


@dataclass(frozen=True, slots=True, repr=False)
class DefNumberVector(_DefVector[Number]):
    """A device defines a number property."""


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


@dataclass(frozen=True, slots=True, repr=False)
class DefBLOBVector(_DefVector[BLOB]):
    """BLOB definitions carry no data (SPEC: defBLOB is EMPTY)."""


@dataclass(frozen=True, slots=True, repr=False)
class SetTextVector(_SetVector[Text]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""


@dataclass(frozen=True, slots=True, repr=False)
class SetNumberVector(_SetVector[Number]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""


@dataclass(frozen=True, slots=True, repr=False)
class SetSwitchVector(_SetVector[Switch]):
    """Device -> client update; members may be only the changed ones, or none (state only)."""


@dataclass(frozen=True, slots=True, repr=False)
class SetLightVector(Vector[Light]):
    """Device -> client update of lights (no timeout)."""

    device: str
    name: str
    members: tuple[Light, ...] = field(default=())
    state: State | None = None
    timestamp: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class SetBLOBVector(_SetVector[BLOB]):
    """Device -> client BLOB delivery."""


@dataclass(frozen=True, slots=True, repr=False)
class NewTextVector(_NewVector[Text]):
    """Client -> device request; real clients send partial vectors (indi_setprop)."""


@dataclass(frozen=True, slots=True, repr=False)
class NewNumberVector(_NewVector[Number]):
    """Client -> device request; real clients send partial vectors (indi_setprop)."""


@dataclass(frozen=True, slots=True, repr=False)
class NewSwitchVector(_NewVector[Switch]):
    """Client -> device request; usually only the switch turning On (SPEC pp.9-10)."""


@dataclass(frozen=True, slots=True, repr=False)
class NewBLOBVector(_NewVector[BLOB]):
    """Client -> device upload."""
