"""`wait_held`: the engine's wait in a phase that holds the run (HELD: unsafe; WAITING: a
device lost past the retries), until something moves it: the phase changed by a client or the
sky (a pause, an abort, safe: the engine's `stir` set), the plan's night_end passed, or the
device waited for is back (`back`, the rig's `Presence`). Apart from the engine so that both
holds share one loop, and the engine stays a list of what each phase asks.

Safety (the engine's `set_safety`, the face's AGENT_SAFETY, a watchdog's verdict): unsafe cuts
the step in hand unless it needs no sky and the plan lets such steps go on (the frame is
aborted, not saved, and taken again later), then the run holds before the next step that needs
the sky; with the plan's ``sky_free_while_unsafe`` the darks and bias go first. The hold is
journalled (a note "safety"), so a run resumed after a restart is held again. Safe again: the
run goes on, the mount pointed at the target again; a client's pause or abort meanwhile
stands. Still unsafe once the plan's ``night_end`` passed: the End's park and warm, and the run
ends ABORTED, `ENDED_UNSAFE`.

A device lost past the retries: the run waits (WAITING) for the rig's `Presence` to say it is
back, then goes on as a restart would; a pause or abort meanwhile stands, and past the plan's
``night_end`` the night ends the same way.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .hands import NAP

__all__ = ["Woke", "wait_held"]


class Woke(enum.Enum):
    MOVED = "moved"            # the phase is another now (a pause, an abort, safe)
    NIGHT_OVER = "night over"  # still held past the plan's night_end
    BACK = "back"              # the device waited for is back, the phase unchanged


async def wait_held(holding: Callable[[], bool], stir: asyncio.Event, *,
                    night_end: datetime | None, clock: Callable[[], datetime],
                    sleep: Callable[[float], Awaitable[object]],
                    back: Awaitable[object] | None = None) -> Woke:
    """Wait while `holding()`: woken by `stir`, a nap of at most `NAP` (the night's `clock`
    and `sleep`) to look at `night_end`, or `back` done. `back` is cancelled however the
    wait ends, never left behind."""
    coming = None if back is None else asyncio.ensure_future(back)
    try:
        while holding():
            stir.clear()
            left = None if night_end is None else (night_end - clock()).total_seconds()
            if left is not None and left <= 0:
                return Woke.NIGHT_OVER
            waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stir.wait())}
            if left is not None:
                waiters.add(asyncio.ensure_future(sleep(min(NAP, left))))
            try:
                await asyncio.wait({*waiters, *([coming] if coming else [])},
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if coming is not None and coming.done() and holding():
                coming.result()  # a Presence never raises: a bug is not swallowed
                return Woke.BACK
        return Woke.MOVED
    finally:
        if coming is not None:
            coming.cancel()
