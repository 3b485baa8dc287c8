"""Whether new values for a vector are acceptable and, if not, why: the one rule, pure.

A client's library, terminal, web pages and bridges ask it before they send; a driver asks it
when a client's ``new*Vector`` arrives. Each gets the vector's `VectorShape` from one builder,
`vector_shape` (the client model's vectors keep theirs: ``PropertyVector.shape``), fed the plain
description it holds (kind, perm, rule, member names, number limits as wire text or floats,
read by the one `parse_limit`), so every face judges the same vector by an equal shape. `judge`
returns one `Verdict`: accepted with the values converted, or refused with the member at fault
and a message. The edge cases (docs/acceptance.rst lists them with their sources):

* ``perm="ro"`` and every light vector: refused (SPEC p.3: "devices must still reject writes
  to ro"); no values, or a member the vector does not have: refused.
* Numbers: an int, a float or numberValue text (integer, real or sexagesimal such as
  ``"12:30:00"``, ``"12 30"``, ``"-0:30"``; ``parse_number``). Blank text, ``nan``/``inf`` and
  anything else are refused. ``min``..``max`` is checked only when ``min < max``: SPEC p.6
  says max is ignored when ``min == max``, and ``min > max`` is a driver's mistake that
  no client can correct (indilib's ``IUUpdateNumber`` would refuse every value; we leave that
  to the device and its Alert). ``step`` is a hint for spin boxes (SPEC p.6, "ignore if 0";
  indilib never checks it): never a reason to refuse.
* Texts: a ``str`` holding only characters XML 1.0 can carry (no C0 control but tab, newline
  and carriage return, no U+FFFE/U+FFFF, no lone surrogate).
* Switches: ``"On"``/``"Off"`` (or a bool). ``OneOfMany``: the request turns exactly one switch
  On; the others go Off (SPEC pp.9-10: a client sends the switch it turns On), as indilib's
  ``IUUpdateSwitch`` resets them. ``AtMostOne``: at most one On in the request. ``AnyOfMany``:
  anything.
* BLOBs: accepted as given (each face reads its own kind of file or upload).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from .enums import SwitchState
from .numbers import parse_number

__all__ = ["Limits", "MemberShape", "VectorShape", "Verdict", "judge", "parse_limit",
           "short_number", "text_refusal", "vector_shape", "within_limits"]

# Longest member name or value quoted in a message (they may come from a browser or a peer).
_QUOTE = 40


@dataclass(frozen=True, slots=True)
class MemberShape:
    """What the rule needs of one member: a number's limits as floats. No current value: the
    rule never reads one (indilib's IUUpdateSwitch resets a OneOfMany), so a shape lasts as long
    as the vector's definition and the faces' shapes of one vector are equal."""

    name: str
    min: float = 0.0
    max: float = 0.0
    step: float = 0.0


@dataclass(frozen=True, slots=True)
class VectorShape:
    """What the rule needs of one vector. ``kind`` is ``Text``, ``Number``, ``Switch``,
    ``Light`` or ``BLOB``; ``perm`` ``ro``/``wo``/``rw``; ``rule`` a switch vector's rule."""

    device: str
    name: str
    kind: str
    perm: str
    rule: str | None = None
    members: Mapping[str, MemberShape] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """`judge`'s answer. Accepted: ``values`` converted (numbers float, switches `SwitchState`,
    texts str, BLOBs as given). Refused: ``member`` at fault (None for the whole vector) and
    ``reason``; ``message`` says where and why, the same words on every face."""

    device: str
    vector: str
    accepted: bool
    values: dict[str, object] = field(default_factory=dict)
    member: str | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.accepted

    @property
    def message(self) -> str:
        """``device.vector[.member]: reason``, or "" when accepted."""
        if self.accepted:
            return ""
        where = f"{self.device}.{self.vector}"
        if self.member is not None:
            where += "." + _clip(self.member)
        return f"{where}: {self.reason}"


# A number member's min, max and step, each as the wire text or a number (`parse_limit`).
Limits = tuple[object, object, object]


def parse_limit(value: object) -> float:
    """A number's ``min``, ``max`` or ``step`` as a float: wire text (integer, real or
    sexagesimal) or an int/float. Anything else (blank, unreadable, not finite, absent) is 0.0,
    which imposes nothing: a limit a device sent wrong must not refuse every value."""
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError:
            return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            return 0.0
        return number if math.isfinite(number) else 0.0
    return 0.0


def vector_shape(device: str, name: str, kind: str, perm: object, rule: object,
                 members: Iterable[str],
                 limits: Mapping[str, Limits] | None = None) -> VectorShape:
    """The one way to build a `VectorShape`, from a vector's plain description: ``kind`` as
    ``Number`` or ``NumberVector``; ``perm`` ``ro``/``wo``/``rw`` (blank is ``ro``; a light is
    always ``ro``); ``rule`` kept for a switch only; the members' names in order and, for a
    number vector, member -> (min, max, step) as wire text or numbers (`parse_limit`).
    Every face calls it with what it holds, so equal descriptions give equal shapes."""
    kind = kind.removesuffix("Vector")
    perm_text = "ro" if kind == "Light" or not perm else str(perm)
    rule_text = str(rule) if kind == "Switch" and rule else None
    number_limits = limits if kind == "Number" and limits is not None else {}
    shapes: dict[str, MemberShape] = {}
    for member in members:
        low, high, step = number_limits.get(member, (None, None, None))
        shapes[member] = MemberShape(member, parse_limit(low), parse_limit(high),
                                     parse_limit(step))
    return VectorShape(device, name, kind, perm_text, rule_text, shapes)


def judge(shape: VectorShape, values: Mapping[str, object]) -> Verdict:
    """The verdict on setting `values` (member -> value) on the vector `shape` describes."""
    def refuse(member: str | None, reason: str) -> Verdict:
        return Verdict(shape.device, shape.name, False, member=member, reason=reason)

    if shape.perm == "ro" or shape.kind == "Light":
        return refuse(None, f"the {shape.kind}Vector is read-only")
    if not values:
        return refuse(None, "no member values given")
    for name in values:
        if name not in shape.members:
            return refuse(name, "unknown member")
    out: dict[str, object] = {}
    if shape.kind == "Number":
        for name, value in values.items():
            number = _number(shape.members[name], value)
            if isinstance(number, str):
                return refuse(name, number)
            out[name] = number
    elif shape.kind == "Text":
        for name, value in values.items():
            if not isinstance(value, str):
                return refuse(name, f"a text must be a str, not {type(value).__name__}")
            why = text_refusal(value)
            if why is not None:
                return refuse(name, why)
            out[name] = value
    elif shape.kind == "Switch":
        for name, value in values.items():
            state = _switch(value)
            if state is None:
                return refuse(name, f"a switch is On or Off, not {_quote(value)}")
            out[name] = state
        on = [name for name in shape.members if out.get(name) is SwitchState.ON]
        if shape.rule in ("OneOfMany", "AtMostOne") and len(on) > 1:
            return refuse(on[1], f"{shape.rule} allows one switch On, not "
                                 f"{', '.join(_clip(n) for n in on)}")
        if shape.rule == "OneOfMany" and not on:
            return refuse(None, "OneOfMany needs one switch On: name the switch to turn On")
    elif shape.kind == "BLOB":
        out = dict(values)
    else:
        return refuse(None, f"a {shape.kind}Vector cannot be set")
    return Verdict(shape.device, shape.name, True, out)


def _number(member: MemberShape, value: object) -> float | str:
    """The value as a float, or why it is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"a number must be an int, float or numeric text, not {type(value).__name__}"
    if isinstance(value, str):
        if not value.strip():
            return "a number is needed, not blank text"
        try:
            number = parse_number(value)
        except ValueError:
            return (f"{_quote(value)} is not a number (integer, real or sexagesimal "
                    "like 12:30:15)")
    else:
        try:
            number = float(value)
        except OverflowError:  # an int too large for a double
            return f"{short_number(value)} is not a finite number"
        if not math.isfinite(number):
            return f"{value!r} is not a finite number"
    if not within_limits(number, member.min, member.max):
        return (f"{short_number(number)} is outside min {short_number(member.min)} .. "
                f"max {short_number(member.max)}")
    return number


def within_limits(value: float, low: float, high: float) -> bool:
    """Whether `value` respects min `low` and max `high`: always when ``low >= high`` (no
    range: SPEC p.6 for ``min == max``, a driver's mistake for ``min > max``)."""
    return low >= high or low <= value <= high


def _switch(value: object) -> SwitchState | None:
    if isinstance(value, bool):
        return SwitchState.ON if value else SwitchState.OFF
    if isinstance(value, str) and value in ("On", "Off"):
        return SwitchState(value)
    return None


def text_refusal(text: str) -> str | None:
    """Why XML cannot carry `text`, or None when it can (XML 1.0 Char production)."""
    for char in text:
        code = ord(char)
        if (code < 0x20 and char not in "\t\n\r") or 0xD800 <= code <= 0xDFFF or code in (
                0xFFFE, 0xFFFF):
            return f"the text holds a character INDI cannot send: U+{code:04X}"
    return None


def short_number(value: float) -> str:
    """A number for a message: whole values without ``.0``, others as Python reads them back."""
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= _QUOTE else text[:_QUOTE] + "..."
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _clip(text: str) -> str:
    return text if len(text) <= _QUOTE else text[:_QUOTE] + "..."


def _quote(value: object) -> str:
    return repr(_clip(value)) if isinstance(value, str) else _clip(repr(value))
