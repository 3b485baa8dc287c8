"""Waiting on indipyterm's screen in pilot tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import waiting
from textual.pilot import Pilot


async def wait_for(
    pilot: Pilot[None], check: Callable[[], object], timeout: float = 20.0, what: str = ""
) -> None:
    """Let the app run until `check()` is true (``waiting.until``, the app refreshing between
    looks); fail saying `what` after `timeout` seconds."""
    await waiting.until(check, timeout, what, pause=lambda: pilot.pause(0.05))


async def settle(pilot: Pilot[None], seconds: float = 0.3) -> None:
    """Give the app a few refreshes."""
    await pilot.pause(seconds)
    await asyncio.sleep(0)
