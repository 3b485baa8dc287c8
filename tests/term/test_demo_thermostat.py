"""indipyterm on the demo thermostat (``indipyserver.demo``, what ``python -m indipyserver
--demo`` serves), driven as a user would: one Enter on a OneOfMany switch sends it, a number's
field shows its limits in its format, Submit sends only the text member typed into."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from serverkit import running
from termhelpers import wait_for
from textual.widgets import RadioSet

from indipyserver import IPyServer
from indipyserver.demo import make_driver
from indipyterm.app import TermApp
from indipyterm.devicescreen import DeviceScreen
from indipyterm.vectorpanel import VectorPanel

DEVICE = "Thermostat"


@pytest.fixture
async def demo() -> AsyncIterator[int]:
    server = IPyServer(make_driver(interval=3600), host="127.0.0.1", port=0,
                       handle_signals=False)
    async with running(server):
        yield server.port


async def test_the_demo_thermostat_by_keyboard(demo: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a user does first on the demo: switch the heater off with one key, read the
    target's limits, rename the site."""
    app = TermApp("127.0.0.1", demo)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: DEVICE in app.device_names(), what="the thermostat")
        app.open_device(DEVICE, "HEATER_MODE")
        await wait_for(pilot, lambda: isinstance(app.screen, DeviceScreen)
                       and {"HEATER_MODE", "TARGET", "SITE"} <= set(app.screen.panels),
                       what="the thermostat's panels")
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        await pilot.pause()

        # OneOfMany: Enter on "Always off" sends it, the driver answers, no Submit.
        mode = screen.panels["HEATER_MODE"]
        assert mode.info.rule == "OneOfMany" and not mode.query(".submit")
        mode.query_one(RadioSet).focus()
        await pilot.pause()
        off = mode.switch_widgets["OFF"]
        for _ in range(len(mode.switch_widgets)):  # the arrow keys move the highlight
            if off.has_class("-selected"):
                break
            await pilot.press("right")
        assert off.has_class("-selected")
        await pilot.press("enter")
        await wait_for(pilot, lambda: mode.info.member("OFF").value == "On",  # type: ignore[union-attr]
                       what="HEATER_MODE OFF On from the driver")
        assert mode.info.state == "Ok"

        # The number's limits in its format (%.1f, -20 .. 40 step 0.5).
        target = screen.panels["TARGET"]
        field = target.rows["TARGET"].field
        assert field is not None and field.placeholder == "-20.0 .. 40.0 step 0.5"

        # SITE: type only the site name; FIRMWARE, left empty, is not sent (the driver would
        # have answered with it unchanged either way: the request is what is checked).
        site = screen.panels["SITE"]
        sent: list[dict[str, Any]] = []
        original = app.send_values

        def recording(panel: VectorPanel, values: dict[str, Any]) -> None:
            sent.append(dict(values))
            original(panel, values)

        monkeypatch.setattr(app, "send_values", recording)
        name = site.rows["NAME"].field
        assert name is not None
        name.focus()
        await pilot.press(*"Dome", "enter")
        await wait_for(pilot, lambda: site.info.member("NAME").value == "Dome",  # type: ignore[union-attr]
                       what="the new site name from the driver")
        assert sent == [{"NAME": "Dome"}]
