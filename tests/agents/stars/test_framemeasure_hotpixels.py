"""Issue 93 item 1: a light frame's measure counts its stars and no hot pixel. An uncalibrated
frame of our camera simulator shows its sensor's hot pixels (`sensorfaults`: 1 in 10,000,
their dark current 5 to 20 times the rest's) to sep as objects; before `measure.lone_pixels`
they counted as stars (this 120 s frame at binning 1 measured 226 "stars" for its 139, 87 of
them hot pixels, and a FWHM of 2.66 px for its 3.25; its dark 120 "stars" of HFR 0.40 px).

Each frame is measured twice: drawn as the camera draws it, and drawn by the same camera
with no hot pixel on its sensor. The two measure the same stars and the same HFR and FWHM;
a dark of the same exposure, where sep finds the hot pixels alone, measures no star."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.stars import measure
from indipyagents.stars.framemeasure import FrameMeasure
from indipyagents.stars.framemeasure import measure_frame
from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipysimulators.ccd import SENSOR
from indipysimulators.ccd import SimulatedCamera

SECONDS = 120.0


def rendered(binning: int, hot: bool = True, frame_type: str = "Light") -> tuple[bytes, int]:
    """A `SECONDS` frame of our camera simulator's 1280 x 1024 sensor at `binning`: 150 stars
    of its seeded field made faint enough not to saturate in it (30 to 380 ADU/s), its own
    width (no focuser); with its sensor's hot pixels (`hot`) or none. Also how many hot
    pixels sep finds on it as objects."""
    camera = SimulatedCamera(SENSOR, stars=150)
    camera.seeing_jitter = 0.0
    flux = random.Random(7)
    camera.stars = [(x, y, 30.0 * 10 ** flux.uniform(0, 1.1)) for x, y, _ in camera.stars]
    sensor = camera.defects()
    if not hot:
        camera.defects = lambda: replace(sensor, hot=())  # type: ignore[method-assign]
    exposure = Exposure(SECONDS, 0, 0, SENSOR.width, SENSOR.height, binning, binning,
                        frame_type)
    image = camera.render(exposure)
    fits = fits_bytes(image.width, image.height, image.pixels,
                      cards=[("PIXSIZE1", SENSOR.pixel_size * binning, ""),
                             ("FOCALLEN", 430.0, "")])
    pixels, _ = measure.image(fits)
    _, found, _ = measure.detect(pixels, measure.FOCUS_THRESHOLD)
    spots = {(x // binning, y // binning) for x, y, _ in sensor.hot}
    shown = sum((int(x), int(y)) in spots for x, y in zip(found["xpeak"], found["ypeak"]))
    return fits, shown if hot else 0


@pytest.mark.parametrize("binning", [1, 2])
def test_a_frame_counts_its_stars_and_no_hot_pixel(binning: int) -> None:
    fits, shown = rendered(binning)
    clean, _ = rendered(binning, hot=False)
    measured, reference = measure_frame(fits), measure_frame(clean)
    # sep finds dozens of the hot pixels (90 at binning 1, 31 at binning 2): none counts
    # (137 of the clean frame's 139 stars counted at binning 1, 133 of 134 at binning 2).
    assert shown >= 20, shown
    assert reference.stars >= 100
    assert abs(measured.stars - reference.stars) <= 2, (measured, reference)
    # The medians are the stars' own: a hot pixel's HFR of 0.4 px does not pull them.
    assert measured.hfr_px == pytest.approx(reference.hfr_px, rel=0.02)
    assert measured.fwhm_px == pytest.approx(reference.fwhm_px, rel=0.02)
    assert measured.hfr_px > 0.8 * 1.6 * 1.1774 / binning  # the drawn stars' HFR, sigma 1.6 px


@pytest.mark.parametrize("binning", [1, 2])
def test_a_dark_shows_sep_its_hot_pixels_and_measures_no_star(binning: int) -> None:
    fits, shown = rendered(binning, frame_type="Dark")
    assert shown >= 20, shown
    assert measure_frame(fits).stars == 0


#: The background's noise (ADU) of the synthetic frames below, over a 500 ADU bias.
NOISE = 10.0
SIZE = 96
#: The background's noise, one draw, clipped at 3.5 sigma: a neighbour's own fluctuation
#: (1 in 30,000 pixels is over 4 sigma) never decides what the property says.
BACKGROUND = np.clip(np.random.default_rng(93).normal(0.0, 1.0, (SIZE, SIZE)), -3.5, 3.5)


def integrated(centre: float, sigma: float) -> list[float]:
    """A Gaussian's share of its light in each pixel of a row: what a pixel collects."""
    edge = [math.erf((i - centre) / (sigma * math.sqrt(2.0))) for i in range(SIZE + 1)]
    return [0.5 * (high - low) for low, high in itertools.pairwise(edge)]


def one_star_one_hot_pixel(star: tuple[float, float, float, float],
                           hot: tuple[int, int, float]) -> FrameMeasure:
    """A frame of one star ((x, y) its centre, sigma, its brightest pixel in noise sigmas)
    integrated over its pixels, and one hot pixel ((x, y), its height in noise sigmas)."""
    x, y, sigma, peak = star
    across, down = np.array(integrated(x, sigma)), np.array(integrated(y, sigma))
    light = np.outer(down, across)
    light *= peak * NOISE / light.max()
    pixels = 500.0 + NOISE * BACKGROUND + light
    pixels[hot[1], hot[0]] += hot[2] * NOISE
    values = np.clip(np.rint(pixels), 0, 65535).astype(int).ravel().tolist()
    return measure_frame(fits_bytes(SIZE, SIZE, values))


@given(st.floats(30.0, 66.0), st.floats(30.0, 66.0),
       st.floats(1.0 / 2.3548, 3.0), st.floats(60.0, 3000.0),
       st.integers(0, 1), st.integers(10, 85), st.floats(8.0, 4000.0))
def test_one_star_counts_and_one_hot_pixel_does_not(
        x: float, y: float, sigma: float, peak: float, side: int, along: int,
        height: float) -> None:
    """Any star at least a pixel wide (FWHM) whose brightest pixel is 60 noise sigmas or
    more, anywhere within a pixel, counts; a hot pixel of any height, away from it, never
    does, and the star's HFR is its own. (A star narrower than a pixel whose neighbours stay
    within the noise is a hot pixel to one frame: `measure.lone_pixels`.)"""
    hot = (along, 10) if side else (10, along)  # in a strip 10 px from the edge
    measured = one_star_one_hot_pixel((x, y, sigma, peak), (*hot, height))
    assert measured.stars == 1, measured
    alone = one_star_one_hot_pixel((x, y, sigma, peak), (*hot, 0.0))
    # Its HFR its own (the hot pixel moves sep's background estimate by a hair).
    assert measured.hfr_px == pytest.approx(alone.hfr_px, rel=0.01)
