"""What the simulated sensor adds to every frame, and what it takes away: pure, seeded,
standard library only (with numpy, `fastpixels` does the same arithmetic faster).

The figures (`photometry` states the bias, the read noise and the gain):

- the bias: `photometry.BIAS`, 500 ADU, on every pixel of every frame, with the read noise,
  `photometry.READ_NOISE`, 3.5 e- rms (3.5 ADU at `photometry.GAIN`, 1 e-/ADU);
- the dark current: `photometry.DARK_AT_0C`, 0.1 e-/s a pixel at 0 C, doubling every
  `photometry.DARK_DOUBLING`, 6 C, of the chip's temperature (`dark_current`: 1.0 e-/s at
  20 C, 0.1 at 0 C, 0.01 at -20 C, as a cooled CMOS camera's data sheet draws it), with its
  shot noise;
- hot pixels: `HOT_FRACTION` of the pixels (1 in 10,000: 131 on the 1280 x 1024 chip) whose
  dark current is 5 to 20 times the rest's (log-uniform), following the same temperature:
  warm rather than hot, so a long dark shows each (300-1200 ADU in 60 s at 20 C) while a
  few seconds' light frame hides them from a star finder (the suite's agents take no darks
  to subtract; pixels 30-1000 times hotter were found as stars by sep in 5 s light frames);
- the optical path (`response_at`, `deficit`): vignetting, V = 1 - K (r/R)^4 with
  `VIGNETTING` K = 0.28, r the distance from the chip's centre and R its half-diagonal: flat
  in the middle, falling off towards the edges (the middle of a 5:4 chip's long side 10 %
  darker, of its short side 4 %) and the corners 28 % darker than the centre (a camera may
  have another K: the guide camera's small off-axis field sees 5 %); and `DUST`
  shadows: 3 to 5 donuts fixed on the
  chip (outer radius 12-30 px, a ring 4-10 % dark from half that radius out, the middle a
  third as dark, as an out-of-focus mote's shadow through a centrally obstructed pupil);
  and on each filter its own motes (`through_filter`, `FILTER_DUST`: 1 or 2, drawn from the
  filter's name, larger and as deep, the filter being further from the chip), which light
  frames and flats through that filter show and a flat through another filter does not: why
  flats are taken per filter.

What is fixed on the sensor (hot pixels, dust) is drawn from a generator seeded by the
sensor's own key (its size and pixel size), never the camera's seed: two cameras of the same
sensor have them at the same places, whatever their noise. The noise is the camera's seeded
generator's, so the same seed gives the same frames.

`expose_pixels` makes a frame from the light falling on it: the bias, the dark current, the
light times the response at each pixel, the noise (shot and read, drawn at the centre's
level: the darker corners' noise is the centre's, a few per cent high) and the hot pixels.
"""

from __future__ import annotations

import math
import operator
import random
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from functools import lru_cache

from indipydriver.standard.cameratypes import Exposure

from . import fastpixels
from . import photometry
from .photometry import dark_current

__all__ = ["Defects", "Dust", "dark_current", "defects", "deficit", "expose_pixels",
           "expose_values", "placed", "response_at", "through_filter", "vignetting"]

#: The share of the pixels that are hot.
HOT_FRACTION = 1e-4
#: How many times the normal dark current a hot pixel has: log-uniform in this range.
HOT_FACTORS = (5.0, 20.0)
#: The vignetting's K (see the module docstring): the corners at 1 - K of the centre.
VIGNETTING = 0.28
#: Dust motes: how many (3-5), their outer radius (px) and their ring's depth.
DUST_COUNT = (3, 5)
DUST_RADIUS = (12.0, 30.0)
DUST_DEPTH = (0.04, 0.10)
#: A filter's own motes: how many (1-2) and their outer radius (px), as deep as the chip's;
#: drawn at least `FILTER_DUST_CLEAR` of the half-diagonal from the middle (where a flat's
#: level is read, the same through every filter).
FILTER_DUST = (1, 2)
FILTER_DUST_RADIUS = (30.0, 50.0)
FILTER_DUST_CLEAR = 0.3


