"""Checking what the user typed or toggled before anything is sent (no textual, no I/O).

Every function either returns the value to send or raises :class:`InputRefused` whose message is
the reason shown beside the field. Nothing here sends: the screen calls these first, so a value
the device would have to reject never leaves the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from indipydriver.protocol.numbers import parse_number

__all__ = [
    "InputRefused",
    "check_number",
    "check_switches",
    "check_text",
    "number_limits",
    "toggle_switch",
]

# XML 1.0 (the INDI wire format) cannot carry these characters at all, so a text holding one
# could never reach the device intact; tab, newline and carriage return are allowed.
_XML_FORBIDDEN = frozenset(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) | {
    "\ufffe",
    "\uffff",
}


class InputRefused(ValueError):
    """The user's input cannot be sent; ``str(exc)`` says why in words for the screen."""


def number_limits(minimum: float, maximum: float) -> tuple[float, float] | None:
    """The range a number must lie in, or None when INDI imposes none.

    INDI 1.7 p.6: max is ignored when min == max. A vector defined with min > max is a driver's
    mistake; refusing everything would make it unusable, so no range is imposed then either
    (as our driver framework does).
    """
    if minimum >= maximum:
        return None
    return minimum, maximum


def check_number(text: str, minimum: float, maximum: float) -> float:
    """The number the user typed (decimal, exponent or sexagesimal ``-10:30:18``), in range."""
    stripped = text.strip()
    if not stripped:
        raise InputRefused("enter a number")
    try:
        value = parse_number(stripped)
    except ValueError:
        raise InputRefused(
            f"{stripped!r} is not a number (decimal like 12.5, or sexagesimal like -10:30:18)"
        ) from None
    limits = number_limits(minimum, maximum)
    if limits is not None and not limits[0] <= value <= limits[1]:
        raise InputRefused(f"{_short(value)} is out of range {_short(limits[0])} .. {_short(limits[1])}")
    return value


def _short(value: float) -> str:
    """A number for a message: integral values without '.0', others as Python prints them."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def check_text(text: str) -> str:
    """The text as it will be sent; refused only if XML cannot carry one of its characters."""
    for char in text:
        if char in _XML_FORBIDDEN or 0xD800 <= ord(char) <= 0xDFFF:
            raise InputRefused(f"the text holds a character INDI cannot send: U+{ord(char):04X}")
    return text


def toggle_switch(rule: str, states: Mapping[str, bool], name: str, on: bool) -> dict[str, bool]:
    """The switch states after the user sets member `name` to `on`, kept within the rule.

    OneOfMany: choosing a member turns the others off, and the chosen one cannot be turned off
    (some member must stay on). AtMostOne: turning one on turns the others off; it may be turned
    off. AnyOfMany: only that member changes.
    """
    if name not in states:
        raise KeyError(name)
    new = dict(states)
    if rule == "AnyOfMany":
        new[name] = on
    elif on:
        new = dict.fromkeys(states, False)
        new[name] = True
    elif rule == "AtMostOne":
        new[name] = False
    # OneOfMany and `on` false: unchanged, turning the chosen member off is not possible.
    return new


def check_switches(rule: str, states: Mapping[str, bool]) -> dict[str, str]:
    """The members to send as ``{name: "On"|"Off"}``, after checking the rule (INDI 1.7 p.6)."""
    count = sum(1 for on in states.values() if on)
    if rule == "OneOfMany" and count != 1:
        raise InputRefused("choose exactly one" if count == 0 else "only one may be on")
    if rule == "AtMostOne" and count > 1:
        raise InputRefused("at most one may be on")
    if rule not in ("OneOfMany", "AtMostOne", "AnyOfMany"):
        raise InputRefused(f"unknown switch rule {rule!r}")
    return {name: "On" if on else "Off" for name, on in states.items()}
