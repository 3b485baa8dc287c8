"""Checking the values a program wants to send, before anything is sent.

``new_vector(vector, values)`` turns ``{member: value}`` into the ``newXXXVector`` protocol
event, or raises ``InvalidValue`` (a ``ValueError``) whose text is the shared rule's message
(``device.vector[.member]: why``; ``protocol.acceptance.judge`` on the vector's own
``shape``, the rule the terminal, the web client, the bridges and our drivers apply too,
docs/acceptance.rst): read-only vectors, unknown
members, numbers (int, float, integer, real or sexagesimal text) outside ``min``..``max`` when
min < max, texts XML cannot carry, switch values other than On/Off (or a bool), switch rules.
Numbers are sent as plain decimals, which every peer reads alike (indi-notes 1.3).

BLOBs, the library's own: bytes, a path, or ``(bytes | path, size, format)``; a file that
cannot be read is refused. ``size`` 0 means the length of the bytes; a format ending in ``.z``
is compressed here (``size`` stays the uncompressed length, INDI 1.7 p.9).

Only the members given are sent (what indi_setprop does and drivers accept; indi-notes 1.2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indipycore.protocol import BLOB
from indipycore.protocol import NewBLOBVector
from indipycore.protocol import NewNumberVector
from indipycore.protocol import NewSwitchVector
from indipycore.protocol import NewTextVector
from indipycore.protocol import Number
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import Text
from indipycore.protocol.acceptance import Verdict
from indipycore.protocol.acceptance import judge
from indipycore.protocol.blobs import pack_blob
from indipycore.protocol.numbers import number_to_wire
from indipycore.protocol.timestamps import now_timestamp

from .properties import NumberVector
from .properties import PropertyVector
from .properties import SwitchVector
from .properties import TextVector

__all__ = ["InvalidValue", "NewVector", "new_vector"]

NewVector = NewTextVector | NewNumberVector | NewSwitchVector | NewBLOBVector


class InvalidValue(ValueError):
    """A value the client refused to send; ``device``, ``vector``, ``member`` say where."""

    def __init__(self, device: str, vector: str, member: str | None, reason: str) -> None:
        super().__init__(Verdict(device, vector, False, member=member, reason=reason).message)
        self.device = device
        self.vector = vector
        self.member = member
        self.reason = reason


def new_vector(vector: PropertyVector, values: Mapping[str, Any],
               timestamp: str | None = None) -> NewVector:
    """The ``newXXXVector`` for ``values``; raises ``InvalidValue`` (see the module docstring)."""
    verdict = judge(vector.shape, values)
    if not verdict:
        raise InvalidValue(vector.devicename, vector.name, verdict.member, verdict.reason)
    checked = verdict.values
    stamp = timestamp if timestamp is not None else now_timestamp()
    device, name = vector.devicename, vector.name
    if isinstance(vector, NumberVector):
        numbers = tuple(Number(m, number_to_wire(v)) for m, v in checked.items()
                        if isinstance(v, float))  # judge made every value a float
        return NewNumberVector(device, name, numbers, timestamp=stamp)
    if isinstance(vector, TextVector):
        texts = tuple(Text(m, str(v)) for m, v in checked.items())
        return NewTextVector(device, name, texts, timestamp=stamp)
    if isinstance(vector, SwitchVector):
        switches = tuple(Switch(m, v) for m, v in checked.items()
                         if isinstance(v, SwitchState))  # judge made every value a SwitchState
        return NewSwitchVector(device, name, switches, timestamp=stamp)
    blobs = tuple(_blob(vector, m, v) for m, v in checked.items())
    return NewBLOBVector(device, name, blobs, timestamp=stamp)


def _blob(vector: PropertyVector, member: str, value: Any) -> BLOB:
    def fail(member: str, reason: str) -> InvalidValue:
        return InvalidValue(vector.devicename, vector.name, member, reason)

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
