"""Exponential backoff for restarting drivers and reconnecting to remote servers.

indilib's indiserver restarts a dead driver at once and counts restarts over the server's whole
life, so a flapping driver produces restart storms (INDI issue #1332) and ten crashes spread over a
week retire it for good. Here the delay doubles from ``initial`` up to ``cap``, and both the delay
and the restart counter go back to zero once a run has lasted ``stable_after`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Backoff"]


class Backoff:
    """Decides how long to wait before the next attempt, and whether to try again at all."""

    def __init__(
        self,
        initial: float = 0.5,
        factor: float = 2.0,
        cap: float = 30.0,
        stable_after: float = 60.0,
        max_restarts: int | None = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if initial <= 0 or factor < 1 or cap < initial:
            raise ValueError("need initial > 0, factor >= 1 and cap >= initial")
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self.stable_after = stable_after
        self.max_restarts = max_restarts
        self._clock = clock
        self.restarts = 0
        self._started_at: float | None = None

    def started(self) -> None:
        """Record that an attempt has just succeeded (process spawned, connection made)."""
        self._started_at = self._clock()

    def next_delay(self) -> float | None:
        """Called after a failure or death: seconds to wait, or None when attempts are used up.

        A run that lasted ``stable_after`` seconds resets the counter, so the next delay is
        ``initial`` again and the restart limit counts only recent trouble.
        """
        if self._started_at is not None:
            if self._clock() - self._started_at >= self.stable_after:
                self.restarts = 0
            self._started_at = None
        if self.max_restarts is not None and self.restarts >= self.max_restarts:
            return None
        delay = min(self.cap, self.initial * self.factor**self.restarts)
        self.restarts += 1
        return delay

    def __repr__(self) -> str:
        return (
            f"Backoff(initial={self.initial}, factor={self.factor}, cap={self.cap}, "
            f"stable_after={self.stable_after}, max_restarts={self.max_restarts}, "
            f"restarts={self.restarts})"
        )
