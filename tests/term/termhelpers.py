"""Waiting on indipyterm's screen in pilot tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

import waiting
from textual.css.query import NoMatches
from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from indipyterm.app import TermApp
from indipyterm.devicescreen import DeviceScreen
from indipyterm.vectorpanel import VectorPanel

#: How long a look at the screen may wait: a bound for a hang, not for a quiet machine. Opening
#: a device's screen of eleven panels costs about a second of CPU; in a full run beside other
#: work (load 19 on two cores, a tenth of a core a process) it took more than 20 s.
SCREEN_WAIT_S = 60.0


async def wait_for(
    pilot: Pilot[None], check: Callable[[], object], timeout: float = SCREEN_WAIT_S,
    what: str = ""
) -> None:
    """Let the app run until `check()` is true (``waiting.until``, the app refreshing between
    looks); fail saying `what` after `timeout` seconds."""
    await waiting.until(check, timeout, what, pause=lambda: pilot.pause(0.05))


async def click(pilot: Pilot[None], target: Widget | str, what: str = "",
                timeout: float = SCREEN_WAIT_S) -> None:
    """Click `target` (a widget, or a selector on the screen in front) once it is laid out and
    nothing covers the point the pilot clicks (its top left corner), as a person clicks what
    they see; fail if the click landed elsewhere. A screen just pushed mounts its widgets one by
    one and lays them out later: a click on a widget not laid out lands at (0, 0), on another
    widget, and is lost."""
    app = pilot.app

    def widget() -> Widget:
        return app.screen.query_one(target) if isinstance(target, str) else target

    def shown() -> bool:
        try:
            found = widget()
        except NoMatches:  # a screen's widgets are mounted one by one
            return False
        region = found.region
        if not found.is_mounted or not region.area:
            return False
        try:
            under, _ = app.screen.get_widget_at(region.x, region.y)
        except NoWidget:
            return False
        return under is found

    said = what or str(target)
    await wait_for(pilot, shown, timeout, f"{said} shown, to be clicked")
    assert await pilot.click(widget()), f"the click on {said} landed on another widget"


async def type_into(pilot: Pilot[None], vector: VectorPanel, member: str, text: str) -> Input:
    """Click the member's field and type `text` as keys."""
    field = vector.rows[member].field
    assert field is not None
    await click(pilot, field)
    await pilot.press(*text)
    return field


def record_events(app: TermApp) -> list[Any]:
    """Every event the app's client hands it from now on, in order (its handler wrapped):
    evidence that a device has reported something, where the screen alone cannot tell a
    definition's value from a later report of the same value."""
    seen: list[Any] = []
    handle = app._on_event

    def recording(event: Any) -> None:
        seen.append(event)
        handle(event)

    app._on_event = recording  # type: ignore[method-assign]
    return seen


async def settle(pilot: Pilot[None], seconds: float = 0.3) -> None:
    """Give the app a few refreshes."""
    await pilot.pause(seconds)
    await asyncio.sleep(0)


def mounted(screen: DeviceScreen, name: str) -> bool:
    """Whether `name`'s panel is on `screen` with its widgets (a panel is in ``panels`` from
    the moment the screen starts mounting it, its fields and switches only once mounted)."""
    panel = screen.panels.get(name)
    return panel is not None and panel.is_mounted


async def show_panel(pilot: Pilot[None], screen: DeviceScreen, name: str, what: str = "",
                     timeout: float = 20.0) -> VectorPanel:
    """Wait until `name`'s panel is mounted (`what` says what that waits for), bring it into
    view and let the screen deal with the switch of tab; the panel."""
    await wait_for(pilot, lambda: mounted(screen, name), timeout, what or f"{name}'s panel")
    screen.show_vector(name)
    await pilot.pause()
    return screen.panels[name]


async def open_connection_panel(app: TermApp, pilot: Pilot[None], device: str) -> DeviceScreen:
    """Wait until ``device`` is learnt, open its screen at CONNECTION and wait for that panel
    to be mounted; the device's screen."""
    await wait_for(pilot, lambda: device in app.device_names(), what="the simulator")
    app.open_device(device, "CONNECTION")
    await wait_for(pilot, lambda: isinstance(app.screen, DeviceScreen)
                   and mounted(app.screen, "CONNECTION"), what="CONNECTION panel")
    screen = app.screen
    assert isinstance(screen, DeviceScreen)
    return screen


@asynccontextmanager
async def simulator_screen(
    indiserver_factory: Callable[..., Any], driver: str, device: str
) -> AsyncIterator[tuple[Pilot[None], DeviceScreen, list[Any]]]:
    """indilib's `driver` under its own ``indiserver``, the terminal client on it (120 x 50)
    with `device`'s screen open at CONNECTION: the pilot, that screen, and every event the
    client has handed the app since it started (`record_events`)."""
    server = indiserver_factory(driver)
    app = TermApp("127.0.0.1", server.port)
    events = record_events(app)
    async with app.run_test(size=(120, 50)) as pilot:
        yield pilot, await open_connection_panel(app, pilot, device), events