@dataclass(frozen=True, slots=True)
class Dust:
    """A dust shadow: its centre (unbinned pixels), outer radius and depth."""

    x: float
    y: float
    radius: float
    depth: float

    def transmission(self, x: float, y: float) -> float:
        """The share of the light reaching (`x`, `y`) past this mote."""
        r = math.hypot(x - self.x, y - self.y)
        if r >= self.radius:
            return 1.0
        return 1.0 - (self.depth if r >= self.radius / 2 else self.depth / 3)


@dataclass(frozen=True, slots=True)
class Defects:
    """What is fixed on one sensor: its hot pixels ((x, y, factor), unbinned) and its dust,
    and the vignetting's K of the optical path in front of it."""

    width: int
    height: int
    hot: tuple[tuple[int, int, float], ...]
    dust: tuple[Dust, ...]
    vignetting: float = VIGNETTING


@lru_cache(maxsize=8)
def defects(width: int, height: int, pixel_size: float, vignetting: float = VIGNETTING
            ) -> Defects:
    """The hot pixels and the dust of the sensor of that size (always the same), behind an
    optical path vignetting by `vignetting` (K)."""
    rng = random.Random(f"sensor:{width}x{height}:{pixel_size}")
    low, high = map(math.log, HOT_FACTORS)
    hot = tuple((rng.randrange(width), rng.randrange(height), math.exp(rng.uniform(low, high)))
                for _ in range(max(1, round(width * height * HOT_FRACTION))))
    dust = []
    for _ in range(rng.randint(*DUST_COUNT)):
        radius = rng.uniform(*DUST_RADIUS)
        dust.append(Dust(rng.uniform(radius, width - radius), rng.uniform(radius, height - radius),
                         radius, rng.uniform(*DUST_DEPTH)))
    return Defects(width, height, hot, tuple(dust), vignetting)


@lru_cache(maxsize=16)
def through_filter(sensor: Defects, name: str | None) -> Defects:
    """`sensor` seen through the filter `name`: its dust and the filter's own motes (always
    the same for one name and sensor size); no filter, no more dust."""
    label = (name or "").strip().lower()
    if not label:
        return sensor
    w, h = sensor.width, sensor.height
    rng = random.Random(f"filter:{label}:{w}x{h}")
    clear = FILTER_DUST_CLEAR * math.hypot(w / 2, h / 2)
    motes: list[Dust] = []
    count = rng.randint(*FILTER_DUST)
    while len(motes) < count:
        radius = rng.uniform(*FILTER_DUST_RADIUS)
        x, y = rng.uniform(radius, w - radius), rng.uniform(radius, h - radius)
        if math.hypot(x - w / 2, y - h / 2) >= clear + radius:
            motes.append(Dust(x, y, radius, rng.uniform(*DUST_DEPTH)))
    return replace(sensor, dust=sensor.dust + tuple(motes))


def vignetting(x: float, y: float, width: int, height: int, k: float = VIGNETTING) -> float:
    """The vignetting's share of the light at unbinned (`x`, `y`) (edges, from the corner)."""
    r2 = ((x - width / 2) ** 2 + (y - height / 2) ** 2) / ((width / 2) ** 2 + (height / 2) ** 2)
    return 1 - k * r2 * r2


def response_at(sensor: Defects, x: float, y: float) -> float:
    """The optical path's share of the light at unbinned (`x`, `y`): vignetting and dust."""
    share = vignetting(x, y, sensor.width, sensor.height, sensor.vignetting)
    for mote in sensor.dust:
        share *= mote.transmission(x, y)
    return share


def placed(exposure: Exposure) -> Exposure:
    """Only where `exposure`'s frame lies on the sensor (its corner, size and binning), the
    key of the shade's caches: its seconds and frame type left out, so every frame of one
    window shares them (a guider's loop, a flat series of changing exposures)."""
    return replace(exposure, seconds=0.0, frame_type="Light")


