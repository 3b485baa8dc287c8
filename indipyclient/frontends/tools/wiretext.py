"""The text the tools print for members and vector attributes: the wire text, as indilib does.

indi_getprop prints each value as it arrived (numbers as the driver wrote them, e.g. ``%.20g``,
not through the vector's ``format``), entity-decoded and stripped of surrounding whitespace; an
attribute the element does not carry prints as the empty string.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from indipycore.protocol import BLOB
from indipycore.protocol import Member
from indipycore.protocol import Vector

__all__ = ["attribute_text", "member_text"]


def member_text(member: Member) -> str:
    """A member's value as on the wire (``On``, ``Busy``, ``12.5``, a text)."""
    if isinstance(member, BLOB):
        return f"<BLOB {member.size} bytes {member.format}>"
    value = member.value
    return value.value if isinstance(value, Enum) else str(value)


def attribute_text(vector: Vector[Any], attribute: str) -> str:
    """A vector attribute (``state``, ``perm``, ``label``...) as text, ``""`` when absent."""
    value = getattr(vector, attribute, None)
    if value is None:
        return ""
    return value.value if isinstance(value, Enum) else str(value)
