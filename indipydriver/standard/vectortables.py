"""The standard vectors as tables of data, and the one builder that makes vectors from them.

A role's vectors (names, labels, groups, perms, rules, timeouts, members with their formats
and ranges) are what indilib defines: a table of them reads as the list the documentation
gives and can be checked against it at a glance, where the same table written as constructor
calls cannot. A table row holds constants; what a role's options decide (a sensor's size, a
site's latitude, whether a mount can sync) is a `Param`, named in the row and given to
`build`, which makes the vectors in the table's order::

    TABLE = (VectorSpec("FOCUS_MAX", "Max. Position", MAIN_CONTROL_TAB, "rw",
                        (NumberSpec("FOCUS_MAX_VALUE", "Steps", "%.f", 1000, 1000000, 10000,
                                    Param("max_position")),), state="Ok", timeout=60),)
    made = build(TABLE, max_position=60000)
    maximum = made.vector("FOCUS_MAX", NumberVector)
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from ..members import BLOBMember
from ..members import LightMember
from ..members import NumberMember
from ..members import PropertyMember
from ..members import SwitchMember
from ..members import TextMember
from ..vectors import BLOBVector
from ..vectors import LightVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from ..vectors import TextVector

__all__ = ["BLOBSpec", "BuiltVectors", "LightSpec", "NumberSpec", "Param", "SwitchSpec",
           "TextSpec", "VectorSpec", "abort_spec", "build"]

_V = TypeVar("_V", bound=PropertyVector)


@dataclass(frozen=True)
class Param:
    """A value the role's options decide, given to `build` by this name."""

    key: str


#: A cell of a table: the value itself, or the `Param` that gives it.
Cell = Any


@dataclass(frozen=True)
class NumberSpec:
    """A number member: name, label, printf (or INDI sexagesimal) format, range, step, value.

    Values are passed on as written (an int stays an int: the wire writes them as given)."""

    name: str
    label: str
    format: str
    min: Cell
    max: Cell
    step: Cell
    value: Cell
    when: str = ""  # a bool Param: the member is left out when it is false


@dataclass(frozen=True)
class _ValueSpec:
    """A member and its first value: switches, texts and lights alike, but for the default."""

    name: str
    label: str
    value: Cell = ""
    when: str = ""


@dataclass(frozen=True)
class SwitchSpec(_ValueSpec):
    """A switch member and its first value."""

    value: Cell = "Off"


@dataclass(frozen=True)
class TextSpec(_ValueSpec):
    """A text member and its first value."""


@dataclass(frozen=True)
class LightSpec(_ValueSpec):
    """A light member and its first value."""

    value: Cell = "Idle"


@dataclass(frozen=True)
class BLOBSpec:
    """A BLOB member (empty until the role sends one)."""

    name: str
    label: str
    when: str = ""


MemberSpec = NumberSpec | SwitchSpec | TextSpec | LightSpec | BLOBSpec


@dataclass(frozen=True)
class VectorSpec:
    """A vector: name, label, group, perm ("ro"/"rw"; ignored for lights), its members (or a
    `Param` giving the member objects, for members the options list: slew rates, filter
    names), the rule of a switch vector, its first state and timeout (0: not set), and `when`,
    a bool Param that leaves the vector out when false. The members' kind makes its kind."""

    name: str
    label: str
    group: str
    perm: str
    members: Sequence[MemberSpec] | Param
    rule: str = ""
    state: Cell = "Idle"
    timeout: int = 0
    when: str = ""


def abort_spec(name: str, timeout: int = 0) -> VectorSpec:
    """An abort vector as indilib's base classes all define it (DOME_ABORT_MOTION...): "Abort
    Motion", Main Control, one ABORT switch, AtMostOne."""
    return VectorSpec(name, "Abort Motion", "Main Control", "rw", (SwitchSpec("ABORT", "Abort"),),
                      rule="AtMostOne", timeout=timeout)


def _cell(value: Cell, values: Mapping[str, Any]) -> Any:
    return values[value.key] if isinstance(value, Param) else value


def _member(spec: MemberSpec, values: Mapping[str, Any]) -> PropertyMember:
    if isinstance(spec, NumberSpec):
        return NumberMember(spec.name, spec.label, spec.format, _cell(spec.min, values),
                            _cell(spec.max, values), _cell(spec.step, values),
                            _cell(spec.value, values))
    if isinstance(spec, SwitchSpec):
        return SwitchMember(spec.name, spec.label, _cell(spec.value, values))
    if isinstance(spec, TextSpec):
        return TextMember(spec.name, spec.label, _cell(spec.value, values))
    if isinstance(spec, LightSpec):
        return LightMember(spec.name, spec.label, _cell(spec.value, values))
    return BLOBMember(spec.name, spec.label)


def _vector(spec: VectorSpec, values: Mapping[str, Any]) -> PropertyVector:
    if isinstance(spec.members, Param):
        members: list[PropertyMember] = list(values[spec.members.key])
    else:
        members = [_member(member, values) for member in spec.members
                   if not member.when or values[member.when]]
    if not members:
        raise ValueError(f"vector {spec.name!r} needs at least one member")
    state = _cell(spec.state, values)
    first = members[0]
    vector: PropertyVector
    if isinstance(first, SwitchMember):
        vector = SwitchVector(spec.name, spec.label, spec.group, spec.perm, spec.rule, state,
                              [m for m in members if isinstance(m, SwitchMember)])
    elif isinstance(first, NumberMember):
        vector = NumberVector(spec.name, spec.label, spec.group, spec.perm, state,
                              [m for m in members if isinstance(m, NumberMember)])
    elif isinstance(first, TextMember):
        vector = TextVector(spec.name, spec.label, spec.group, spec.perm, state,
                            [m for m in members if isinstance(m, TextMember)])
    elif isinstance(first, LightMember):
        vector = LightVector(spec.name, spec.label, spec.group, state,
                             [m for m in members if isinstance(m, LightMember)])
    elif isinstance(first, BLOBMember):
        vector = BLOBVector(spec.name, spec.label, spec.group, spec.perm, state,
                            [m for m in members if isinstance(m, BLOBMember)])
    else:
        raise TypeError(f"vector {spec.name!r}: no vector holds {type(first).__name__}s")
    if len(vector) != len(members):
        raise TypeError(f"vector {spec.name!r} mixes kinds of members")
    if spec.timeout:
        vector.timeout = spec.timeout
    return vector


class BuiltVectors(Mapping[str, PropertyVector]):
    """The vectors `build` made, by name, in the table's order (those left out absent)."""

    def __init__(self, vectors: Sequence[PropertyVector]) -> None:
        self._vectors = {vector.name: vector for vector in vectors}

    def __getitem__(self, name: str) -> PropertyVector:
        return self._vectors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._vectors)

    def __len__(self) -> int:
        return len(self._vectors)

    def vector(self, name: str, kind: type[_V]) -> _V:
        """The vector `name`, checked to be a `kind` (a typed attribute for the role)."""
        vector = self._vectors[name]
        if not isinstance(vector, kind):
            raise TypeError(f"vector {name!r} is a {type(vector).__name__}, not a "
                            f"{kind.__name__}")
        return vector

    def optional(self, name: str, kind: type[_V]) -> _V | None:
        """The vector `name`, or None when its row's `when` left it out."""
        return self.vector(name, kind) if name in self._vectors else None


def build(table: Sequence[VectorSpec], **values: Any) -> BuiltVectors:
    """Make the vectors of `table`, its `Param` cells filled from `values`."""
    return BuiltVectors([_vector(spec, values) for spec in table
                         if not spec.when or values[spec.when]])
