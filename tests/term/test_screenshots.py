"""The screenshots in the docs are indipyterm's own SVG exports, and must match the screens.

Each run draws the start screen and a device screen against our server and the Kit driver,
checks that the pictures show the devices, and compares each with ``docs/_static/indipyterm-*.svg``:
a picture that differs fails the test (the new one is left in the test's tmp folder to look
at). ``INDIPY_UPDATE_PICTURES=1`` rewrites the docs' pictures instead; a normal run never writes
them. What differs from run to run is masked before comparing: textual's generated ids, the
server's port, and the times of day (UTC) the run drew, which are stored as 12:00:00.
"""

from __future__ import annotations

import difflib
import html
import math
import os
import re
import time
from collections.abc import Iterable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from kitdriver import KitDriver
from termhelpers import wait_for
from textual.pilot import Pilot

from indipyserver import IPyServer
from indipyterm.app import TermApp
from indipyterm.devicescreen import DeviceScreen

STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"
SIZE = (110, 34)
UPDATE = "INDIPY_UPDATE_PICTURES"
STAMP = "12:00:00"  # every time of day the run drew, in the stored pictures


def run_clock(start: float, end: float) -> set[str]:
    """Every time of day (UTC, as indipyterm shows timestamps) from `start` to `end`."""
    return {datetime.fromtimestamp(second, UTC).strftime("%H:%M:%S")
            for second in range(math.floor(start) - 1, math.ceil(end) + 2)}


def svg_text(svg: str) -> str:
    """The characters an SVG export shows, roughly in order (for `in` checks)."""
    return html.unescape(" ".join(re.findall(r">([^<>]*)</text>", svg))).replace("\xa0", " ")


def stamped(svg: str, clock: Iterable[str]) -> str:
    """The picture with each time of day in `clock` shown as STAMP, where it stands as a time
    of day: not a sexagesimal value's tail (the Kit's Dec, -10:30:18, was drawn as -12:00:00
    by a run at 10:30 UTC, and its picture failed)."""
    for moment in clock:
        svg = re.sub(r"(?<![\d:+-])" + re.escape(moment) + r"(?![\d:])", STAMP, svg)
    return svg


def normalised(svg: str) -> str:
    """The picture without what changes on every run: textual's id for the export (a hash
    in every class name) and the port the test's server got."""
    svg = re.sub(r"terminal-\d+", "terminal-ID", svg)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", svg)


def difference(expected: str, drawn: str, clock: Iterable[str] = ()) -> str:
    """'' when the pictures match; otherwise what differs, in the text shown and the SVG.
    `clock`: the times of day the drawing run could show (stored pictures show STAMP)."""
    want, got = normalised(expected), normalised(stamped(drawn, clock))
    if want == got:
        return ""
    shown = list(difflib.unified_diff(svg_text(want).split("  "), svg_text(got).split("  "),
                                      "docs", "drawn", lineterm="", n=1))
    svg = list(difflib.unified_diff(want.splitlines(), got.splitlines(), "docs", "drawn",
                                    lineterm="", n=0))
    return "\n".join((shown or ["(the same text; the difference is in the drawing)"])
                     + svg[:40])


def check_picture(name: str, svg: str, clock: set[str], tmp_path: Path) -> None:
    """Compare with docs/_static/<name>; rewrite it only when INDIPY_UPDATE_PICTURES=1."""
    path = STATIC / name
    if os.environ.get(UPDATE) == "1":
        if not path.exists() or difference(path.read_text(), svg, clock):
            STATIC.mkdir(parents=True, exist_ok=True)
            path.write_text(stamped(svg, clock))  # only a changed picture: no churn of ids
        return
    assert path.exists(), f"{path} is missing: run with {UPDATE}=1 to draw it"
    diff = difference(path.read_text(), svg, clock)
    if diff:
        drawn = tmp_path / name
        drawn.write_text(svg)
        pytest.fail(f"{path} is not what indipyterm draws now (see {drawn}); if the change is "
                    f"meant, run with {UPDATE}=1 and commit the new picture:\n{diff}")