@lru_cache(maxsize=8)
def deficit(sensor: Defects, frame: Exposure) -> array[float]:
    """Each binned pixel's response minus 1 (0 at the centre, -0.28 in the corners): row
    by row, -K (x^2 + y^2)^2 / R^4 as -K x^4 / R^4 + (-2K y^2 / R^4) x^2 - K y^4 / R^4 over
    the columns' x^2 and x^4 (C loops), then the dust's discs."""
    w, h, k = sensor.width, sensor.height, sensor.vignetting
    bx, by = frame.bin_x, frame.bin_y
    r2 = (w / 2) ** 2 + (h / 2) ** 2
    x2 = [((frame.x + (c + 0.5) * bx - w / 2) ** 2) / r2 for c in range(frame.image_width)]
    minus_x4 = [-k * v * v for v in x2]
    values = array("d")
    for row in range(frame.image_height):
        y2 = (frame.y + (row + 0.5) * by - h / 2) ** 2 / r2
        cross = map(operator.add, map((-2 * k * y2).__mul__, x2), minus_x4)
        values.extend(map((1.0 - k * y2 * y2).__add__, cross))
    for mote in sensor.dust:
        c0 = max(0, math.floor((mote.x - mote.radius - frame.x) / bx))
        c1 = min(frame.image_width, math.ceil((mote.x + mote.radius - frame.x) / bx) + 1)
        for row in range(max(0, math.floor((mote.y - mote.radius - frame.y) / by)),
                         min(frame.image_height, math.ceil((mote.y + mote.radius - frame.y) / by) + 1)):
            y = frame.y + (row + 0.5) * by
            for col in range(c0, c1):
                values[row * frame.image_width + col] *= mote.transmission(
                    frame.x + (col + 0.5) * bx, y)
    return array("d", map((-1.0).__add__, values))


@lru_cache(maxsize=2)
def _shade(sensor: Defects, frame: Exposure, light: float) -> tuple[int, ...]:
    """What the optical path takes from each pixel of `light` ADU at the centre (ADU, 0 or
    less): kept for the next frame of the same light (a guider's loop, a flat series)."""
    return tuple(map(round, map(light.__mul__, deficit(sensor, frame))))


@lru_cache(maxsize=8)
def _shade_lanes(sensor: Defects, frame: Exposure, light: float) -> tuple[int, int] | None:
    """`_shade` negated (rounding is symmetric) as one integer of 16-bit lanes (the pixels'
    native byte order, as an ``array('H')`` holds them) and its largest lane; None when a
    lane does not fit. Kept for the frames of each filter and exposure a night repeats."""
    taken = array("H")
    try:
        taken.extend(map(round, map((-light).__mul__, deficit(sensor, frame))))
    except OverflowError:
        return None
    return int.from_bytes(taken.tobytes(), sys.byteorder), max(taken, default=0)


@lru_cache(maxsize=8)
def _shade_values(sensor: Defects, frame: Exposure, light: float) -> fastpixels.Frame:
    """`_shade` as numpy's (`fastpixels.shade`), kept as `_shade_lanes` is."""
    return fastpixels.shade(deficit(sensor, frame), light)


@lru_cache(maxsize=4)
def _deepest(sensor: Defects, frame: Exposure) -> float:
    """The frame's lowest `deficit` (its darkest corner's or mote's)."""
    return min(deficit(sensor, frame))


@lru_cache(maxsize=8)
def _noise_table(mean: float, sigma: float) -> list[int]:
    """The pixel value each 16-bit uniform number stands for: `mean` plus `sigma` times the
    normal's quantile (kept: a guider's loop asks for the same level frame after frame)."""
    return [round(mean + sigma * z) for z in photometry.quantiles()]


def _levels(exposure: Exposure, celsius: float, light: float
            ) -> tuple[Exposure, float, list[int]]:
    """The frame's place, its dark current (ADU a binned pixel) and its noise table."""
    frame, seconds = placed(exposure), exposure.seconds
    binned = frame.bin_x * frame.bin_y
    dark = dark_current(celsius) * seconds * binned
    gain = photometry.GAIN
    mean = photometry.BIAS + (light + dark) / gain
    sigma = math.sqrt(light + dark + photometry.READ_NOISE ** 2 * binned) / gain
    return frame, dark, _noise_table(mean, sigma)


