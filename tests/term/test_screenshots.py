"""The screenshots in the docs are indipyterm's own SVG exports, regenerated here.

Each run draws the start screen and a device screen against our server and the Kit driver,
checks that the pictures show the devices, and rewrites ``docs/_static/indipyterm-*.svg`` when
the picture changed. Times, the port and textual's generated ids differ on every run, so the
comparison masks runs of digits: the files in the repository change only when the screens do.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from kitdriver import KitDriver
from termhelpers import settle, wait_for

from indipyserver import IPyServer
from indipyterm.app import TermApp
from indipyterm.devicescreen import DeviceScreen

STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"
SIZE = (110, 34)


def svg_text(svg: str) -> str:
    """The characters an SVG export shows, roughly in order (for `in` checks)."""
    return html.unescape(" ".join(re.findall(r">([^<>]*)</text>", svg))).replace("\xa0", " ")


def keep(name: str, svg: str) -> Path:
    """Write docs/_static/<name> unless the same picture (digits aside) is already there."""
    path = STATIC / name
    if path.exists() and re.sub(r"\d+", "0", path.read_text()) == re.sub(r"\d+", "0", svg):
        return path
    STATIC.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
    return path


async def test_start_and_device_screenshots_show_the_devices(
    kit: tuple[IPyServer, KitDriver],
) -> None:
    server, driver = kit
    app = TermApp("127.0.0.1", server.port)
    app.animation_level = "none"  # the tab underline slides: a picture must not catch it midway
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.device_names() == ["Kit", "Weather"], what="devices")
        await driver["Kit"].send_message("Kit ready")  # a line in the message log
        await wait_for(pilot, lambda: any("Kit ready" in m for m in app.messages), what="message")
        await settle(pilot)
        start = app.export_screenshot(title="indipyterm: start screen")

        app.open_device("Kit")
        await wait_for(pilot, lambda: isinstance(app.screen, DeviceScreen)
                       and len(app.screen.panels) == 11, what="Kit's panels")
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        # A refused entry, to show how the screen says why.
        target = screen.panels["TARGET"]
        field = target.rows["TEMP"].field
        assert field is not None
        field.value = "150"
        await settle(pilot)  # the field's own Changed message first, as when typing
        target.submit()
        await settle(pilot)
        device = app.export_screenshot(title="indipyterm: device screen")

        screen.show_vector("POWER")
        screen.action_revert()  # focus on the tabs: no cursor on a switch in the picture
        await settle(pilot)
        switches = app.export_screenshot(title="indipyterm: switches")

    start_text, device_text = svg_text(start), svg_text(device)
    assert "Kit" in start_text and "Weather" in start_text, start_text
    assert "connected to 127.0.0.1" in start_text and "Kit ready" in start_text
    assert "Kit" in device_text and "Coordinates (COORDS)" in device_text, device_text
    assert "150 is outside min 0 .. max 100" in device_text
    assert "Power (POWER)" in svg_text(switches)

    for name, svg in (("indipyterm-start.svg", start), ("indipyterm-device.svg", device),
                      ("indipyterm-switches.svg", switches)):
        path = keep(name, svg)
        kept = svg_text(path.read_text())
        assert "Kit" in kept, f"{path} does not show the device"
