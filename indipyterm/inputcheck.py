"""What the user typed or toggled, read as values and checked before anything is sent (no
textual, no I/O).

The rule is the one every face shares (`protocol.acceptance.judge`, docs/acceptance.rst); this
module holds only the terminal's presentation of it: a blank field means "keep the device's
value", switches are toggled as radio buttons or checkboxes (`toggle_switch`), and a refusal is
an :class:`InputRefused` whose message (the shared rule's) is shown beside the fields.
"""

from __future__ import annotations

from collections.abc import Mapping

from indipycore.protocol.acceptance import judge
from indipycore.protocol.enums import SwitchState

from .vectorinfo import VectorInfo

__all__ = ["InputRefused", "check_entries", "check_number", "toggle_switch"]


class InputRefused(ValueError):
    """The user's input cannot be sent; ``str(exc)`` says where and why, for the screen."""


def check_entries(info: VectorInfo, entries: Mapping[str, object]) -> dict[str, object]:
    """The values to send for `entries` (member -> typed text, a switch's bool, a BLOB's
    path); a number or text entry left blank keeps the device's value; members not in
    `entries` are not sent. Raises `InputRefused`."""
    values = dict(entries)
    if info.kind in ("Number", "Text"):
        for member in info.members:
            typed = values.get(member.name)
            if isinstance(typed, str) and not (typed.strip() if info.kind == "Number"
                                               else typed):
                values[member.name] = member.value
    verdict = judge(info.shape, values)
    if not verdict:
        raise InputRefused(verdict.message)
    return {name: value.value if isinstance(value, SwitchState) else value
            for name, value in verdict.values.items()}


def check_number(info: VectorInfo, member: str, text: str) -> float:
    """The number typed in `member`'s field (decimal, exponent or sexagesimal ``-10:30:18``),
    as the shared rule reads it; `InputRefused` with its message otherwise."""
    verdict = judge(info.shape, {member: text})
    if not verdict:
        raise InputRefused(verdict.message)
    value = verdict.values[member]
    assert isinstance(value, float)
    return value


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
