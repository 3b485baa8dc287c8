"""The request rules of Alpaca: parameter keys, values and transaction IDs.

GET parameters come in the query string and their keys match in any casing; PUT parameters
come in a form body and their keys match only exactly as the interface spells them (`BinX`,
never `binx`), a missing or mis-cased one being a 400 with a reason. Values are read in the
invariant culture and strictly: Python's own `int()`/`float()` also take `1_000`, `nan`,
`inf` and padded blanks, which no Alpaca client sends, so each parser checks a pattern first.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable

UINT32_MAX = 2**32 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_INT = re.compile(r"[+-]?[0-9]+")
_UINT = re.compile(r"\+?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class BadRequest(Exception):
    """The request cannot be understood: HTTP 400 with this reason as plain text."""


def parse_bool(text: str, key: str = "value") -> bool:
    """`true`/`false` in any casing; anything else (`1`, `yes`, ``""``) is a bad request."""
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise BadRequest(f"{key}={text!r} is not a boolean (true or false)")


def _matched(text: str, key: str, pattern: re.Pattern[str], kind: str) -> str:
    """`text` without its blanks, when it is all `pattern`; else a bad request: not `kind`."""
    stripped = text.strip()
    if not pattern.fullmatch(stripped):
        raise BadRequest(f"{key}={text!r} is not {kind}")
    return stripped


def parse_int(text: str, key: str = "value", low: int = INT32_MIN, high: int = INT32_MAX) -> int:
    """A decimal integer within [low, high] (int32 unless told)."""
    number = int(_matched(text, key, _INT, "an integer"))
    if not low <= number <= high:
        raise BadRequest(f"{key}={text!r} is outside {low}..{high}")
    return number


def parse_uint32(text: str, key: str = "value") -> int:
    """An unsigned 32-bit integer, as ClientID and ClientTransactionID are."""
    number = int(_matched(text, key, _UINT, "an unsigned 32-bit integer"))
    if number > UINT32_MAX:
        raise BadRequest(f"{key}={text!r} is larger than an unsigned 32-bit integer")
    return number


def parse_float(text: str, key: str = "value") -> float:
    """A finite decimal number with a `.` point (no `nan`, `inf`, `1_0` or `1,5`)."""
    number = float(_matched(text, key, _FLOAT, "a number"))
    if not math.isfinite(number):
        raise BadRequest(f"{key}={text!r} is too large")
    return number


class Params:
    """The parameters of one request, with the casing rule of its verb.

    `exact` is True for PUT (form keys case-sensitive) and False for GET (query keys in any
    casing). Unknown extra keys are ignored, as the reference asks.
    """

    def __init__(self, items: Iterable[tuple[str, str]], exact: bool) -> None:
        self.exact = exact
        self._items: dict[str, str] = {}
        for key, value in items:
            name = key if exact else key.lower()
            self._items.setdefault(name, value)

    @classmethod
    def for_method(cls, method: str, items: Iterable[tuple[str, str]]) -> Params:
        return cls(items, exact=method.upper() != "GET")

    def get(self, key: str) -> str | None:
        """The value of `key` under this verb's casing rule, None when absent."""
        return self._items.get(key if self.exact else key.lower())

    def required(self, key: str) -> str:
        """The value of `key`; a missing (or, on PUT, mis-cased) key is a bad request."""
        value = self.get(key)
        if value is None:
            if self.exact:
                raise BadRequest(f"parameter {key} is missing (PUT parameter names are "
                                 f"case-sensitive: send it as {key})")
            raise BadRequest(f"parameter {key} is missing")
        return value

    def as_bool(self, key: str) -> bool:
        return parse_bool(self.required(key), key)

    def as_int(self, key: str, low: int = INT32_MIN, high: int = INT32_MAX) -> int:
        return parse_int(self.required(key), key, low, high)

    def as_float(self, key: str) -> float:
        return parse_float(self.required(key), key)

    def ids(self) -> tuple[int, int]:
        """(ClientID, ClientTransactionID): 0 when absent; present but not a uint32 is 400.

        On PUT only the exactly cased keys count, so `clienttransactionid=5` in a form body
        is an unknown key, ignored, and the echo is 0.
        """
        found = []
        for key in ("ClientID", "ClientTransactionID"):
            value = self.get(key)
            found.append(0 if value is None else parse_uint32(value, key))
        return found[0], found[1]

    def client_transaction_id(self) -> int:
        """The ClientTransactionID to echo, 0 when absent or unreadable (for error replies)."""
        value = self.get("ClientTransactionID")
        if value is None:
            return 0
        try:
            return parse_uint32(value, "ClientTransactionID")
        except BadRequest:
            return 0


class ServerTransactionCounter:
    """ServerTransactionID: from 1, one more per reply, unique even under concurrent requests
    (the lock keeps two replies from sharing a number), back to 1 after the uint32 maximum."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            self._last = self._last + 1 if self._last < UINT32_MAX else 1
            return self._last
