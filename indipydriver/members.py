"""Property members: the single values a vector holds (indipydriver 3.x names and signatures).

Each member validates a value when it is assigned and caches the XML of its `one*` element
(spelt by the protocol core's writer, `protocol.serialiser`), so sending a vector is a join of
ready strings (the send path is the driver's hot path).
"""

from __future__ import annotations

import logging
import os
import pathlib
from abc import ABC
from abc import abstractmethod
from typing import IO
from typing import Any
from typing import ClassVar

from indipycore.protocol.acceptance import within_limits
from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.numbers import check_number_format
from indipycore.protocol.numbers import float_format_for
from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import number_to_wire
from indipycore.protocol.numbers import parse_number
from indipycore.protocol.serialiser import COMPACT
from indipycore.protocol.serialiser import attribute
from indipycore.protocol.serialiser import element_pieces
from indipycore.protocol.serialiser import end_tag
from indipycore.protocol.serialiser import start_tag

from .naming import checked_string
from .wire import escape

__all__ = [
    "BLOBMember",
    "LightMember",
    "NumberError",
    "NumberMember",
    "PropertyMember",
    "SwitchMember",
    "TextMember",
    "getfloat",
]

logger = logging.getLogger(__name__)


# The members' `def*` elements, as the writer's pieces (the escaped values go between them).
_DEF_SWITCH = element_pieces("defSwitch", ("name", "label"), True, COMPACT)
_DEF_LIGHT = element_pieces("defLight", ("name", "label"), True, COMPACT)
_DEF_TEXT = element_pieces("defText", ("name", "label"), True, COMPACT)
_DEF_NUMBER = element_pieces("defNumber", ("name", "label", "format", "min", "max", "step"), True,
                             COMPACT)
_DEF_BLOB = element_pieces("defBLOB", ("name", "label"), False, COMPACT)


class NumberError(TypeError, ValueError):
    """Not an INDI number. Both a TypeError, as indipydriver 3.x raised (drivers written for it
    catch that), and a ValueError, as Python raises for ``float("x")``."""


