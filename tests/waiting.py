"""The one way tests wait: look for the evidence until it is there, or fail saying what was
awaited. Never sleep a fixed time and then look; the timeout only bounds a failure.

``wait_for`` blocks (threads, subprocesses, a server in another thread); ``until`` lets the
event loop run between looks, and takes a check that returns an awaitable as well.
``HeldCalls`` is the other side: a double whose calls wait until the test lets them go.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from typing import Generic
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float = 10.0,
             what: str | Callable[[], str] = "", interval: float = 0.02) -> T:
    """Call ``check()`` until it returns something true, and return that; an AssertionError
    naming ``what`` once ``timeout`` seconds have passed (``what()`` if it is callable: what
    was last seen, a log's tail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {said or check}")
        time.sleep(interval)


async def until(check: Callable[[], Any], timeout: float = 10.0,
                what: str | Callable[[], str] = "",
                interval: float = 0.01,
                pause: Callable[[], Awaitable[object]] | None = None) -> Any:
    """Let the event loop run until ``check()`` (awaited if it returns an awaitable) is true,
    and return its value; an AssertionError naming ``what`` (or ``what()``) after ``timeout``
    seconds.
    ``pause`` replaces the sleep between looks (a textual pilot's ``pause``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {said or check}")
        if pause is None:
            await asyncio.sleep(interval)
        else:
            await pause()


async def settled(count: Callable[[], int], quiet: float = 0.3, timeout: float = 10.0,
                  what: str = "") -> int:
    """``count()`` once it has not changed for ``quiet`` seconds (what was under way when the
    test changed something has finished, however slow the machine); an AssertionError naming
    ``what`` if it keeps changing for ``timeout`` seconds. A check that something stops."""
    deadline = time.monotonic() + timeout
    last = count()
    while True:
        await asyncio.sleep(quiet)
        now = count()
        if now == last:
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or count} still changing after {timeout} s: {now}")
        last = now


class HeldCalls(Generic[T]):
    """A double's calls held until the test lets them go: `held` keeps its argument in `calls`
    at once, then returns once `release` is set (a device that comes back, a wheel that
    arrives, when the test says)."""

    def __init__(self) -> None:
        self.calls: list[T] = []
        self.release = asyncio.Event()

    async def held(self, argument: T) -> None:
        self.calls.append(argument)
        await self.release.wait()
