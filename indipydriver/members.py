"""Property members: the single values a vector holds (indipydriver 3.x names and signatures).

Each member validates a value when it is assigned and caches the XML of its `one*` element, so
sending a vector is a join of ready strings (the send path is the driver's hot path).
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from typing import IO, Any

from .naming import checked_string
from .protocol.enums import State, SwitchState
from .protocol.numbers import (
    check_number_format,
    float_format_for,
    format_number,
    number_to_wire,
    parse_number,
)
from .wire import escape

__all__ = [
    "BLOBMember",
    "LightMember",
    "NumberMember",
    "PropertyMember",
    "SwitchMember",
    "TextMember",
    "getfloat",
]

logger = logging.getLogger(__name__)


def getfloat(value: float | str) -> float:
    """A number given as float, int or INDI text (integer, real or sexagesimal) as a float.

    Raises TypeError for other types and ValueError for text that is not an INDI number.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return parse_number(value)
    raise TypeError(f"not a number: {value!r}")


class PropertyMember(ABC):
    """Common part of all members: `name`, `label` and the `changed` flag used by
    `send_setVector(allvalues=False)`."""

    _tag = ""

    def __init__(self, name: str, label: str | None = None) -> None:
        kind = type(self).__name__
        self.name = checked_string(name, "name", kind)
        self.label = checked_string(label, "label", f"{kind} {name!r}") if label else name
        self.changed = True
        self._open = f'<{self._tag} name="{escape(name)}">'
        self._close = f"</{self._tag}>"
        self._one = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, membervalue={self.membervalue!r})"

    # Each kind of member defines the value it holds and how it is checked when assigned.
    @property
    @abstractmethod
    def membervalue(self) -> Any: ...

    @membervalue.setter
    @abstractmethod
    def membervalue(self, value: Any) -> None: ...

    @abstractmethod
    def _def(self) -> str:
        """The member's `def*` element."""

    def _label_attr(self) -> str:
        return f' label="{escape(self.label)}"'


class SwitchMember(PropertyMember):
    """A switch, 'On' or 'Off'."""

    _tag = "oneSwitch"

    def __init__(self, name: str, label: str | None = None, membervalue: str = "Off") -> None:
        super().__init__(name, label)
        self._value = SwitchState.OFF
        self.membervalue = membervalue

    @property
    def membervalue(self) -> SwitchState:
        return self._value

    @membervalue.setter
    def membervalue(self, value: str) -> None:
        try:
            new = SwitchState(value)
        except ValueError:
            raise ValueError(f"switch {self.name!r}: {value!r} is not 'On' or 'Off'") from None
        if new is not self._value or not self._one:
            self._value = new
            self.changed = True
            self._one = f"{self._open}{new.value}{self._close}"

    def _def(self) -> str:
        return f'<defSwitch name="{escape(self.name)}"{self._label_attr()}>{self._value.value}</defSwitch>'


class LightMember(PropertyMember):
    """A light: a property state ('Idle', 'Ok', 'Busy', 'Alert'), shown as a colour."""

    _tag = "oneLight"

    def __init__(self, name: str, label: str | None = None, membervalue: str = "Idle") -> None:
        super().__init__(name, label)
        self._value = State.IDLE
        self.membervalue = membervalue

    @property
    def membervalue(self) -> State:
        return self._value

    @membervalue.setter
    def membervalue(self, value: str) -> None:
        try:
            new = State(value)
        except ValueError:
            raise ValueError(
                f"light {self.name!r}: {value!r} is not one of Idle, Ok, Busy, Alert"
            ) from None
        if new is not self._value or not self._one:
            self._value = new
            self.changed = True
            self._one = f"{self._open}{new.value}{self._close}"

    def _def(self) -> str:
        return f'<defLight name="{escape(self.name)}"{self._label_attr()}>{self._value.value}</defLight>'


class TextMember(PropertyMember):
    """A text value."""

    _tag = "oneText"

    def __init__(self, name: str, label: str | None = None, membervalue: str = "") -> None:
        super().__init__(name, label)
        self._value: str | None = None
        self.membervalue = membervalue

    @property
    def membervalue(self) -> str:
        return self._value if self._value is not None else ""

    @membervalue.setter
    def membervalue(self, value: str) -> None:
        if not isinstance(value, str):
            # 3.x API: every bad member value raises ValueError, whatever its type.
            raise ValueError(f"text {self.name!r}: {value!r} is not a string")  # noqa: TRY004
        if value != self._value:
            self._value = value
            self.changed = True
            self._one = f"{self._open}{escape(value)}{self._close}"

    def _def(self) -> str:
        return (
            f'<defText name="{escape(self.name)}"{self._label_attr()}>'
            f"{escape(self.membervalue)}</defText>"
        )


