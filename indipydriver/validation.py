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

from .device import Device
from .members import NumberMember
from .protocol import events as pe
from .protocol.blobs import unpack_blob
from .protocol.enums import Perm, Rule, SwitchState
from .vectors import (
    BLOBVector,
    NumberVector,
    PropertyVector,
    SwitchVector,
    TextVector,
)

__all__ = ["Rejected", "check_new_vector"]

# Which vector class may receive which new* element.
_TARGET: dict[type, type[PropertyVector]] = {
    pe.NewNumberVector: NumberVector,
    pe.NewSwitchVector: SwitchVector,
    pe.NewTextVector: TextVector,
    pe.NewBLOBVector: BLOBVector,
}

# Largest decompressed client upload accepted (a .z BLOB must not inflate without bound).
MAX_BLOB_SIZE = 1 << 30


class Rejected(Exception):
    """A client's request breaks a rule; `str()` says why, `member` which member if one."""

    def __init__(self, reason: str, member: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.member = member


def check_new_vector(
    devices: Mapping[str, Device], raw: Any
) -> tuple[PropertyVector, dict[str, Any]]:
    """The target vector and the converted values of a client's new*Vector, or `Rejected`.

    Partial vectors are accepted (indi_setprop sends only the members it names).
    """
    device = devices.get(raw.device)
    if device is None:
        raise Rejected("unknown device")
    if not device.enable:
        raise Rejected("device is disabled")
    vector = device.get(raw.name)
    if vector is None:
        raise Rejected("unknown vector")
    if not vector.enable:
        raise Rejected("vector is disabled (deleted)")
    expected = _TARGET[type(raw)]
    if not isinstance(vector, expected):
        raise Rejected(f"vector is a {type(vector).__name__}, not a {expected.__name__}")
    if vector._perm is Perm.RO:
        raise Rejected("vector is read-only")
    if not raw.members:
        raise Rejected("no member given (a new vector carries at least one, SPEC DTD)")
    values: dict[str, Any] = {}
    for member in raw.members:
        target = vector.data.get(member.name)
        if target is None:
            raise Rejected("unknown member", member.name)
        if member.name in values:
            raise Rejected("member given twice", member.name)
        values[member.name] = _convert(target, member)
    if isinstance(vector, SwitchVector):
        _check_rule(vector, values)
    return vector, values


def _convert(target: Any, member: Any) -> Any:
    if isinstance(member, pe.Number):
        try:
            value = member.float
        except ValueError as exc:
            raise Rejected(f"value does not parse as a number ({exc})", member.name) from None
        assert isinstance(target, NumberMember)
        if not target.in_limits(value):
            raise Rejected(
                # min/max as the driver wrote them (3.x keeps them as text: no quotes here)
                f"value {value!r} is outside min {target.min} .. max {target.max}",
                member.name,
            )
        return value
    if isinstance(member, pe.Switch):
        try:
            return SwitchState(member.value)
        except ValueError:
            raise Rejected(f"switch value {member.value!r} is not On or Off", member.name) from None
    if isinstance(member, pe.BLOB):
        try:
            return unpack_blob(member.data, member.format, MAX_BLOB_SIZE)
        except ValueError as exc:
            raise Rejected(f"BLOB cannot be decoded ({exc})", member.name) from None
    return member.value


def _check_rule(vector: SwitchVector, values: dict[str, Any]) -> None:
    """OneOfMany: exactly one On afterwards; AtMostOne: at most one On afterwards.

    A client normally sends only the switch it turns On (SPEC pp.9-10), which implies the
    others go Off; so more than one On in the request is an error, and a request of only Offs
    is judged by what it leaves On.
    """
    if vector._rule is Rule.ANY_OF_MANY:
        return
    # In the vector's order, as a client shows the switches, whatever order the request had.
    on = [name for name in vector.data if values.get(name) is SwitchState.ON]
    if len(on) > 1:
        raise Rejected(f"{vector.rule} allows one switch On, request turns on "
                       f"{', '.join(map(repr, on))}")
    if on or vector._rule is Rule.AT_MOST_ONE:
        return
    left_on = [
        name
        for name, member in vector.data.items()
        if member.membervalue == "On" and values.get(name) is not SwitchState.OFF
    ]
    if not left_on:
        raise Rejected("OneOfMany needs one switch On, request would leave none On")
