"""Redis values -> INDI XML, pure: the elements programs publish on ``to_indi``.

``new_vector_xml`` builds a ``new*Vector`` from the values a program gives and, for members it
leaves out, the values the store holds (indiredis's helpers filled them from redis the same
way); ``get_properties_xml`` and ``enable_blob_xml`` the other two requests. Values are checked
by the protocol core's serialiser (names, switch states, numbers as plain decimals).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from indipycore.protocol import BLOBEnable
from indipycore.protocol import SwitchState
from indipycore.protocol import events as ev
from indipycore.protocol import serialise
from indipycore.protocol.acceptance import Limits
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import vector_shape
from indipycore.protocol.numbers import number_to_wire
from indipycore.protocol.numbers import parse_number

__all__ = ["enable_blob_xml", "get_properties_xml", "new_vector_xml", "stored_shape"]


def stored_shape(device: str, name: str, attributes: Mapping[str, str],
                 members: Sequence[Mapping[str, str]]) -> VectorShape:
    """What the shared rule (`protocol.acceptance.judge`) needs of a vector as the store holds
    it (its ``attributes`` hash and its members' hashes, in order), built by the core's one
    `vector_shape` from the stored kind, perm, rule, names and limit texts."""
    named = [member for member in members if "name" in member]
    limits: dict[str, Limits] = {
        member["name"]: (member.get("min"), member.get("max"), member.get("step"))
        for member in named}
    return vector_shape(device, name, attributes.get("vector", ""), attributes.get("perm", "ro"),
                        attributes.get("rule"), (member["name"] for member in named), limits)


def get_properties_xml(device: str = "", name: str = "") -> bytes:
    """``<getProperties version="1.7" .../>`` for everything, a device, or one property."""
    return serialise(ev.GetProperties(version="1.7", device=device or None,
                                      name=(name or None) if device else None))


def enable_blob_xml(device: str, value: str = "Also", name: str = "") -> bytes:
    """``<enableBLOB>`` for a device or one of its BLOB properties."""
    return serialise(ev.EnableBLOB(device, BLOBEnable(value), name or None))


def new_vector_xml(kind: str, device: str, name: str, values: Mapping[str, object],
                   current: Mapping[str, str] | None = None,
                   order: list[str] | None = None) -> bytes:
    """A ``new<kind>`` element (``kind`` is ``TextVector``, ``NumberVector``, ``SwitchVector``
    or ``BLOBVector`` as in the ``vector`` attribute) with ``values`` over ``current`` (member
    -> value held in the store), members in ``order`` when given."""
    merged: dict[str, object] = dict(current or {})
    merged.update(values)
    names = [n for n in (order or []) if n in merged] + [n for n in merged
                                                        if n not in (order or [])]
    if kind == "TextVector":
        return serialise(ev.NewTextVector(device, name, tuple(
            ev.Text(n, str(merged[n])) for n in names)))
    if kind == "NumberVector":
        return serialise(ev.NewNumberVector(device, name, tuple(
            ev.Number(n, _number(merged[n])) for n in names)))
    if kind == "SwitchVector":
        return serialise(ev.NewSwitchVector(device, name, tuple(
            ev.Switch(n, SwitchState(str(merged[n]))) for n in names)))
    if kind == "BLOBVector":
        members = []
        for n in names:
            given = merged[n]
            data: object = given[0] if isinstance(given, tuple) else given
            fmt: object = given[1] if isinstance(given, tuple) and len(given) > 1 else ""
            blob = bytes(data) if isinstance(data, (bytes, bytearray)) else str(data).encode()
            members.append(ev.BLOB(n, blob, len(blob), str(fmt)))
        return serialise(ev.NewBLOBVector(device, name, tuple(members)))
    raise ValueError(f"no new vector of kind {kind!r} (lights are read-only)")


def _number(value: object) -> str:
    if isinstance(value, (int, float)):
        return number_to_wire(float(value))
    return number_to_wire(parse_number(str(value)))
