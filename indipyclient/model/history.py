"""`ValueHistory`: the recent values of each number vector, bounded, pure.

One ring a vector of ``(time, {member: value})`` samples, at most `length` of them. The web
client samples every change (its plots have a time axis); the terminal samples once a refresh
(a sparkline then spans a similar stretch whatever the driver's rate). Either way memory is
bounded by the vectors and `length`, never by the rate.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping

__all__ = ["Sample", "ValueHistory"]

Sample = tuple[float, dict[str, float]]


class ValueHistory:
    """``record`` a vector's numbers; ``samples``/``series`` read them back, oldest first."""

    def __init__(self, length: int = 300) -> None:
        if length < 2:
            raise ValueError("a history needs at least two values")
        self.length = length
        self._rings: dict[tuple[str, str], deque[Sample]] = {}

    def record(self, device: str, vector: str, values: Mapping[str, float], *,
               when: float | None = None, restart: bool = False) -> None:
        """Add one sample (``restart``: the vector was defined again, forget its past)."""
        key = (device, vector)
        ring = self._rings.get(key)
        if ring is None or restart:
            ring = self._rings[key] = deque(maxlen=self.length)
        ring.append((time.time() if when is None else when, dict(values)))

    def samples(self, device: str, vector: str) -> deque[Sample] | None:
        """The vector's samples (live; None when nothing was recorded)."""
        return self._rings.get((device, vector))

    def series(self, device: str, vector: str, member: str) -> list[float]:
        """One member's values, oldest first."""
        ring = self._rings.get((device, vector), ())
        return [values[member] for _, values in ring if member in values]

    def forget(self, device: str, vector: str | None = None) -> None:
        """Drop a vector's history, or every vector's of the device (``vector`` None)."""
        for key in [k for k in self._rings if k[0] == device and vector in (None, k[1])]:
            del self._rings[key]

    def clear(self) -> None:
        self._rings.clear()

    def __len__(self) -> int:
        return len(self._rings)
