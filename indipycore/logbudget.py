"""Warnings about what a peer sent, kept readable and bounded.

A warning about a bad request names strings the peer chose (device, vector and member names,
values), which may be megabytes long, and a peer may repeat a bad request a hundred thousand
times: a chaos run made one server write a 10 MB log line, and 100,000 lines for 100,000 bad
``enableBLOB``. `clip` and `short` cut such a string; `WarningBudget` lets a burst of warnings through
and counts the rest, which the next warning let through reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["WarningBudget", "clip", "short"]


def clip(text: str, limit: int = 300) -> str:
    """`text`, cut to about `limit` characters (saying how long it was)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def short(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut as `clip` does: a name a peer chose, quoted."""
    return clip(repr(value), limit)


class WarningBudget:
    """At most `burst` warnings per `period` seconds; the rest are counted."""

    def __init__(self, burst: int = 20, period: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 noun: str = "similar warnings") -> None:
        """`noun`: what the left-out ones are called in the note (``"similar warnings"``)."""
        self.burst = burst
        self.period = period
        self.noun = noun
        self._clock = clock
        self._start = clock()
        self._used = 0
        self._suppressed = 0

    def take(self) -> str | None:
        """None: do not log this one. Otherwise log it, with this text appended (empty, or
        how many warnings were left out since the last one logged)."""
        now = self._clock()
        if now - self._start >= self.period:
            self._start = now
            self._used = 0
        if self._used >= self.burst:
            self._suppressed += 1
            return None
        self._used += 1
        left_out, self._suppressed = self._suppressed, 0
        return f" ({left_out} {self.noun} left out)" if left_out else ""
