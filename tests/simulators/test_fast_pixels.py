"""Issue 90 item 6: the simulated cameras' numpy path (`indipysimulators.fastpixels`) gives
the pure path's frames byte for byte, so neither can drift from the other: two cameras of
one seed, one rendering with numpy and one without, frame after frame (the noise generator
and the seeing's carried from frame to frame) over binning 1, 2 and 4, windows, every frame
type, stars bright enough to clip, a 12-bit camera and the guide camera; the stars'
addition alone against the pure path's over frames near 0 and full scale, where its clipping
after each star decides the pixels; and numpy's Mersenne Twister's words against
`random.Random.randbytes`."""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC
from datetime import datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor
from indipysimulators import ccd
from indipysimulators import fastpixels
from indipysimulators import guidecamera
from indipysimulators import photometry
from indipysimulators.ccd import SimulatedCamera

WHEN = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
KINDS = ("Light", "Dark", "Flat", "Bias")


@contextmanager
def numpy_path(enabled: bool) -> Iterator[None]:
    """The cameras render with numpy's arithmetic, or without (the base install's)."""
    was = fastpixels.ENABLED
    fastpixels.ENABLED = enabled
    try:
        yield
    finally:
        fastpixels.ENABLED = was


def camera_pair(sensor: Sensor = ccd.SENSOR, *, vignetting: float = 0.28, seed: int = 42,
                real_sky: bool = True, fwhm: float | None = 4.0
                ) -> tuple[SimulatedCamera, SimulatedCamera]:
    """Two cameras alike (one seed), on M45's real sky or on the fixed random field."""
    pair = []
    for _ in range(2):
        camera = SimulatedCamera(sensor, seed=seed, vignetting=vignetting)
        camera.clock = lambda: WHEN
        camera.fwhm = lambda: fwhm
        if real_sky:
            camera.pointing = lambda: (3.80, 24.30)
        camera.panel = lambda: (True, 40.0)
        pair.append(camera)
    return pair[0], pair[1]


def assert_same_frames(pair: tuple[SimulatedCamera, SimulatedCamera],
                       exposures: list[Exposure]) -> None:
    fast, pure = pair
    for number, exposure in enumerate(exposures):
        with numpy_path(True):
            one = fast.render(exposure)
        with numpy_path(False):
            two = pure.render(exposure)
        assert isinstance(one.pixels, array) and isinstance(two.pixels, array)
        assert (one.width, one.height) == (two.width, two.height)
        assert one.pixels.tobytes() == two.pixels.tobytes(), (number, exposure)


def test_numpy_is_there_for_the_suite() -> None:
    """The test environment has numpy: the other tests compare two paths, not one with
    itself."""
    assert fastpixels.ENABLED


@pytest.mark.parametrize("binning", [1, 2, 4])
def test_the_real_sky_is_the_same_at_every_binning_frame_after_frame(binning: int) -> None:
    """M45's field (stars of the 430 mm field up to saturation: the Pleiades clip in 30 s),
    five frames in a row of each type, the whole chip and a window."""
    exposures = [Exposure(seconds, x, y, w, h, binning, binning, kind)
                 for kind in KINDS for seconds, (x, y, w, h) in
                 ((30.0, (0, 0, 1280, 1024)), (2.0, (200, 120, 640, 480)),
                  (0.5, (0, 0, 1280, 1024)))]
    assert_same_frames(camera_pair(), exposures)


def test_the_fixed_field_out_of_focus_and_in_twilight_is_the_same() -> None:
    """The fixed random field (its stars up to 200000 ADU/s), sharp (no focuser: 1.6 px)
    and at the widest FWHM drawn, light frames and a twilight flat with stars."""
    for fwhm in (None, 200.0):
        pair = camera_pair(real_sky=False, fwhm=fwhm)
        for camera in pair:
            camera.panel = lambda: None
            camera.clock = lambda: datetime(2026, 1, 15, 16, 45, tzinfo=UTC)  # dusk at Paris
            camera.site = lambda: (48.85, 2.35)
        assert_same_frames(pair, [Exposure(s, 0, 0, 1280, 1024, 1, 1, kind)
                                  for kind in ("Light", "Flat") for s in (60.0, 1.0)])


def test_a_twelve_bit_camera_and_a_clouded_sky_are_the_same() -> None:
    """A 12-bit camera's pixels stop at 4095 alike; cloud dims the stars and brightens the
    sky alike."""
    pair = camera_pair(replace(ccd.SENSOR, bits=12))
    for camera in pair:
        camera.transparency = lambda: 0.4
    exposures = [Exposure(s, 0, 0, 1280, 1024, b, b, kind)
                 for kind in ("Light", "Flat", "Dark") for s, b in ((10.0, 1), (60.0, 2))]
    assert_same_frames(pair, exposures)


