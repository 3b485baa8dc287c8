"""A clock a test moves by hand, for code that reads the time and arms timers through the
event loop's ``time()`` and ``call_later()`` (``clients.fallingbehind.Clock``): the test, not
the machine's load, decides how much time has passed and when each timer fires."""

from __future__ import annotations

from collections.abc import Callable


class HandTimer:
    """One timer armed on a `HandClock`."""

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class HandClock:
    """``time()`` stands still until `advance`, which fires the timers that fall due, in
    order, each at its own time."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self._timers: list[HandTimer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], object], /) -> HandTimer:
        timer = HandTimer(self.now + delay, callback)
        self._timers.append(timer)
        return timer

    @property
    def armed(self) -> list[HandTimer]:
        """The timers that are still to fire."""
        return [t for t in self._timers if not t.cancelled]

    def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, firing each timer due meanwhile (one a callback arms
        while this runs too, when it falls due before the end)."""
        end = self.now + seconds
        while due := [t for t in self.armed if t.when <= end]:
            timer = min(due, key=lambda t: t.when)
            self._timers.remove(timer)
            self.now = max(self.now, timer.when)
            timer.callback()
        self._timers = self.armed
        self.now = end
