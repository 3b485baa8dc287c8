"""`VectorHeading`: what every front end's frozen copy of one vector starts with (the terminal's
`VectorInfo`, the web client's `VectorView`), and `vector_kind`, the one reading of a vector's
type as the kind they show.

Both faces copy a vector to draw it from one consistent state (the terminal from the model's
live vector, the web client from the snapshot's JSON shape); the heading, its fields' meaning
and the kind rule are the same in both, so they are written here once. Each face adds its
timestamp (a ``datetime`` or the wire's text), message and members of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "VectorHeading", "vector_kind"]

KINDS = ("Text", "Number", "Switch", "Light", "BLOB")


def vector_kind(vectortype: object) -> str:
    """``NumberVector`` (or ``Number``) as ``Number``...; a type no face knows is shown as
    ``Text``."""
    kind = str(vectortype).removesuffix("Vector")
    return kind if kind in KINDS else "Text"


@dataclass(frozen=True, slots=True)
class VectorHeading:
    """A vector's names and attributes as text: ``kind`` one of `KINDS` (`vector_kind`),
    ``rule`` a switch's rule or None."""

    devicename: str
    name: str
    label: str
    group: str
    kind: str
    state: str
    perm: str
    rule: str | None
