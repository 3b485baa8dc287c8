"""The focuser simulator's star size (issue 71 item 6): SEEING_SETTINGS and FWHM as indilib's
focuser simulator has them, our FOCUS_SIMULATION placing the best position and how fast the
stars grow, FWHM following the focuser as it moves, and our CCD simulator drawing its stars
that wide because it snoops the focuser its ACTIVE_DEVICES names, through our server."""

from __future__ import annotations

import asyncio
import math

import pytest
from peers import setprop
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyclient import InvalidValue
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators.ccd import FWHM_PER_SIGMA
from indipysimulators.focus import StarSize


@pytest.mark.parametrize("steps", [10, 30, 250])
def test_the_stars_double_at_steps_to_double_and_grow_as_a_v(steps: int) -> None:
    """FWHM is the seeing at the best position, twice it `steps_to_double` away either side,
    and far out grows linearly (the V whose bottom autofocus finds)."""
    size = StarSize(seeing=2.5, best_position=1000, steps_to_double=steps)
    assert size.fwhm(1000) == 2.5
    assert size.fwhm(1000 + steps) == pytest.approx(5.0)
    assert size.fwhm(1000 - steps) == pytest.approx(5.0)
    far = [size.fwhm(1000 + k * 100 * steps) for k in (1, 2, 3)]
    assert far[2] - far[1] == pytest.approx(far[1] - far[0], rel=1e-3)


async def test_fwhm_follows_the_focuser_and_the_camera_draws_it() -> None:
    """Our focuser and camera in our server: FWHM is defined on connect (3.5 arcsec, the
    default seeing at the default best position), changes with SEEING_SETTINGS, with
    FOCUS_SIMULATION and as the focuser moves; the camera's stars take each value (it snoops
    FWHM from ACTIVE_FOCUSER), and forget it when ACTIVE_FOCUSER names no device."""
    camera_driver = ccd.make_driver()
    camera = camera_driver.driverdata["camera"]
    async with running(server(camera_driver, focus.make_driver(5000))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        def fwhm() -> float:
            return float(client.get(focus.FOCUSER, "FWHM", "SIM_FWHM"))

        async def drawn(value: float) -> None:
            await until(lambda: math.isclose(fwhm(), value, abs_tol=0.01)
                        and math.isclose(camera.star_sigma() * FWHM_PER_SIGMA
                                         * camera.optics().arcsec_per_pixel, value,
                                         abs_tol=0.01),
                        what=lambda: f"FWHM {fwhm()}, camera {camera.star_sigma()}")

        for device in (ccd.DEVICE, focus.FOCUSER):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await drawn(3.5)
        await client.set(focus.FOCUSER, "FOCUS_SIMULATION",
                         {"BEST_POSITION": 50030, "STEPS_TO_DOUBLE": 30}, timeout=10)
        await drawn(7.0)
        await client.set(focus.FOCUSER, "SEEING_SETTINGS", {"SIM_SEEING": 2.0}, timeout=10)
        await drawn(4.0)
        await client.set(focus.FOCUSER, "ABS_FOCUS_POSITION",
                         {"FOCUS_ABSOLUTE_POSITION": 50090}, timeout=10)
        await drawn(round(2 * math.sqrt(13), 2))
        await client.set(ccd.DEVICE, "ACTIVE_DEVICES", {"ACTIVE_FOCUSER": ""}, timeout=10)
        await until(lambda: camera.star_sigma() == camera.sigma, what="the FWHM forgotten")


async def test_a_bad_simulation_setting_is_refused_and_the_focuser_carries_on() -> None:
    """STEPS_TO_DOUBLE 0 (stars of infinite size) is refused: our client says so before
    sending; sent anyway by indilib's indi_setprop, the vector answers Alert, FWHM is unchanged
    and the focuser still moves."""
    async with running(server(focus.make_driver(5000))) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.set(focus.FOCUSER, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        with pytest.raises(InvalidValue):
            await client.set(focus.FOCUSER, "FOCUS_SIMULATION", {"STEPS_TO_DOUBLE": 0})
        sent = await asyncio.to_thread(
            setprop, ours.port, f"{focus.FOCUSER}.FOCUS_SIMULATION.STEPS_TO_DOUBLE=0")
        assert sent.returncode == 0, sent
        await client.wait_for(focus.FOCUSER, "FOCUS_SIMULATION", state="Alert", timeout=10)
        assert client.get(focus.FOCUSER, "FOCUS_SIMULATION", "STEPS_TO_DOUBLE") == 30
        assert client.get(focus.FOCUSER, "FWHM", "SIM_FWHM") == 3.5
        await client.set(focus.FOCUSER, "ABS_FOCUS_POSITION",
                         {"FOCUS_ABSOLUTE_POSITION": 50030}, timeout=10)
        assert client.get(focus.FOCUSER, "FWHM", "SIM_FWHM") == 7.0
