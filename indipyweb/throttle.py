"""Login throttling: too many failed attempts for one user name or from one address in a window
locks that name or address out until the window has passed (answered 429, no password checked).
"""

from __future__ import annotations

import time
from collections import deque

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """At most `max_failures` failures per key in `window` seconds; bounded to `max_keys` keys
    (the oldest forgotten first), so a flood of made-up names cannot grow it."""

    def __init__(self, max_failures: int = 5, window: float = 300.0, max_keys: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        return any(len(self._recent(key, now)) >= self.max_failures for key in keys)

    def retry_after(self, *keys: str) -> float:
        """Seconds until none of `keys` is locked any more (0 when none is)."""
        now = time.monotonic()
        waits = [times[0] + self.window - now for key in keys
                 if len(times := self._recent(key, now)) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            times = self._failures.pop(key, None) or deque(maxlen=self.max_failures)
            times.append(now)
            self._failures[key] = times  # re-inserted: the newest at the end
            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
