"""Reading one TOML table's values, each checked: the type, the range, unknown keys refused
with a "did you mean". Every refusal is an `Invalid` naming the key path, so the caller can
name the line (`locate`). Pure, standard library only.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from .locate import KeyPath
from .locate import format_path

T = TypeVar("T")
Table = dict[str, object]
MAX_SLOT = 100


class Invalid(Exception):
    """A value of the plan that is wrong: where (`path`) and why (`reason`, a whole sentence
    that names the path)."""

    def __init__(self, path: KeyPath, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason

    @property
    def every(self) -> tuple[Invalid, ...]:
        """Every value found wrong (this one alone, unless it is `Invalids`)."""
        return (self,)


class Invalids(Invalid):
    """Several values of the plan that are wrong, in the order met; the first one's path and
    reason are its own."""

    def __init__(self, found: list[Invalid]) -> None:
        super().__init__(found[0].path, found[0].reason)
        self.found = tuple(one for invalid in found for one in invalid.every)

    @property
    def every(self) -> tuple[Invalid, ...]:
        return self.found


class Problems:
    """The values found wrong so far while reading a plan: `take` reads one part, and a
    refusal is kept (the part read as `fallback`) so that the rest is read too; `check`
    raises them all at the end."""

    def __init__(self) -> None:
        self.found: list[Invalid] = []

    def take(self, read: Callable[[], T], fallback: T) -> T:
        try:
            return read()
        except Invalid as exc:
            self.found.append(exc)
            return fallback

    def check(self) -> None:
        if self.found:
            raise Invalids(self.found)


def shown(value: object) -> str:
    """A value as the user wrote it in TOML, for "..., not X"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def wrong(path: KeyPath, what: str, value: object) -> Invalid:
    return Invalid(path, f"{format_path(path)} must be {what}, not {shown(value)}")


def only_known(table: Table, path: KeyPath, known: tuple[str, ...]) -> None:
    """Refuse a key the table does not have, suggesting the closest one it does."""
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f": did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
            raise Invalid(path + (key,), f"{format_path(path + (key,))} is not a key here{hint}")


def missing(path: KeyPath, hint: str) -> Invalid:
    return Invalid(path, f"{format_path(path)} is missing: {hint}")


def table(parent: Table, path: KeyPath, key: str) -> Table | None:
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise wrong(path + (key,), f"a table ([{format_path(path + (key,))}])", value)
    return value


def tables(parent: Table, path: KeyPath, key: str) -> list[Table]:
    """An array of tables (``[[targets]]`` or ``targets = [{...}]``)."""
    value = parent.get(key, [])
    if not isinstance(value, list):
        raise wrong(path + (key,), f"an array of tables ([[{format_path(path + (key,))}]])",
                    value)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise wrong(path + (key, index), "a table", item)
    return value


def boolean(data: Table, path: KeyPath, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise wrong(path + (key,), "true or false", value)
    return value


def text(data: Table, path: KeyPath, key: str, default: str | None, *,
         empty: bool = True, hint: str = "") -> str:
    if key not in data:
        if default is None:
            raise missing(path + (key,), hint)
        return default
    value = data[key]
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise wrong(path + (key,), "a string" if empty else "a name (a string)", value)
    return value


def number(data: Table, path: KeyPath, key: str, default: float | None, *,
           low: float | None = None, high: float | None = None, above: bool = False,
           cap: float | None = None, hint: str = "") -> float:
    """A finite number (an integer is taken as one) in ``[low, high]``, or ``> low``; `cap`
    is a bound of sense (named only to a value past it)."""
    if key not in data:
        if default is None:
            raise missing(path + (key,), hint)
        return default
    value = data[key]
    converted = as_float(value)
    if converted is None or not _within(converted, low, high, above):
        raise wrong(path + (key,), "a number" + _range(low, high, above), value)
    if cap is not None and converted > cap:
        raise wrong(path + (key,), f"at most {_num(cap)}", value)
    return converted


def as_float(value: object) -> float | None:
    """A TOML integer or float as a finite float; None for anything else (a bool, nan, inf,
    an integer past float's range: TOML's are unbounded in tomllib)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        converted = float(value)
    except OverflowError:
        return None
    return converted if math.isfinite(converted) else None


def whole(data: Table, path: KeyPath, key: str, default: int | None, *,
          low: int | None = None, high: int | None = None, cap: int | None = None,
          hint: str = "") -> int:
    if key not in data:
        if default is None:
            raise missing(path + (key,), hint)
        return default
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) \
            or not _within(value, low, high, False):
        raise wrong(path + (key,), "a whole number" + _range(low, high, False), value)
    if cap is not None and value > cap:
        raise wrong(path + (key,), f"at most {cap}", value)
    return value


def choice(data: Table, path: KeyPath, key: str, default: T, options: tuple[T, ...]) -> T:
    """One of `options` (strings), matched case-insensitively and returned as spelled there."""
    if key not in data:
        return default
    value = data[key]
    for option in options:
        if isinstance(value, str) and str(option).lower() == value.strip().lower():
            return option
    raise wrong(path + (key,), "one of " + ", ".join(f'"{o}"' for o in options), value)


def filter_choice(data: Table, path: KeyPath, key: str = "filter") -> str | int | None:
    """A wheel's filter: its name, or its slot number from 1."""
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_SLOT:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise wrong(path + (key,), f"a filter's name or a slot number from 1 to {MAX_SLOT}", value)


def _within(value: float, low: float | None, high: float | None, above: bool) -> bool:
    if low is not None and (value <= low if above else value < low):
        return False
    return high is None or value <= high


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _range(low: float | None, high: float | None, above: bool) -> str:
    if low is not None and high is not None:
        if above:
            return f" > {_num(low)} and <= {_num(high)}"
        return f" from {_num(low)} to {_num(high)}"
    if low is not None:
        return f" {'>' if above else '>='} {_num(low)}"
    if high is not None:
        return f" <= {_num(high)}"
    return ""
