"""indipysimulators.mountdrift, telescope and guidecamera: periodic error and drift move where
the mount truly points (EQUATORIAL_PE), guide pulses move it back, and the guide camera's star
follows the truth and wanders a little with the seeing, through our server and a real client."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import sep
from hypothesis import given
from hypothesis import strategies as st
from serverkit import running
from serverkit import server
from skykit import longitude_for
from waiting import until

import indipyclient
from indipydriver.standard.camera import Exposure
from indipysimulators import guidecamera
from indipysimulators import telescope
from indipysimulators.ccd import SimulatedCamera
from indipysimulators.mountdrift import TrackingError


def test_the_periodic_error_is_a_sine_and_the_drift_a_line() -> None:
    error = TrackingError(amplitude=15.0, period=60.0, phase_origin=0.0)
    assert error.offset(0.0) == (0.0, 0.0)
    assert math.isclose(error.offset(15.0)[0], 15.0 / 60)  # a quarter period: the crest
    assert math.isclose(error.offset(45.0)[0], -15.0 / 60)
    error.set_drift(0.0, 3.0, now=0.0)
    assert math.isclose(error.offset(120.0)[1], 6.0 / 60)  # 3"/min for 2 min


@given(st.floats(-100, 100), st.floats(-100, 100), st.floats(-100, 100),
       st.floats(-100, 100), st.floats(0, 1e5), st.floats(0, 1e4))
def test_a_new_drift_rate_never_makes_the_truth_jump(ra1: float, dec1: float, ra2: float,
                                                     dec2: float, start: float,
                                                     later: float) -> None:
    error = TrackingError(origin=start)
    error.set_drift(ra1, dec1, start)
    before = error.drift(start + later)
    error.set_drift(ra2, dec2, start + later)
    after = error.drift(start + later)
    assert math.isclose(before[0], after[0], abs_tol=1e-9)
    assert math.isclose(before[1], after[1], abs_tol=1e-9)


def brightest(camera: SimulatedCamera) -> tuple[float, float]:
    width, height = camera.sensor.width, camera.sensor.height
    image = camera.render(Exposure(1.0, 0, 0, width, height))
    data = np.array(image.pixels, dtype=np.float64).reshape(height, width)
    background = sep.Background(data)
    found = sep.extract(data - background, 8.0, err=background.globalrms, minarea=3)
    best = found[np.argmax(found["flux"])]
    return float(best["x"]), float(best["y"])


def test_seeing_moves_the_star_a_little_every_frame() -> None:
    camera = SimulatedCamera(guidecamera.SENSOR)
    camera.pointing = lambda: (3.80, 24.30)
    spots = [brightest(camera) for _ in range(6)]
    xs = [x for x, _ in spots]
    spread = max(xs) - min(xs)
    assert 0.005 < spread < 1.0, spots  # 0.3" RMS at 2.49"/px: a tenth of a pixel or so
    camera.seeing_jitter = 0.0
    # Without seeing only the noise moves the measured centre: hundredths of a pixel.
    still = [brightest(camera) for _ in range(3)]
    still_spread = max(abs(a - b) for p in still for q in still for a, b in zip(p, q))
    assert still_spread < 0.05, still


async def test_drift_pe_and_pulses_move_the_true_pointing_and_the_guide_star() -> None:
    mount_driver = telescope.make_driver(50.0)
    guide_driver = guidecamera.make_driver()
    camera = guide_driver.driverdata["camera"]
    camera.seeing_jitter = 0.0
    async with running(server(mount_driver, guide_driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        mount, cam = telescope.DEVICE, guidecamera.DEVICE

        def number(vector: str, member: str, device: str = mount) -> float:
            return float(client.get(device, vector, member))

        for device in (mount, cam):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        assert number("SIM_PE", "AMPLITUDE") == 0.0 and number("SIM_DRIFT", "DEC") == 0.0
        assert number("GUIDE_RATE", "GUIDE_RATE_NS") == 0.5
        # An hour east of the meridian, whatever the hour: the mount on PIER_WEST, the camera
        # north up (on PIER_EAST it turns the field half round, as after a meridian flip).
        await client.set(mount, "GEOGRAPHIC_COORD",
                         {"LAT": 51.48, "LONG": longitude_for(-1.0, 3.8), "ELEV": 0}, timeout=10)
        await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": 3.8, "DEC": 24.3}, timeout=30)
        assert client.get(mount, "TELESCOPE_PIER_SIDE", "PIER_WEST") == "On"
        await until(lambda: camera.pointing() is not None
                    and math.isclose(camera.pointing()[1], 24.3, abs_tol=1e-6), timeout=10)
        x0, y0 = brightest(camera)

        # Drift of 120"/min north: the truth moves 2"/s north, the report stays.
        await client.set(mount, "SIM_DRIFT", {"DEC": 120.0}, timeout=10)
        await until(lambda: number("EQUATORIAL_PE", "DEC_PE") > 24.3 + 4 / 3600, timeout=10)
        assert math.isclose(number("EQUATORIAL_EOD_COORD", "DEC"), 24.3, abs_tol=1e-6)
        await client.set(mount, "SIM_DRIFT", {"DEC": 0.0}, timeout=10)
        drifted = number("EQUATORIAL_PE", "DEC_PE")
        # The camera sees it: north is up, the star moves down the frame (lower y).
        await until(lambda: camera.pointing() is not None
                    and math.isclose(camera.pointing()[1], drifted, abs_tol=1e-6), timeout=5)
        x1, y1 = brightest(camera)
        moved = (drifted - 24.3) * 3600 / 2.494
        assert math.isclose(y0 - y1, moved, abs_tol=0.3), (y0, y1, moved)
        assert abs(x1 - x0) < 0.3

        # A 2 s south pulse at 0.5x sidereal (7.5"/s) takes 15" back.
        result = await client.set(mount, "TELESCOPE_TIMED_GUIDE_NS", {"TIMED_GUIDE_S": 2000},
                                  timeout=10)
        assert result.state.value == "Ok"
        await until(lambda: math.isclose(number("EQUATORIAL_PE", "DEC_PE"),
                                         drifted - 15.04 / 3600, abs_tol=1 / 3600), timeout=5)

        # Periodic error 30" over 8 s: RA_PE swings about the report, Dec untouched.
        await client.set(mount, "SIM_PE", {"AMPLITUDE": 30.0, "PERIOD": 8.0}, timeout=10)
        swings = []

        def offset() -> float:
            diff = number("EQUATORIAL_PE", "RA_PE") - number("EQUATORIAL_EOD_COORD", "RA")
            swings.append(diff * 15 * 3600)
            return max(swings) - min(swings)

        await until(lambda: offset() > 40.0, timeout=12, interval=0.1)
        assert max(abs(s) for s in swings) <= 30.5

        # Drift in RA (SIM_DRIFT RA, 120" a minute of the RA axis): the truth runs ahead of
        # the report. Then no periodic error nor drift, and a 2 s west pulse at GUIDE_RATE_WE
        # (0.5x sidereal) takes the true pointing 15" of the RA axis down (the axis moves: the
        # report moves with it, as the NS pulse's does).
        await client.set(mount, "SIM_PE", {"AMPLITUDE": 0.0}, timeout=10)

        def ahead() -> float:
            """Where the mount truly points past where it says, arcseconds of RA axis."""
            diff = number("EQUATORIAL_PE", "RA_PE") - number("EQUATORIAL_EOD_COORD", "RA")
            return diff * 15 * 3600

        await asyncio.sleep(1.5)  # EQUATORIAL_PE sent again without the periodic error
        still = ahead()
        await client.set(mount, "SIM_DRIFT", {"RA": 120.0, "DEC": 0.0}, timeout=10)
        await until(lambda: ahead() > still + 4.0, timeout=10)
        await client.set(mount, "SIM_DRIFT", {"RA": 0.0}, timeout=10)
        await asyncio.sleep(1.5)  # sent again after the drift stopped
        assert ahead() > still + 4.0

        def true_ra() -> float:
            """RA_PE, arcseconds of RA axis."""
            return number("EQUATORIAL_PE", "RA_PE") * 15 * 3600

        drifted_ra = true_ra()
        assert number("GUIDE_RATE", "GUIDE_RATE_WE") == 0.5
        result = await client.set(mount, "TELESCOPE_TIMED_GUIDE_WE", {"TIMED_GUIDE_W": 2000},
                                  timeout=10)
        assert result.state.value == "Ok"
        await until(lambda: math.isclose(true_ra(), drifted_ra - 15.04, abs_tol=1.0), timeout=5)