class NumberMember(PropertyMember):
    """A number with its display `format` and limits; min == max means no limits.

    The value may be given as float, int or INDI text (sexagesimal too); it is sent as a plain
    decimal, because C peers misread some sexagesimal forms (indi-notes 1.3) and `format` is for
    display only.
    """

    _tag = "oneNumber"

    def __init__(
        self,
        name: str,
        label: str | None = None,
        format: str = "",
        min: float | str = 0,
        max: float | str = 0,
        step: float | str = 0,
        membervalue: float | str = "0",
    ) -> None:
        super().__init__(name, label)
        self.format = format
        self.min = min
        self.max = max
        self.step = step
        self._value: float | str = "0"
        self._float = float("nan")
        self._warned_limits = False
        self.membervalue = membervalue

    @property
    def format(self) -> str:
        """How clients display the value: printf for a C double (``%.2f``, ``%g``) or INDI's
        sexagesimal ``%<w>.<f>m``; empty sends ``%g``. Checked when set (`check_number_format`):
        C clients pass it to ``snprintf`` with a double."""
        return self._format

    @format.setter
    def format(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"number {self.name!r}: format must be a string such as '%g', not "
                            f"{type(value).__name__} {value!r} (positional arguments are name, "
                            "label, format, min, max, step, membervalue)")
        if value:
            try:
                check_number_format(value)
            except ValueError as exc:
                rewritten = float_format_for(value)
                if rewritten is None:
                    raise ValueError(f"number {self.name!r}: {exc}") from None
                # 3.x took %d: C clients print a double with it as garbage, so it goes out
                # as the %.0f that shows the same whole number.
                logger.warning("number %r: format %r sent as %r (C clients print a double "
                               "with it)", self.name, value, rewritten)
                value = rewritten
        self._format = value

    def _limit(self, value: float | str, what: str) -> float:
        try:
            return getfloat(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"number {self.name!r}: {what} {value!r} is not a number "
                             f"({exc})") from None

    # Limits keep what the user gave (3.x returned it unchanged) plus a float for checks.
    @property
    def min(self) -> float | str:
        return self._min

    @min.setter
    def min(self, value: float | str) -> None:
        self._minfloat = self._limit(value, "min")
        self._min = value

    @property
    def max(self) -> float | str:
        return self._max

    @max.setter
    def max(self, value: float | str) -> None:
        self._maxfloat = self._limit(value, "max")
        self._max = value

    @property
    def step(self) -> float | str:
        return self._step

    @step.setter
    def step(self, value: float | str) -> None:
        self._stepfloat = self._limit(value, "step")
        self._step = value

    @property
    def membervalue(self) -> float | str:
        return self._value

    @membervalue.setter
    def membervalue(self, value: float | str) -> None:
        try:
            number = getfloat(value)
            wire = number_to_wire(number)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"number {self.name!r}: {value!r} is not a number ({exc})") from None
        self._value = value
        if number != self._float:
            self._float = number
            self.changed = True
            self._one = f"{self._open}{wire}{self._close}"

    def getfloatvalue(self) -> float:
        """The value as a float."""
        return self._float

    def getformattedvalue(self) -> str:
        """The value as the client would display it with this member's `format`."""
        return self.format_number(self._float)

    def format_number(self, value: float | str) -> str:
        """Format any number with this member's `format` (printf or INDI `%<w>.<f>m`)."""
        return format_number(getfloat(value), self._format or "%g")

    def in_limits(self, value: float) -> bool:
        """Whether a value respects min/max. INDI ignores max when min == max (SPEC p.6); with
        min > max (a mistake, warned about when defined) nothing is refused either, rather than
        everything."""
        if self._minfloat >= self._maxfloat:
            return True
        return self._minfloat <= value <= self._maxfloat

    def _def(self) -> str:
        if self._minfloat > self._maxfloat and not self._warned_limits:
            self._warned_limits = True
            logger.warning("number %r: min %r is above max %r: clients are sent both, and "
                           "the framework checks no limits", self.name, self._min, self._max)
        return (
            f'<defNumber name="{escape(self.name)}"{self._label_attr()}'
            f' format="{escape(self._format or "%g")}" min="{number_to_wire(self._minfloat)}"'
            f' max="{number_to_wire(self._maxfloat)}" step="{number_to_wire(self._stepfloat)}">'
            f"{number_to_wire(self._float)}</defNumber>"
        )


BLOBValue = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | None


class BLOBMember(PropertyMember):
    """A binary large object: bytes, a path to a file, or a binary file object.

    `blobsize` (bytes before any compression) applies to the next send only; 0 means the length
    of the data sent. `blobformat` is a file suffix such as '.fits' or '.fits.z'.
    """

    _tag = "oneBLOB"

    def __init__(
        self,
        name: str,
        label: str | None = None,
        blobsize: int = 0,
        blobformat: str = "",
        membervalue: BLOBValue = None,
    ) -> None:
        super().__init__(name, label)
        if not isinstance(blobsize, int):
            # 3.x API: a bad blobsize raises ValueError, whatever its type.
            raise ValueError(  # noqa: TRY004
                f"BLOB {name!r}: blobsize must be an int, not {blobsize!r}"
            )
        self.blobsize = blobsize
        self.blobformat = blobformat
        self._value: BLOBValue = membervalue

    @property
    def membervalue(self) -> BLOBValue:
        return self._value

    @membervalue.setter
    def membervalue(self, value: BLOBValue) -> None:
        self._value = value
        self.changed = True

    def read_value(self) -> bytes:
        """The data to send now: bytes as they are, a path's contents, or a file object read."""
        value = self._value
        if value is None:
            return b""
        if isinstance(value, bytes):
            return value
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, (str, os.PathLike)):
            with open(value, "rb") as handle:
                return handle.read()
        if hasattr(value, "read"):
            if hasattr(value, "seek"):
                value.seek(0)
            return bytes(value.read())
        raise TypeError(f"BLOB {self.name!r}: cannot send a {type(value).__name__}")

    def __repr__(self) -> str:
        value = self._value
        shown = f"<{len(value)} bytes>" if isinstance(value, (bytes, bytearray)) else repr(value)
        return f"BLOBMember(name={self.name!r}, blobformat={self.blobformat!r}, membervalue={shown})"

    def _def(self) -> str:
        # SPEC p.9: defBLOB is EMPTY, BLOBs have no initial value.
        return f'<defBLOB name="{escape(self.name)}"{self._label_attr()}/>'
