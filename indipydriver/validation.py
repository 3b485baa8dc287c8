"""Checking a client's new values before `rxevent` sees them.

INDI leaves enforcement to the device (SPEC p.3: perm is a hint, "devices must still reject
writes to ro"; p.6: switch rules are "implemented wholly within the Device"). A bad request
never reaches `rxevent`: the driver logs a line naming device, vector, member and why, and
answers the client with a set*Vector of the vector's current values, state Alert and a message
saying what was wrong (`IPyDriver._client_new`), so a client does not show it Busy for ever.
Nothing here changes the driver's vectors: `rxevent` decides what to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indipycore.protocol import events as pe
from indipycore.protocol.acceptance import Limits
from indipycore.protocol.acceptance import VectorShape
from indipycore.protocol.acceptance import judge
from indipycore.protocol.acceptance import vector_shape
from indipycore.protocol.blobs import unpack_blob

from .members import NumberMember
from .vectors import BLOBVector
from .vectors import NumberVector
from .vectors import PropertyVector
from .vectors import SwitchVector
from .vectors import TextVector

__all__ = ["Rejected", "check_new_vector", "shape_of"]

# Which vector class may receive which new* element.
_TARGET: dict[type, type[PropertyVector]] = {
    pe.NewNumberVector: NumberVector,
    pe.NewSwitchVector: SwitchVector,
    pe.NewTextVector: TextVector,
    pe.NewBLOBVector: BLOBVector,
}

# The kind of each vector class, as `VectorShape` names it (a driver may subclass them).
_KINDS: tuple[tuple[type[PropertyVector], str], ...] = (
    (NumberVector, "Number"), (SwitchVector, "Switch"), (TextVector, "Text"),
    (BLOBVector, "BLOB"),
)

# Largest decompressed client upload accepted (a .z BLOB must not inflate without bound).
MAX_BLOB_SIZE = 1 << 30


class Rejected(Exception):
    """A client's request breaks a rule; `str()` says where and why (``device.vector[.member]:
    why``, as `Verdict.message`), `member` which member if one."""

    def __init__(self, reason: str, member: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.member = member


def check_new_vector(
    devices: Mapping[str, Any], raw: Any
) -> tuple[PropertyVector, dict[str, Any]]:
    """The target vector and the converted values of a client's new*Vector, or `Rejected`.

    `devices` are `Device`s by name (anything with `enable` and a vector mapping: the module
    does not import the device, whose standard properties check their loaded settings here).
    The device, the vector and its kind are looked up here; the values are judged by the rule
    every client applies before sending (`protocol.acceptance.judge`), so a request our
    clients would refuse is refused here with the same message. Partial vectors are accepted
    (indi_setprop sends only the members it names).
    """
    device = devices.get(raw.device)
    if device is None:
        raise Rejected(f"{raw.device}: unknown device")
    if not device.enable:
        raise Rejected(f"{raw.device}: device is disabled")
    vector = device.get(raw.name)
    if vector is None:
        raise Rejected(f"{raw.device}.{raw.name}: unknown vector")
    if not vector.enable:
        raise Rejected(f"{raw.device}.{raw.name}: vector is disabled (deleted)")
    expected = _TARGET[type(raw)]
    if not isinstance(vector, expected):
        raise Rejected(f"{raw.device}.{raw.name}: vector is a {type(vector).__name__}, "
                       f"not a {expected.__name__}")
    given: dict[str, Any] = {}
    for member in raw.members:
        if member.name in given:
            raise Rejected(f"{raw.device}.{raw.name}.{member.name}: member given twice",
                           member.name)
        given[member.name] = member.value if not isinstance(member, pe.BLOB) else member
    verdict = judge(shape_of(vector), given)
    if not verdict:
        raise Rejected(verdict.message, verdict.member)
    values = verdict.values
    if isinstance(vector, BLOBVector):
        for name, member in given.items():
            try:
                values[name] = unpack_blob(member.data, member.format, MAX_BLOB_SIZE)
            except ValueError as exc:
                raise Rejected(f"{raw.device}.{raw.name}.{name}: BLOB cannot be decoded "
                               f"({exc})", name) from None
    return vector, values


def shape_of(vector: PropertyVector) -> VectorShape:
    """What `judge` needs of a driver's vector, built by the core's one `vector_shape` (as
    every client face builds it) from its kind, perm, rule, member names and limits."""
    kind = next((k for cls, k in _KINDS if isinstance(vector, cls)), "Light")
    limits: dict[str, Limits] = {
        name: (member._minfloat, member._maxfloat, member._stepfloat)
        for name, member in vector.data.items() if isinstance(member, NumberMember)}
    rule = vector.rule if isinstance(vector, SwitchVector) else None
    return vector_shape(vector.devicename or "", vector.name, kind, vector._perm, rule,
                        vector.data, limits)
