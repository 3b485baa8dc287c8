"""indipyterm against indilib itself: ``indiserver`` running ``indi_simulator_telescope``.

Connect the telescope with one click on its CONNECTION switch (sent at once, no Submit), type
new coordinates (both: indilib's telescope ignores a request holding only one of RA and DEC,
and Submit sends only the members typed into), Submit, and watch the coordinates the simulator reports move on the screen as it slews.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import waiting
from termhelpers import click
from termhelpers import settle
from termhelpers import show_panel
from termhelpers import simulator_screen
from termhelpers import type_into
from termhelpers import wait_for
from textual.widgets import Checkbox
from textual.widgets import RadioButton

from indipyterm.vectorinfo import float_or_none

pytestmark = pytest.mark.interop

SCOPE = "Telescope Simulator"


async def test_connect_the_telescope_and_see_its_coordinates_update(
    indiserver_factory: Callable[..., object],
) -> None:
    async with simulator_screen(indiserver_factory, "indi_simulator_telescope", SCOPE) as (
        pilot, screen, events,
    ):
        await settle(pilot)
        connection = screen.panels["CONNECTION"]
        connect = connection.switch_widgets["CONNECT"]
        assert isinstance(connect, RadioButton)
        assert not connection.query(".submit")
        await click(pilot, connect)

        # Connected, the driver defines its coordinates (in the Main Control group).
        coords = await show_panel(pilot, screen, "EQUATORIAL_EOD_COORD",
                                  "EQUATORIAL_EOD_COORD defined after connecting")
        assert connection.info.member("CONNECT").value == "On"  # type: ignore[union-attr]
        await settle(pilot)
        dec_label = coords.rows["DEC"].value_label

        def shown_dec() -> float | None:
            return float_or_none(str(dec_label.content))

        # The definition says Dec 0 until the simulator's first poll reports where it is (the
        # pole): read the start once the simulator has reported its coordinates and the Dec
        # shown is the one it reported last.
        def reported_and_shown() -> tuple[float] | None:
            reports = [e for e in events if e.eventtype == "Set"
                       and e.vectorname == "EQUATORIAL_EOD_COORD" and "DEC" in e]
            shown = shown_dec()
            if not reports or shown is None:
                return None
            reported = float_or_none(reports[-1]["DEC"])
            return (shown,) if reported is not None and abs(shown - reported) < 0.01 else None

        (start,) = await waiting.until(reported_and_shown, 60,
                                       lambda: f"the Dec reported and shown: {dec_label.content}",
                                       pause=lambda: pilot.pause(0.05))
        # 20 degrees away: several steps at the simulator's slew rate, without a slew of
        # 120 degrees from the pole (20 s of the run).
        target = start - 20.0 if start > -60 else start + 20.0
        await type_into(pilot, coords, "RA", str(coords.info.member("RA").value))  # type: ignore[union-attr]
        await type_into(pilot, coords, "DEC", f"{target:g}")
        await click(pilot, coords.query_one(".submit"))
        await settle(pilot)
        assert str(coords.error_label.content) == ""

        # The simulator slews: it reports the Dec step by step, and the screen shows where it
        # got to until it is there. (The steps are counted in what the simulator reported: on a
        # loaded machine the screen's 10 redraws a second may show only the last of them.)
        before = len(events)

        def arrived() -> bool:
            value = shown_dec()
            return value is not None and abs(value - target) < 0.1

        await wait_for(pilot, arrived, timeout=60, what=f"Dec to reach {target}")
        steps = {round(float(e["DEC"]), 3) for e in events[before:] if e.eventtype == "Set"
                 and e.vectorname == "EQUATORIAL_EOD_COORD" and "DEC" in e}
        assert len(steps) >= 3, f"the Dec reported went {sorted(steps)}: no steps"
        assert coords.has_class("-state-ok") or coords.has_class("-state-busy")


async def test_abort_motion_is_one_key_and_stops_a_slew(
    indiserver_factory: Callable[..., object],
) -> None:
    """A slew of 150 degrees, then Space on TELESCOPE_ABORT_MOTION's Abort (AtMostOne, no
    Submit): the simulator answers the abort and the coordinates stop being Busy with the Dec
    still far from the target, so the slew was cut short, not finished."""
    async with simulator_screen(indiserver_factory, "indi_simulator_telescope", SCOPE) as (
        pilot, screen, _,
    ):
        await settle(pilot)
        await click(pilot, screen.panels["CONNECTION"].switch_widgets["CONNECT"])
        coords = await show_panel(pilot, screen, "EQUATORIAL_EOD_COORD", "the mount's vectors")
        await settle(pilot)
        await type_into(pilot, coords, "RA", "6")
        # from the pole (90): 150 degrees away, so the abort lands mid-slew even when a loaded
        # machine takes seconds to deliver it (60 degrees were once done before it came)
        dec_field = await type_into(pilot, coords, "DEC", "-60")
        assert dec_field.value == "-60"
        await pilot.press("enter")
        await wait_for(pilot, lambda: coords.info.state == "Busy", what="slewing")

        abort = await show_panel(pilot, screen, "TELESCOPE_ABORT_MOTION")
        await settle(pilot)
        assert abort.info.rule == "AtMostOne" and not abort.query(".submit")
        abort.query_one(Checkbox).focus()
        await pilot.press("space")
        await wait_for(pilot, lambda: abort.info.state == "Ok", what="the abort answered Ok")
        await wait_for(pilot, lambda: coords.info.state != "Busy", what="the slew stopped")
        dec = float_or_none(coords.info.member("DEC").value)  # type: ignore[union-attr]
        assert dec is not None and abs(dec + 60) > 1, dec
