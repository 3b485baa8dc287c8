"""indipyterm against indilib's CCD simulator under ``indiserver``: switches are one key.

Connect the camera with one click on CONNECTION's Connect (no Submit), start a 30 s exposure
by typing it and pressing Enter, then abort it with one key (Space on CCD_ABORT_EXPOSURE's
Abort, an AtMostOne vector): the driver answers the abort and the exposure stops being Busy
before its 30 s could have run out (the evidence is the driver's own states).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from termhelpers import click
from termhelpers import show_panel
from termhelpers import simulator_screen
from termhelpers import type_into
from termhelpers import wait_for

pytestmark = pytest.mark.interop

CCD = "CCD Simulator"


async def test_connect_expose_and_abort_each_take_one_key(
    indiserver_factory: Callable[..., object],
) -> None:
    async with simulator_screen(indiserver_factory, "indi_simulator_ccd", CCD) as (pilot, screen, _):
        connection = screen.panels["CONNECTION"]
        assert not connection.query(".submit")
        await pilot.pause()
        await click(pilot, connection.switch_widgets["CONNECT"])
        # The camera defines some fifty vectors on Connect; the screen mounts their panels one
        # at a time (many seconds on a loaded machine) while it goes on drawing the others.
        exposure = await show_panel(pilot, screen, "CCD_EXPOSURE",
                                    "the camera's exposure after one click on Connect")
        field = await type_into(pilot, exposure, "CCD_EXPOSURE_VALUE", "30")
        assert field.value == "30"
        await pilot.press("enter")
        await wait_for(pilot, lambda: exposure.info.state == "Busy", what="exposing")

        abort = await show_panel(pilot, screen, "CCD_ABORT_EXPOSURE")
        assert abort.info.rule == "AtMostOne" and not abort.query(".submit")
        abort.switch_widgets["ABORT"].focus()
        await pilot.press("space")
        await wait_for(pilot, lambda: abort.info.state == "Ok", what="the abort answered Ok")
        # Within wait_for's 20 s, so before the 30 s exposure could have ended by itself.
        await wait_for(pilot, lambda: exposure.info.state != "Busy", what="the exposure stopped")
