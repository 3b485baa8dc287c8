"""Waiting on indipyterm's screen in pilot tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot


async def wait_for(
    pilot: Pilot[None], check: Callable[[], object], timeout: float = 20.0, what: str = ""
) -> None:
    """Let the app run until `check()` is true; fail saying `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or check}")
        await pilot.pause(0.05)


async def settle(pilot: Pilot[None], seconds: float = 0.3) -> None:
    """Give the app a few refreshes."""
    await pilot.pause(seconds)
    await asyncio.sleep(0)
