"""examples/ccd_simulator.py: the simulated camera's hardware part (star field, binning,
frame types, cooler ramp) and its two ways of running (serving itself with --port, or INDI on
stdin/stdout when its stdin is a pipe, as under indiserver; tests/interop/test_standard_camera.py
runs it under indilib's indiserver)."""

from __future__ import annotations

import asyncio
import math
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import ccd_simulator
import pytest
from ccd_simulator import SimulatedCamera
from ccd_simulator import SimulatedCooler
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import wait_listening

from indipydriver.standard.camera import Exposure
from indipysimulators import photometry
from indipysimulators.ccd import FWHM_PER_SIGMA

#: The processes these tests start write under HOME: tests/conftest.py's `tmp_home`.
pytestmark = pytest.mark.usefixtures("tmp_home")

EXAMPLE = Path(ccd_simulator.__file__)
DEV = ccd_simulator.DEVICE


def test_a_light_frame_has_stars_and_a_dark_frame_none() -> None:
    """Light: a few hundred pixels well above the background; Dark: none; each image is the
    binned frame's size."""
    camera = SimulatedCamera()
    light = camera.render(Exposure(1.0, 0, 0, 1280, 1024))
    assert (light.width, light.height) == (1280, 1024)
    assert sum(1 for p in light.pixels if p > 5000) > 50
    dark = camera.render(Exposure(1.0, 0, 0, 1280, 1024, frame_type="Dark"))
    assert max(dark.pixels) < photometry.BIAS + 10 * photometry.READ_NOISE / photometry.GAIN
    binned = camera.render(Exposure(1.0, 100, 100, 600, 400, 2, 4))
    assert (binned.width, binned.height, len(binned.pixels)) == (300, 100, 30000)


def star_width(light: Sequence[int], blank: Sequence[int], width: int, x: float, y: float,
               box: int) -> float:
    """The flux-weighted rms radius (pixels) of the star near `x`, `y`, about its own centre,
    over a square `box` pixels either side: its light alone, the frame less a `blank` one with
    the same noise. About its centre, not `x`, `y`: the seeing's wander (`SEEING_JITTER`)
    moves the whole field between frames, which must not read as a wider star."""
    pixels = [(c + 0.5, r + 0.5, light[r * width + c] - blank[r * width + c])
              for r in range(int(y) - box, int(y) + box + 1)
              for c in range(int(x) - box, int(x) + box + 1)]
    total = sum(signal for _, _, signal in pixels)
    cx = sum(c * signal for c, _, signal in pixels) / total
    cy = sum(r * signal for _, r, signal in pixels) / total
    moment = sum(signal * ((c - cx) ** 2 + (r - cy) ** 2) for c, r, signal in pixels)
    return math.sqrt(moment / total)


def test_the_stars_are_as_wide_as_the_focuser_says() -> None:
    """With a snooped FWHM the brightest star's size follows it (a Gaussian's rms radius is
    sqrt(2) sigma, sigma = FWHM / 2.355 at 1 arcsecond a pixel); unknown, 1.6 pixels sigma;
    beyond MAX_FWHM_PIXELS a star stops growing, so a frame far from focus stays cheap. The
    focal length set for 1 arcsecond a 5.2 um pixel (the default 430 mm gives 2.49)."""
    camera = SimulatedCamera()
    camera.focal_length = lambda: 206.264806 * 5.2
    assert camera.optics().arcsec_per_pixel == pytest.approx(1.0)
    x, y, _ = max((s for s in camera.stars if 60 < s[0] < 1220 and 60 < s[1] < 960),
                  key=lambda s: s[2])
    exposure = Exposure(2.0, 0, 0, 1280, 1024)
    sizes = {}
    for fwhm in (None, 3.5, 7.0, 14.0):
        camera.fwhm = lambda fwhm=fwhm: fwhm
        random.seed(repr(fwhm))  # the same noise in the frame and the blank one (not None:
        # random.seed(None) seeds from the system, a different noise each time)
        light = camera.render(exposure).pixels
        random.seed(repr(fwhm))
        empty = SimulatedCamera(stars=0)
        empty.focal_length = camera.focal_length  # the same sky a pixel (the plate scale's)
        blank = empty.render(exposure).pixels
        sigma = (fwhm or 1.6 * FWHM_PER_SIGMA) / FWHM_PER_SIGMA
        box = max(8, math.ceil(5 * sigma))
        sizes[fwhm] = star_width(light, blank, 1280, x, y, box) / math.sqrt(2)
    assert sizes[None] == pytest.approx(1.6, rel=0.05)
    for fwhm in (3.5, 7.0, 14.0):
        assert sizes[fwhm] == pytest.approx(fwhm / FWHM_PER_SIGMA, rel=0.05)
    camera.fwhm = lambda: 200.0
    assert camera.star_sigma() == pytest.approx(50 / FWHM_PER_SIGMA)


