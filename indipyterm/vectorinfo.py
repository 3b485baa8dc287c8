"""What the screen draws, copied out of the client's live vectors (no textual, no I/O).

The client's vector objects change under the screen as elements arrive; a panel is drawn from
a :class:`VectorInfo` taken at refresh time instead, so one drawing sees one consistent state
and the widgets never hold the client's objects. This module is also the one place that reads
``indipyclient``'s attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from indipyclient.model.vectorheading import VectorHeading
from indipyclient.model.vectorheading import vector_kind
from indipycore.protocol.acceptance import Limits
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import parse_limit
from indipycore.protocol.acceptance import vector_shape
from indipycore.protocol.numbers import parse_number

__all__ = ["MemberInfo", "VectorInfo", "float_or_none"]


def float_or_none(text: object) -> float | None:
    """A number member's value as a float, None when it does not read as one."""
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return parse_number(str(text))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """One member as the screen shows it. Numbers carry their format and limits as floats;
    BLOBs the size, format and saved file name of the last one received."""

    name: str
    label: str
    value: str
    format: str | None = None
    minimum: float = 0.0
    maximum: float = 0.0
    step: float = 0.0
    blobsize: int | None = None
    blobformat: str = ""
    filename: str | None = None

    @classmethod
    def from_member(cls, member: Any) -> MemberInfo:
        value = member.value
        if hasattr(member, "format"):
            return cls(
                member.name, member.label, "" if value is None else str(value), member.format,
                parse_limit(member.min), parse_limit(member.max), parse_limit(member.step),
            )
        if hasattr(member, "blobsize"):
            return cls(
                member.name, member.label, "", blobsize=member.blobsize or None,
                blobformat=member.blobformat or "", filename=member.filename,
            )
        return cls(member.name, member.label, "" if value is None else str(value))


@dataclass(frozen=True, slots=True)
class VectorInfo(VectorHeading):
    """One vector as the screen shows it: the heading every face has (``kind`` is Text,
    Number, Switch, Light or BLOB), its timestamp, message and members."""

    timestamp: datetime | None
    message: str
    members: tuple[MemberInfo, ...]

    @classmethod
    def from_vector(cls, vector: Any) -> VectorInfo:
        """Copy a client vector (``indipyclient``'s ``PropertyVector``)."""
        rule = getattr(vector, "rule", None)
        return cls(
            devicename=vector.devicename,
            name=vector.name,
            label=vector.label or vector.name,
            group=vector.group or "",
            kind=vector_kind(vector.vectortype),
            state=str(vector.state),
            perm=str(vector.perm),
            rule=None if rule is None else str(rule),
            timestamp=vector.timestamp,
            message=vector.message or "",
            members=tuple(MemberInfo.from_member(vector.member(name)) for name in vector),
        )

    @property
    def shape(self) -> VectorShape:
        """What the value rule needs of the vector shown, built by the core's one
        `vector_shape` (the limits copied are the model's, read by the same `parse_limit`)."""
        limits: dict[str, Limits] = {m.name: (m.minimum, m.maximum, m.step)
                                     for m in self.members}
        return vector_shape(self.devicename, self.name, self.kind, self.perm, self.rule,
                            (m.name for m in self.members), limits)

    def member(self, name: str) -> MemberInfo | None:
        for member in self.members:
            if member.name == name:
                return member
        return None

    def signature(self) -> tuple[object, ...]:
        """What the panel's layout depends on: a redefinition that changes it rebuilds the
        panel; one that does not is drawn in place like a set."""
        return (
            self.kind, self.perm, self.rule,
            tuple((m.name, m.label, m.format, m.minimum, m.maximum) for m in self.members),
        )

    def numbers(self) -> dict[str, float]:
        """Number members' values as floats (those that read as numbers)."""
        values: dict[str, float] = {}
        if self.kind == "Number":
            for member in self.members:
                value = float_or_none(member.value)
                if value is not None:
                    values[member.name] = value
        return values

