"""Checks of the names, labels and groups a driver gives its devices, vectors and members.

A number where a string belongs (a `format` left out of positional arguments, say) used to be
accepted and to fail later, when a client asked for the definitions, in a traceback naming
neither the vector nor the member: the check is made where the value is given. C clients hold
these strings in 64-byte buffers (``MAXINDINAME``, ``MAXINDILABEL``, ``MAXINDIGROUP``: indi-notes
1.6), so a longer one is sent but warned about.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["C_STRING_BYTES", "add_named", "checked_string", "no_such_name"]

T = TypeVar("T")

logger = logging.getLogger("indipydriver")

#: The buffers C peers read names, labels, groups and formats into, NUL included.
C_STRING_BYTES = 64


def checked_string(value: object, what: str, owner: str) -> str:
    """`value` if it is a string; TypeError naming `owner` and `what` if not. Warns when C
    clients would truncate it."""
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {what} must be a string, not {type(value).__name__} "
                        f"{value!r}")
    if len(value.encode()) >= C_STRING_BYTES:
        logger.warning("%s: %s %r is %d bytes or more; C clients truncate it", owner, what,
                       value, C_STRING_BYTES)
    return value


def add_named(table: dict[str, T], name: str, item: T, owner: str, what: str) -> None:
    """`item` into `table` under `name` (a driver's devices, a device's vectors, a vector's
    members); ValueError naming `owner` when a `what` of that name is there already."""
    if name in table:
        raise ValueError(f"{owner}: duplicate {what} {name!r}")
    table[name] = item


def no_such_name(owner: str, what: str, name: object, names: Iterable[str]) -> KeyError:
    """The KeyError for looking up a `what` (device, vector, member) that `owner` does not
    have; it lists the names there are, since the miss is most often a typo."""
    return KeyError(f"{owner} has no {what} {name!r} (it has "
                    f"{', '.join(map(repr, names)) or 'none'})")