def test_the_guide_camera_loop_is_the_same() -> None:
    """The guide camera's frames as a guider takes them: 2 s, whole chip and a window about
    its star, at binning 1 and 2, a dozen in a row."""
    pair = camera_pair(guidecamera.SENSOR, vignetting=guidecamera.VIGNETTING)
    exposures = [Exposure(2.0, 0, 0, 640, 512)] * 4 + [Exposure(2.0, 300, 200, 64, 64)] * 4 + \
        [Exposure(1.0, 0, 0, 640, 512, 2, 2)] * 4
    assert_same_frames(pair, exposures)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**16), binning=st.sampled_from([1, 2, 3, 4]),
       box=st.tuples(st.integers(0, 1279), st.integers(0, 1023), st.integers(1, 1280),
                     st.integers(1, 1024)),
       seconds=st.sampled_from([0.001, 0.3, 5.0, 120.0]), kind=st.sampled_from(KINDS),
       celsius=st.floats(-20.0, 30.0), fwhm=st.sampled_from([None, 1.0, 4.0, 30.0]))
def test_any_frame_is_the_same(seed: int, binning: int, box: tuple[int, int, int, int],
                               seconds: float, kind: str, celsius: float,
                               fwhm: float | None) -> None:
    """Any window, binning, exposure, frame type, chip temperature and star size, two frames
    in a row."""
    x, y, w, h = box
    w, h = max(binning, min(w, 1280 - x)), max(binning, min(h, 1024 - y))
    x, y = min(x, 1280 - w), min(y, 1024 - h)
    pair = camera_pair(seed=seed, fwhm=fwhm)
    for camera in pair:
        camera.temperature = lambda: celsius
    assert_same_frames(pair, [Exposure(seconds, x, y, w, h, binning, binning, kind)] * 2)


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 5000), before=st.integers(0, 700),
       gauss=st.booleans())
def test_the_random_words_are_randbytes(seed: int, count: int, before: int,
                                        gauss: bool) -> None:
    """`random_words` gives `randbytes(2 * count)`'s numbers, odd counts too, from any
    point of the generator's 624-word cycle (a half-used normal pair kept), and leaves the
    generator where `randbytes` leaves it."""
    one, two = random.Random(seed), random.Random(seed)
    for rng in (one, two):
        rng.randbytes(4 * before)
        if gauss:
            rng.gauss(0.0, 1.0)  # its pair's second normal kept for the next call
    words = fastpixels.random_words(one, count)
    assert words.tobytes() == two.randbytes(2 * count)
    assert one.getstate() == two.getstate()
    assert one.gauss(0.0, 1.0) == two.gauss(0.0, 1.0)


SMALL = Sensor(width=48, height=40, pixel_size=5.2, bits=16, max_binning=4)


@settings(max_examples=60)
@given(seed=st.integers(0, 2**16), level=st.sampled_from([0, 3, 300, 65400, 65535]),
       stars=st.lists(st.tuples(st.floats(-10, 58), st.floats(-10, 50),
                                st.floats(0.5, 1e7)), max_size=12),
       sigma=st.floats(0.3, 6.0), binning=st.sampled_from([1, 2]))
def test_the_stars_added_clip_after_each_star_as_the_pure_path(
        seed: int, level: int, stars: list[tuple[float, float, float]], sigma: float,
        binning: int) -> None:
    """Overlapping stars on a frame near 0 (a star's shot noise may take a pixel below 0)
    or near full scale (its core past it): each pixel clipped after each star as the pure
    path's rows clip it, the same random offsets drawn."""
    exposure = Exposure(1.0, 0, 0, SMALL.width, SMALL.height, binning, binning)
    width, height = exposure.image_width, exposure.image_height
    fast, pure = camera_pair(SMALL, seed=seed, real_sky=False)
    base = array("H", [level] * (width * height))
    pixels = array("H", base)
    rows = fastpixels.StarRows()
    for camera, target in ((fast, rows), (pure, pixels)):
        camera.sigma = sigma
        camera._draw_stars(target, exposure, width, height, stars)
    values = np.full(width * height, level, dtype=np.int32)  # as `expose_values` gives
    fastpixels.add_stars(values, rows, photometry.normals(), math.sqrt(photometry.GAIN))
    assert fastpixels.to_pixels(values).tobytes() == pixels.tobytes()
    assert fast.rng.random() == pure.rng.random()  # as many draws
