"""Checking the values a program wants to send, before anything is sent.

``new_vector(vector, values)`` turns ``{member: value}`` into the ``newXXXVector`` protocol
event, or raises ``InvalidValue`` (a ``ValueError``) naming the device, the vector and, where
one is at fault, the member:

* the vector is read-only (``perm="ro"``, every light vector);
* no member given, or a member the vector does not have;
* a number that does not parse (integer, real or sexagesimal text, or a Python int/float) or
  lies outside the member's ``min``..``max`` (unless min == max, INDI 1.7 p.6: no limits);
  numbers are sent as plain decimals, which every peer reads alike (indi-notes 1.3);
* a text that is not a ``str``;
* a switch value other than ``"On"``/``"Off"`` (or a bool); more than one On for
  ``OneOfMany``/``AtMostOne``; a ``OneOfMany`` vector left with no switch On;
* a BLOB that is not bytes, a path, or ``(bytes | path, size, format)``, or a file that cannot
  be read. ``size`` 0 means the length of the bytes; a format ending in ``.z`` is compressed
  here (``size`` stays the uncompressed length, INDI 1.7 p.9).

Only the members given are sent (what indi_setprop does and drivers accept; indi-notes 1.2).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indipydriver.protocol import (
    BLOB,
    NewBLOBVector,
    NewNumberVector,
    NewSwitchVector,
    NewTextVector,
    Number,
    Switch,
    SwitchState,
    Text,
)
from indipydriver.protocol.blobs import pack_blob
from indipydriver.protocol.numbers import number_to_wire, parse_number
from indipydriver.protocol.timestamps import now_timestamp

from .model import BLOBVector, NumberMember, NumberVector, PropertyVector, SwitchVector, TextVector

__all__ = ["InvalidValue", "NewVector", "new_vector"]

NewVector = NewTextVector | NewNumberVector | NewSwitchVector | NewBLOBVector


class InvalidValue(ValueError):
    """A value the client refused to send; ``device``, ``vector``, ``member`` say where."""

    def __init__(self, device: str, vector: str, member: str | None, reason: str) -> None:
        where = f"{device}.{vector}" + (f".{member}" if member is not None else "")
        super().__init__(f"{where}: {reason}")
        self.device = device
        self.vector = vector
        self.member = member
        self.reason = reason


def new_vector(vector: PropertyVector, values: Mapping[str, Any],
               timestamp: str | None = None) -> NewVector:
    """The ``newXXXVector`` for ``values``; raises ``InvalidValue`` (see the module docstring)."""
    def fail(member: str | None, reason: str) -> InvalidValue:
        return InvalidValue(vector.devicename, vector.name, member, reason)

    if vector.perm == "ro":
        raise fail(None, f"the {vector.vectortype} is read-only")
    if not values:
        raise fail(None, "no member values given")
    for name in values:
        if name not in vector:
            known = ", ".join(vector) or "none"
            raise fail(name, f"no such member (members: {known})")
    stamp = timestamp if timestamp is not None else now_timestamp()
    device, name = vector.devicename, vector.name
    if isinstance(vector, NumberVector):
        numbers = tuple(Number(m, _number(vector.member(m), v, fail)) for m, v in values.items())
        return NewNumberVector(device, name, numbers, timestamp=stamp)
    if isinstance(vector, TextVector):
        texts = []
        for m, v in values.items():
            if not isinstance(v, str):
                raise fail(m, f"a text value must be a str, not {type(v).__name__}")
            texts.append(Text(m, v))
        return NewTextVector(device, name, tuple(texts), timestamp=stamp)
    if isinstance(vector, SwitchVector):
        return NewSwitchVector(device, name, _switches(vector, values, fail), timestamp=stamp)
    if isinstance(vector, BLOBVector):
        blobs = tuple(_blob(m, v, fail) for m, v in values.items())
        return NewBLOBVector(device, name, blobs, timestamp=stamp)
    raise fail(None, f"a {vector.vectortype} cannot be set")


def _number(member: NumberMember, value: Any, fail: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise fail(member.name, f"a number must be an int, float or numeric text, not "
                                f"{type(value).__name__}")
    if isinstance(value, str):
        try:
            number = parse_number(value)
        except ValueError:
            raise fail(member.name, f"{value!r} is not a number (integer, real or "
                                    "sexagesimal like 12:30:15)") from None
    else:
        number = float(value)
        if not math.isfinite(number):
            raise fail(member.name, f"{value!r} is not a finite number")
    try:
        low, high = parse_number(member.min), parse_number(member.max)
    except ValueError:
        low = high = 0.0
    if low != high and not low <= number <= high:
        raise fail(member.name, f"{value!r} is outside {member.min} .. {member.max}")
    return number_to_wire(number)


def _switches(vector: SwitchVector, values: Mapping[str, Any], fail: Any) -> tuple[Switch, ...]:
    switches = []
    for m, v in values.items():
        if isinstance(v, bool):
            state = SwitchState.ON if v else SwitchState.OFF
        elif v in (SwitchState.ON, SwitchState.OFF):
            state = SwitchState(v)
        else:
            raise fail(m, f"a switch is 'On' or 'Off', not {v!r}")
        switches.append(Switch(m, state))
    turned_on = [s.name for s in switches if s.value is SwitchState.ON]
    if vector.rule in ("OneOfMany", "AtMostOne") and len(turned_on) > 1:
        raise fail(turned_on[1], f"{vector.rule} allows one switch On, not "
                                 f"{', '.join(turned_on)}")
    if vector.rule == "OneOfMany" and not turned_on:
        after = {n: vector[n] for n in vector} | {s.name: s.value for s in switches}
        if sum(1 for v in after.values() if v == SwitchState.ON) != 1:
            raise fail(switches[0].name, "OneOfMany needs one switch On: turn another On "
                                         "instead of turning this one Off")
    return tuple(switches)


def _blob(member: str, value: Any, fail: Any) -> BLOB:
    size, fmt = 0, ""
    if isinstance(value, tuple):
        if len(value) != 3:
            raise fail(member, "a BLOB is bytes, a path or (bytes | path, size, format)")
        value, size, fmt = value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif isinstance(value, str | os.PathLike):
        path = Path(value)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise fail(member, f"cannot read {str(path)!r}: {exc.strerror}") from None
        if not fmt:
            fmt = "".join(path.suffixes)
    else:
        raise fail(member, f"a BLOB is bytes or a path, not {type(value).__name__}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise fail(member, f"a BLOB size must be a whole number of bytes, not {size!r}")
    if not isinstance(fmt, str):
        raise fail(member, f"a BLOB format must be a str like '.fits', not {fmt!r}")
    return BLOB(member, pack_blob(data, fmt), size or len(data), fmt)
