"""Waiting on indipyterm's screen in pilot tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import waiting
from textual.pilot import Pilot

from indipyterm.app import TermApp
from indipyterm.devicescreen import DeviceScreen


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


async def open_connection_panel(app: TermApp, pilot: Pilot[None], device: str) -> DeviceScreen:
    """Wait until ``device`` is learnt, open its screen at CONNECTION and wait for that panel;
    the device's screen."""
    await wait_for(pilot, lambda: device in app.device_names(), what="the simulator")
    app.open_device(device, "CONNECTION")
    await wait_for(pilot, lambda: isinstance(app.screen, DeviceScreen)
                   and "CONNECTION" in app.screen.panels, what="CONNECTION panel")
    screen = app.screen
    assert isinstance(screen, DeviceScreen)
    return screen
