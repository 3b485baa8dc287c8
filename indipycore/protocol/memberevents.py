"""The member events: one frozen dataclass per kind of member (`events` re-exports them).

One class serves both the `def*` and the `one*` element of its kind; the parent vector decides
which element and which attributes are written (`elements.py`). Their readable repr is set in
`events`, with the other events'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from .enums import State
from .enums import SwitchState

__all__ = ["BLOB", "Light", "Member", "Number", "Switch", "Text"]


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
