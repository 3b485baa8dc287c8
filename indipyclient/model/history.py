"""`ValueHistory`: the recent values of each number vector, bounded, pure.

One ring a vector of ``(time, {member: value})`` samples, at most `length` of them. The web
client samples every change (its plots have a time axis); the terminal samples once a refresh
(a sparkline then spans a similar stretch whatever the driver's rate). Either way memory is
bounded by the vectors and `length`, never by the rate.

With a `budget`, memory is bounded by the budget instead of by the vectors: a web client over
a fleet of thousands of devices would otherwise keep `length` samples of every vector (3,000
vectors x 300 samples took 250 MB) though a page shows a handful. The devices `show`n on a page
(and for `keep_shown` seconds after their last page closed, so a reload or a step back finds
its plot) keep `length` samples a vector; every other vector keeps an equal share of the
budget, at most `length` and at least two (so a page opened on it sees whether its values
change): a few hundred vectors all keep `length`, a fleet's each keep a few.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping

__all__ = ["Sample", "ValueHistory"]

Sample = tuple[float, dict[str, float]]

FLOOR = 2  # samples an unshown vector keeps however many vectors share the budget


class ValueHistory:
    """``record`` a vector's numbers; ``samples``/``series`` read them back, oldest first;
    ``show``/``hide`` a device as a page opens and closes on it (with a `budget`)."""

    def __init__(self, length: int = 300, *, budget: int | None = None,
                 keep_shown: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if length < FLOOR:
            raise ValueError("a history needs at least two values")
        if budget is not None and budget < 0:
            raise ValueError(f"a history's budget is a number of samples, not {budget}")
        self.length = length
        self.budget = budget
        self.keep_shown = keep_shown
        self._clock = clock
        self._rings: dict[str, dict[str, deque[Sample]]] = {}  # device -> vector -> ring
        self._count = 0  # rings
        self._swept = 0  # rings at the last sweep (a sweep trims every ring to its share)
        self._pages: dict[str, int] = {}  # device -> pages open on it
        self._hidden: dict[str, float] = {}  # device -> when its last page closed

    def record(self, device: str, vector: str, values: Mapping[str, float], *,
               when: float | None = None, restart: bool = False) -> None:
        """Add one sample (``restart``: the vector was defined again, forget its past)."""
        rings = self._rings.setdefault(device, {})
        ring = rings.get(vector)
        if ring is None or restart:
            if ring is None:
                self._count += 1
            ring = rings[vector] = deque()
        ring.append((time.time() if when is None else when, dict(values)))
        if self.budget is None:
            if len(ring) > self.length:
                ring.popleft()
            return
        if self._hidden:
            self._expire()
        keep = self._keep(device)
        while len(ring) > keep:
            ring.popleft()
        if self._count > self._swept + self._swept // 4:  # a quarter more vectors: less each
            self._sweep()

    def show(self, device: str) -> None:
        """A page shows the device: its vectors keep `length` samples from now on."""
        self._pages[device] = self._pages.get(device, 0) + 1
        self._hidden.pop(device, None)

    def hide(self, device: str) -> None:
        """A page on the device closed: once none has shown it for `keep_shown` seconds, its
        vectors fall back to their share of the budget."""
        left = self._pages.get(device, 0) - 1
        if left > 0:
            self._pages[device] = left
            return
        self._pages.pop(device, None)
        self._hidden[device] = self._clock()

    def shown(self, device: str) -> bool:
        return device in self._pages or device in self._hidden

    def samples(self, device: str, vector: str) -> deque[Sample] | None:
        """The vector's samples (live; None when nothing was recorded)."""
        return self._rings.get(device, {}).get(vector)

    def series(self, device: str, vector: str, member: str) -> list[float]:
        """One member's values, oldest first."""
        ring = self._rings.get(device, {}).get(vector, ())
        return [values[member] for _, values in ring if member in values]

    def forget(self, device: str, vector: str | None = None) -> None:
        """Drop a vector's history, or every vector's of the device (``vector`` None)."""
        rings = self._rings.get(device)
        if rings is None:
            return
        if vector is None:
            self._count -= len(rings)
            del self._rings[device]
        elif rings.pop(vector, None) is not None:
            self._count -= 1
            if not rings:
                del self._rings[device]

    def clear(self) -> None:
        self._rings.clear()
        self._count = self._swept = 0

    def samples_kept(self) -> int:
        """Samples over every vector (what the budget bounds)."""
        return sum(len(ring) for rings in self._rings.values() for ring in rings.values())

    def __len__(self) -> int:
        return self._count

    def _keep(self, device: str) -> int:
        """Samples a vector of the device keeps (with a budget)."""
        if self.budget is None or self.shown(device):
            return self.length
        return max(FLOOR, min(self.length, self.budget // max(1, self._count)))

    def _sweep(self) -> None:
        """Every unshown ring trimmed to its share: one that stopped changing keeps no more than
        the others once more vectors came to share the budget."""
        self._swept = self._count
        for device in self._rings:
            self._trim(device)

    def _expire(self) -> None:
        """Devices whose last page closed `keep_shown` seconds ago: their rings trimmed."""
        since = self._clock() - self.keep_shown
        for device in [d for d, closed in self._hidden.items() if closed <= since]:
            del self._hidden[device]
            self._trim(device)

    def _trim(self, device: str) -> None:
        keep = self._keep(device)
        for ring in self._rings.get(device, {}).values():
            while len(ring) > keep:
                ring.popleft()