async def settled_screenshot(app: TermApp, pilot: Pilot[None], title: str, began: float,
                             showing: tuple[str, ...] = ()) -> str:
    """The screen once it shows every text of `showing` and two exports in a row are the same
    (masked as compared): a picture taken while a tab switch or a refresh is still being
    drawn differs from the stored one only because the machine was busy (a loaded CI run
    caught the switches mid-draw, and once the start screen before the refresh that draws
    what the app already held: the status line and a message)."""
    previous = ""
    for _ in range(200):
        await pilot.pause()
        svg = app.export_screenshot(title=title)
        if not all(text in svg_text(svg) for text in showing):
            previous = ""
            seen = app.refreshes
            await wait_for(pilot, lambda seen=seen: app.refreshes > seen,
                           what="the app's next refresh")
            continue
        now = normalised(stamped(svg, run_clock(began, time.time())))
        if now == previous:
            return svg
        previous = now
    raise AssertionError(f"the screen never settled for {title!r} (showing {showing})")


def test_the_comparison_masks_only_what_changes_between_runs() -> None:
    """The stored picture compared with itself drawn on another port, at another time, with
    other ids, matches; one character changed on the screen, or a colour, does not."""
    stored = (STATIC / "indipyterm-start.svg").read_text()
    ids = set(re.findall(r"terminal-(\d+)", stored))
    assert len(ids) == 1 and STAMP in stored
    elsewhere = stored.replace(STAMP, "23:59:01")
    elsewhere = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:45678", elsewhere)
    elsewhere = elsewhere.replace(f"terminal-{ids.pop()}", "terminal-987654321")
    assert difference(stored, elsewhere, {"23:59:00", "23:59:01"}) == ""
    assert difference(stored, elsewhere, {"23:59:00"})  # a time the run did not draw
    # A value that reads like a time the run drew is no timestamp: the Kit's Dec stays.
    device = (STATIC / "indipyterm-device.svg").read_text()
    assert ">-10:30:18<" in device
    assert difference(device, device, {"10:30:18", "10:30:19"}) == ""
    renamed = stored.replace(">Weather<", ">Weathe!<", 1)
    assert renamed != stored and "Weathe!" in difference(stored, renamed)
    recoloured = re.sub(r"(\{ fill: )#[0-9a-f]{6}", r"\1#123456", stored, count=1)
    assert recoloured != stored and difference(stored, recoloured)


async def test_start_and_device_screenshots_show_the_devices(
    kit: tuple[IPyServer, KitDriver], tmp_path: Path,
) -> None:
    """The three pictures in the docs show the devices, a refused entry and the switches, and
    are what indipyterm draws today."""
    server, driver = kit
    began = time.time()
    # no list of servers found: what is on the network differs from run to run
    app = TermApp("127.0.0.1", server.port, discover=False)
    app.animation_level = "none"  # the tab underline slides: a picture must not catch it midway
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.device_names() == ["Kit", "Weather"], what="devices")
        await driver["Kit"].send_message("Kit ready")  # a line in the message log
        await wait_for(pilot, lambda: any("Kit ready" in m for m in app.messages), what="message")
        start = await settled_screenshot(app, pilot, "indipyterm: start screen", began,
                                         ("connected to 127.0.0.1", "Kit ready"))

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
        await pilot.pause()  # the field's own Changed message first, as when typing
        target.submit()
        await wait_for(pilot, lambda: "150 is outside min 0 .. max 100"
                       in str(target.error_label.content), what="the range error")
        device = await settled_screenshot(app, pilot, "indipyterm: device screen", began)

        screen.show_vector("POWER")
        screen.action_revert()  # focus on the tabs: no cursor on a switch in the picture
        switches = await settled_screenshot(app, pilot, "indipyterm: switches", began)

    start_text, device_text = svg_text(start), svg_text(device)
    assert "Kit" in start_text and "Weather" in start_text, start_text
    assert "connected to 127.0.0.1" in start_text and "Kit ready" in start_text
    assert "Kit" in device_text and "Coordinates (COORDS)" in device_text, device_text
    assert "150 is outside min 0 .. max 100" in device_text
    assert "Power (POWER)" in svg_text(switches)

    for name, svg in (("indipyterm-start.svg", start), ("indipyterm-device.svg", device),
                      ("indipyterm-switches.svg", switches)):
        check_picture(name, svg, run_clock(began, time.time()), tmp_path)