def getfloat(value: float | str) -> float:
    """A number given as float, int or INDI text (integer, real or sexagesimal) as a float.

    Raises `NumberError` (a TypeError and a ValueError) for anything else.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError as exc:
            raise NumberError(str(exc)) from None
    raise NumberError(f"not a number: {value!r}")


class PropertyMember(ABC):
    """Common part of all members: `name`, `label` and the `changed` flag used by
    `send_setVector(allvalues=False)`.

    Values read back as indipydriver 3.x gave them: plain strings (``'On'``, ``'Ok'``, a number
    as it was given, ``'15'`` for ``15``); what is sent is checked when a value is assigned.
    """

    _tag = ""

    def __init__(self, name: str, label: str | None = None) -> None:
        kind = type(self).__name__
        self.name = checked_string(name, "name", kind)
        self.label = checked_string(label, "label", f"{kind} {name!r}") if label else name
        self.changed = True
        # `_one` is `_open`, the value's text, `_close`: its `one*` element.
        self._open = start_tag(self._tag, attribute("name", escape(name)), COMPACT)
        self._close = end_tag(self._tag, COMPACT)
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


    @staticmethod
    def checkvalue(value: Any, allowed: list[Any]) -> Any:
        """`value` when it is one of `allowed`, else ValueError (indipydriver 3.x helper)."""
        if value not in allowed:
            raise ValueError(f"value {value!r} is not one of {', '.join(map(repr, allowed))}")
        return value


class _StateMember(PropertyMember):
    """A member whose value is one of an enum's words: a switch or a light.

    Subclasses name the enum, its starting value, the refusal's wording and their `def*` pieces.
    """

    _words: ClassVar[dict[str, SwitchState | State]]  # each word the enum allows, to its member
    _refusal = ""  # "{kind} {name!r}: {value!r} is not ..." ends with this
    _kind = ""
    _defpieces: tuple[str, ...] = ()

    def __init__(self, name: str, label: str | None, membervalue: str, initial: SwitchState | State
                 ) -> None:
        super().__init__(name, label)
        self._value = initial  # the enum, for the framework's own checks
        self._text = initial.value  # what `membervalue` gives: a plain str, as 3.x gave
        self.membervalue = membervalue

    @property
    def membervalue(self) -> str:
        return self._text

    @membervalue.setter
    def membervalue(self, value: str) -> None:
        try:
            new = self._words[value]
        except (KeyError, TypeError):  # TypeError: unhashable, so not a word either
            raise ValueError(
                f"{self._kind} {self.name!r}: {value!r} is not {self._refusal}"
            ) from None
        if new is not self._value or not self._one:
            self._value = new
            self._text = new.value
            self.changed = True
            self._one = f"{self._open}{new.value}{self._close}"

    def _def(self) -> str:
        p0, p1, p2, p3 = self._defpieces
        return f"{p0}{escape(self.name)}{p1}{escape(self.label)}{p2}{self._value.value}{p3}"


class SwitchMember(_StateMember):
    """A switch, 'On' or 'Off'."""

    _tag = "oneSwitch"
    _words: ClassVar[dict[str, SwitchState | State]] = {s.value: s for s in SwitchState}
    _kind = "switch"
    _refusal = "'On' or 'Off'"
    _defpieces = _DEF_SWITCH

    def __init__(self, name: str, label: str | None = None, membervalue: str = "Off") -> None:
        super().__init__(name, label, membervalue, SwitchState.OFF)


class LightMember(_StateMember):
    """A light: a property state ('Idle', 'Ok', 'Busy', 'Alert'), shown as a colour."""

    _tag = "oneLight"
    _words: ClassVar[dict[str, SwitchState | State]] = {s.value: s for s in State}
    _kind = "light"
    _refusal = "one of Idle, Ok, Busy, Alert"
    _defpieces = _DEF_LIGHT

    def __init__(self, name: str, label: str | None = None, membervalue: str = "Idle") -> None:
        super().__init__(name, label, membervalue, State.IDLE)


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
        p0, p1, p2, p3 = _DEF_TEXT
        return (f"{p0}{escape(self.name)}{p1}{escape(self.label)}{p2}"
                f"{escape(self.membervalue)}{p3}")


def number_text(value: float | str, what: str) -> tuple[str, float, str]:
    """(`value` read back as 3.x gave it, its float, how it is sent) for a number given as
    int, float or INDI text; ValueError (naming `what`) for anything else.

    Sent as given (``15`` as ``15``, ``"12:30:00"`` as written), except text with spaces
    inside, which indilib's ``f_scansexa`` misreads (``"-5 30"`` as -530, indi-notes 1.3): that
    is sent as the plain decimal.
    """
    if type(value) is int:  # the usual case in a reading loop: no parsing
        text = str(value)
        return text, float(value), text
    try:
        number = getfloat(value)
        if isinstance(value, float):
            text = wire = number_to_wire(number)
        else:
            text = str(value)
            wire = text.strip()
            if not wire.isascii() or any(c.isspace() for c in wire):
                wire = number_to_wire(number)
            else:
                number_to_wire(number)  # a finite number, or LocalProtocolError
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} {value!r} is not a number ({exc})") from None
    return text, number, wire


class NumberMember(PropertyMember):
    """A number with its display `format` and limits; min == max means no limits.

    The value may be given as float, int or INDI text (sexagesimal too). It reads back as a
    string, as 3.x gave it (``15`` as ``'15'``), and is sent as given but for text with spaces
    inside (see `number_text`); `getfloatvalue` gives the float. `min`, `max` and `step` read
    back and are sent in the same way.
    """

    _tag = "oneNumber"

    def __init__(
        self,
        name: str,
        label: str | None = None,
        format: str = "",
        min: float | str = "0",
        max: float | str = "0",
        step: float | str = "0",
        membervalue: float | str = "0",
    ) -> None:
        super().__init__(name, label)
        self.format = format
        self.min = min
        self.max = max
        self.step = step
        self._text = ""
        self._float = float("nan")
        self._wire = ""
        self._warned_limits = False
        self.membervalue = membervalue

    @property
    def format(self) -> str:
        """How clients display the value: printf for a C double (``%.2f``, ``%g``) or INDI's
        sexagesimal ``%<w>.<f>m``; empty sends ``%g``. Checked when set (`check_number_format`):
        C clients pass it to ``snprintf`` with a double. Reads back as given (3.x); a ``%d``
        is sent as ``%.0f`` (see the setter)."""
        return self._format_given

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
                self._format_given = value
                self._format = rewritten
                return
        self._format_given = self._format = value

    # Limits read back as 3.x gave them (strings), with a float for checks and the wire text.
    @property
    def min(self) -> str:
        return self._min

    @min.setter
    def min(self, value: float | str) -> None:
        self._min, self._minfloat, self._minwire = number_text(value, f"number {self.name!r}: min")

    @property
    def max(self) -> str:
        return self._max

    @max.setter
    def max(self, value: float | str) -> None:
        self._max, self._maxfloat, self._maxwire = number_text(value, f"number {self.name!r}: max")

    @property
    def step(self) -> str:
        return self._step

    @step.setter
    def step(self, value: float | str) -> None:
        self._step, self._stepfloat, self._stepwire = number_text(
            value, f"number {self.name!r}: step")

    @property
    def membervalue(self) -> str:
        return self._text

    @membervalue.setter
    def membervalue(self, value: float | str) -> None:
        if type(value) is int:  # the reading loop's case, inlined (the driver's hot path)
            text = wire = str(value)
            number = float(value)
        else:
            text, number, wire = number_text(value, f"number {self.name!r}:")
        if text != self._text:
            self._text = text
            self._float = number
            self.changed = True
            if wire != self._wire:
                self._wire = wire
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
        return within_limits(value, self._minfloat, self._maxfloat)

    def _def(self) -> str:
        if self._minfloat > self._maxfloat and not self._warned_limits:
            self._warned_limits = True
            logger.warning("number %r: min %s is above max %s: clients are sent both, and "
                           "the framework checks no limits", self.name, self._min, self._max)
        p0, p1, p2, p3, p4, p5, p6, p7 = _DEF_NUMBER
        return (f"{p0}{escape(self.name)}{p1}{escape(self.label)}{p2}{escape(self._format or '%g')}"
                f"{p3}{escape(self._minwire)}{p4}{escape(self._maxwire)}{p5}"
                f"{escape(self._stepwire)}{p6}{escape(self._wire)}{p7}")


BLOBValue = bytes | bytearray | memoryview | str | os.PathLike[str] | IO[bytes] | None


class BLOBMember(PropertyMember):
    """A binary large object: bytes, a path to a file, or a binary file object.

    `blobsize` (bytes before any compression) applies to the next send only; 0 means the length
    of the data sent. `blobformat` is a file suffix such as '.fits' or '.fits.z'; left empty,
    a value given as a path sends its file's suffixes (``"image.fits.z"``: ``.fits.z``), as 3.x
    did.
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

    def sent_format(self) -> str:
        """The format sent with the current value: `blobformat`, else a path's suffixes."""
        if self.blobformat:
            return self.blobformat
        value = self._value
        if isinstance(value, (str, os.PathLike)):
            return "".join(pathlib.PurePath(value).suffixes)
        return ""

    def __repr__(self) -> str:
        value = self._value
        shown = f"<{len(value)} bytes>" if isinstance(value, (bytes, bytearray)) else repr(value)
        return f"BLOBMember(name={self.name!r}, blobformat={self.blobformat!r}, membervalue={shown})"

    def _def(self) -> str:
        # SPEC p.9: defBLOB is EMPTY, BLOBs have no initial value.
        p0, p1, p2 = _DEF_BLOB
        return f"{p0}{escape(self.name)}{p1}{escape(self.label)}{p2}"