def test_the_seeing_moves_the_whole_field_between_frames() -> None:
    """`SEEING_JITTER` shifts every star of a frame by one offset (a guide star wandering
    through the air), another each frame; it never spreads the stars of one frame apart."""
    camera = SimulatedCamera()
    frames = [camera.through_air(camera.stars) for _ in range(3)]
    offsets = []
    for frame in frames:
        dx, dy = frame[0][0] - camera.stars[0][0], frame[0][1] - camera.stars[0][1]
        for (mx, my, mflux), (x, y, flux) in zip(frame, camera.stars, strict=True):
            assert (mx - x, my - y, mflux) == pytest.approx((dx, dy, flux), abs=1e-9)
        offsets.append((dx, dy))
    assert len(set(offsets)) == 3


def test_a_saturated_star_is_clipped_not_wrapped() -> None:
    """A long exposure's brightest stars end at 65535 (a 16-bit pixel), never overflow."""
    camera = SimulatedCamera()
    image = camera.render(Exposure(600.0, 0, 0, 1280, 1024))
    assert max(image.pixels) == 65535


async def test_the_cooler_ramps_to_its_set_point_and_back_to_ambient() -> None:
    cooler = SimulatedCooler(ambient=20.0, rate=1000.0)
    await cooler.set_target(-10.0)
    assert await cooler.temperature() == 20.0  # off: stays at ambient
    await cooler.set_cooler(True)
    await asyncio.sleep(0.05)  # the scenario: simulated time passing (30 ms at 1000 C/s)
    assert await cooler.temperature() == -10.0
    await cooler.set_cooler(False)
    await asyncio.sleep(0.05)
    assert await cooler.temperature() == 20.0


async def test_with_port_it_serves_itself(tmp_path: Path) -> None:
    """`python examples/ccd_simulator.py --port P` serves the camera with IPyServer."""
    port = free_port()
    env = dict(os.environ)
    with (tmp_path / "log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLE), "--port", str(port), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        await wait_listening(port)
        # the answer ends the wait; the bound is for a loaded machine (5 s once missed it)
        values = await getprop(port, f"{DEV}.DRIVER_INFO.DRIVER_INTERFACE", timeout=20)
        alive = process.returncode is None  # not: another program took the port first
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
    said = (tmp_path / "log").read_text(errors="replace")[-2000:]
    assert alive, f"the example ended early:\n{said}"
    assert values.get(f"{DEV}.DRIVER_INFO.DRIVER_INTERFACE") == "2", f"{values}\n{said}"


def test_with_stdin_a_pipe_it_speaks_indi_on_stdio(tmp_path: Path) -> None:
    """Started as indiserver starts drivers (stdin a pipe, no options): it answers a
    getProperties on stdout with its definitions, and exits at EOF."""
    env = dict(os.environ)
    done = subprocess.run([sys.executable, str(EXAMPLE)], input=b'<getProperties version="1.7"/>',
                          capture_output=True, env=env, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert b'<defTextVector device="Python CCD Simulator" name="DRIVER_INFO"' in done.stdout
    assert b"CCD_EXPOSURE" not in done.stdout  # not connected: no camera properties yet