def expose_values(sensor: Defects, exposure: Exposure, celsius: float, light: float,
                  rng: random.Random) -> fastpixels.Frame:
    """`expose_pixels`' pixels as numpy's int64 (`fastpixels`: numpy importable), the same
    random numbers drawn in the same order: for the stars to be added before they are
    packed."""
    frame, dark, table = _levels(exposure, celsius, light)
    count = frame.image_width * frame.image_height
    gain = photometry.GAIN
    uniform = fastpixels.random_words(rng, count)  # rng.randbytes(2 * count)'s
    shaded = light / gain >= 1.5
    values = fastpixels.noisy_frame(
        table, uniform, _shade_values(sensor, frame, round(light / gain, 2)) if shaded else None)
    for at, value in _hot_pixels(values, sensor, frame,
                                 dark / (frame.bin_x * frame.bin_y) / gain, rng).items():
        values[at] = value
    return fastpixels.clipped(values)


def expose_pixels(sensor: Defects, exposure: Exposure, celsius: float, light: float,
                  rng: random.Random) -> array[int]:
    """`exposure`'s 16-bit pixels: `light` electrons a (binned) pixel at the centre of the
    optical path, its seconds of dark current at `celsius`, the bias, the noise from `rng`.
    With numpy (`fastpixels`) the same pixels from `expose_values`."""
    if fastpixels.ENABLED:
        return fastpixels.to_pixels(expose_values(sensor, exposure, celsius, light, rng))
    frame, dark, table = _levels(exposure, celsius, light)
    binned = frame.bin_x * frame.bin_y
    gain = photometry.GAIN
    count = frame.image_width * frame.image_height
    uniform = array("H")
    uniform.frombytes(rng.randbytes(2 * count))
    shaded = light / gain >= 1.5  # the optical path's 28 % shows as at least half an ADU
    lanes = _shade_lanes(sensor, frame, round(light / gain, 2)) if shaded else (0, 0)
    if lanes is not None and table[0] - lanes[1] >= 0 and table[-1] <= photometry.FULL_SCALE:
        # No pixel can leave 0..65535 but a hot one: the noise looked up straight into 16
        # bits, the shade taken from all of it at once as one integer of 16-bit lanes (no
        # lane borrows: each is at least the shade it gives), the same values as below.
        pixels = array("H", list(map(table.__getitem__, uniform)))
        if lanes[1]:
            order = sys.byteorder
            pixels = array("H", (int.from_bytes(pixels.tobytes(), order) - lanes[0])
                           .to_bytes(2 * count, order))
        for at, value in _hot_pixels(pixels, sensor, frame, dark / binned / gain, rng).items():
            pixels[at] = min(photometry.FULL_SCALE, max(0, value))
        return pixels
    noisy = map(table.__getitem__, uniform)
    lowest = table[0]
    if shaded:
        lowest += round(light / gain * _deepest(sensor, frame)) - 1
        values = list(map(operator.add, noisy, _shade(sensor, frame, round(light / gain, 2))))
    else:
        values = list(noisy)
    hot = _hot_pixels(values, sensor, frame, dark / binned / gain, rng)
    for at, value in hot.items():
        values[at] = value
    highest = max(hot.values(), default=0)
    if max(highest, table[-1]) > photometry.FULL_SCALE or lowest < 0:  # clip only if it may
        values = [min(photometry.FULL_SCALE, max(0, v)) for v in values]
    return array("H", values)


def _hot_pixels(values: Sequence[int], sensor: Defects, frame: Exposure, dark: float,
                rng: random.Random) -> dict[int, int]:
    """Each hot pixel in the frame adds its extra dark current (ADU), with its shot noise:
    the new values by their index in `values` (which is left as it is)."""
    changed: dict[int, int] = {}
    for x, y, factor in sensor.hot:
        col, row = (x - frame.x) // frame.bin_x, (y - frame.y) // frame.bin_y
        if 0 <= x - frame.x < frame.image_width * frame.bin_x and \
                0 <= y - frame.y < frame.image_height * frame.bin_y:
            extra = dark * (factor - 1)
            at = row * frame.image_width + col
            changed[at] = changed.get(at, values[at]) + round(extra + rng.gauss(0.0,
                                                                                math.sqrt(extra)))
    return changed
