"""Issue 92 item 1: the camera simulator's calibration frames mean something. Measured with
numpy on the frames the camera renders (and, for the panel, on the FITS frames it sends
under our server beside indilib's real ``indi_simulator_lightpanel``): the bias level and
read noise stated (`photometry`), a dark growing with the exposure and doubling every 6 C of
the cooler's temperature, hot pixels and dust fixed on the sensor, the dust's shadows at the
same places in a light frame as in a flat, vignetting (corners at least 20 % darker) in
flats and in a light frame's sky, a panel flat proportional to its intensity, exposure and
filter (our filter wheel simulator's Red against its Luminance), the twilight ten times
darker every 2.5 degrees of the Sun's depression, and stars showing through a twilight flat
as the sky darkens (found by the agents' own star finder, `indipyagents.stars`)
(`sensorfaults`, `flatlight`)."""

from __future__ import annotations

import asyncio
import io
import math
import random
import sys
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from peers import HOST
from peers import free_port
from serverkit import running

import indipyclient
from indipyagents.schedule.sky import Place
from indipyagents.schedule.sky import sun_altitude as scheduler_sun_altitude
from indipyagents.stars import measure
from indipyclient import events
from indipydriver.standard.camera import Exposure
from indipyserver import IPyServer
from indipysimulators import ccd
from indipysimulators import fastpixels
from indipysimulators import flatlight
from indipysimulators import focus
from indipysimulators import photometry
from indipysimulators import sensorfaults
from indipysimulators import telescope
from indipysimulators.ccd import SimulatedCamera
from indipysimulators.ccd import SimulatedCooler

SENSOR = ccd.SENSOR
W, H = SENSOR.width, SENSOR.height
PANEL = "Light Panel Simulator"


def frame(camera: SimulatedCamera, kind: str, seconds: float, *, box: tuple[int, int, int, int]
          = (0, 0, W, H), binning: int = 1) -> np.ndarray:
    """A frame the camera renders, as a float array (rows, columns)."""
    x, y, w, h = box
    image = camera.render(Exposure(seconds, x, y, w, h, binning, binning, frame_type=kind))
    return np.array(image.pixels, dtype=np.float64).reshape(image.height, image.width)


def robust_sigma(values: np.ndarray) -> float:
    """The spread of the bulk of the pixels, hot ones left out: the standard deviation of
    those within 5 sigmas (first guessed from the MAD) of the median."""
    centre = np.median(values)
    guess = max(1.0, 1.4826 * float(np.median(np.abs(values - centre))))
    return float(values[np.abs(values - centre) < 5 * guess].std())


def clipped_mean(values: np.ndarray) -> float:
    """The mean of the pixels within 5 robust sigmas of the median (no hot pixels)."""
    centre, sigma = np.median(values), robust_sigma(values)
    return float(values[np.abs(values - centre) < 5 * sigma].mean())


def test_a_bias_has_the_stated_level_and_read_noise() -> None:
    """The bias: 500 ADU and 3.5 ADU rms read noise (3.5 e- at 1 e-/ADU), no light."""
    pixels = frame(SimulatedCamera(), "Bias", 0.01, box=(384, 256, 512, 512))
    assert clipped_mean(pixels) == pytest.approx(photometry.BIAS, abs=0.1)
    assert robust_sigma(pixels) == pytest.approx(photometry.READ_NOISE / photometry.GAIN,
                                                 rel=0.05)


def test_a_dark_grows_with_the_exposure_and_doubles_every_six_degrees() -> None:
    """The dark current: linear in the exposure, 0.1 e-/s at 0 C doubling every 6 C of the
    cooler's temperature (the camera reads its cooler, as the driver wires them)."""
    cooler = SimulatedCooler(rate=1e6)  # reaches its set point at once
    camera = SimulatedCamera()
    camera.temperature = cooler.celsius
    asyncio.run(cooler.set_cooler(True))

    def dark(celsius: float, seconds: float) -> float:
        asyncio.run(cooler.set_target(celsius))
        pixels = frame(camera, "Dark", seconds, box=(384, 256, 256, 256))
        return clipped_mean(pixels) - photometry.BIAS

    at_14, twice_as_long, at_20 = dark(14.0, 30.0), dark(14.0, 60.0), dark(20.0, 30.0)
    assert at_14 == pytest.approx(0.1 * 2 ** (14 / 6) * 30, rel=0.03)
    assert twice_as_long == pytest.approx(2 * at_14, rel=0.03)
    assert at_20 == pytest.approx(2 * at_14, rel=0.03)
    assert dark(-10.0, 60.0) < 2.0


def hot_places(pixels: np.ndarray) -> set[tuple[int, int]]:
    """(x, y) of the pixels far above the rest."""
    rows, cols = np.nonzero(pixels > np.median(pixels) + 20 * robust_sigma(pixels))
    return {(int(c), int(r)) for r, c in zip(rows, cols, strict=True)}


def test_hot_pixels_are_fixed_on_the_sensor() -> None:
    """A dark's hot pixels are at the same places in two frames of one camera and in frames
    of two cameras of other seeds (their noise differs, byte for byte)."""
    one, other = SimulatedCamera(seed=1), SimulatedCamera(seed=2)
    first, second, third = (frame(one, "Dark", 60.0), frame(one, "Dark", 60.0),
                            frame(other, "Dark", 60.0))
    places = hot_places(first)
    stated = {(x, y) for x, y, _ in sensorfaults.defects(W, H, SENSOR.pixel_size).hot}
    assert 100 <= len(places) <= 160 and places == stated
    assert hot_places(second) == places == hot_places(third)
    assert not np.array_equal(first, second) and not np.array_equal(first, third)


def corners_and_centre(pixels: np.ndarray, size: int = 16) -> tuple[float, float]:
    """The darkest corner's median and the centre's, each a `size` square box."""
    h, w = pixels.shape
    corners = [pixels[:size, :size], pixels[:size, -size:], pixels[-size:, :size],
               pixels[-size:, -size:]]
    centre = pixels[h // 2 - size // 2:h // 2 + size // 2, w // 2 - size // 2:w // 2 + size // 2]
    return max(float(np.median(c)) for c in corners), float(np.median(centre))


def lit_panel_camera(seed: int = 42, intensity: float = 50.0) -> SimulatedCamera:
    camera = SimulatedCamera(seed=seed)
    camera.panel = lambda: (True, intensity)
    return camera


def test_a_flat_and_a_light_frames_sky_are_vignetted() -> None:
    """The corners at least 20 % darker than the centre (after the dark is taken off), in a
    panel flat and in a long light frame's sky background."""
    flat = frame(lit_panel_camera(), "Flat", 0.5, binning=2)
    corner, centre = corners_and_centre(flat - photometry.BIAS)
    assert corner <= 0.8 * centre and centre > 10000
    camera = SimulatedCamera()
    light = frame(camera, "Light", 300.0, binning=2)
    dark = frame(camera, "Dark", 300.0, binning=2)
    corner, centre = corners_and_centre(light - np.median(dark))
    assert corner <= 0.8 * centre and centre > 1000


def test_dust_shadows_are_fixed_on_the_sensor() -> None:
    """Each mote's ring is darker than the light around it by about its depth, at the same
    places in flats from cameras of two seeds; 3-5 motes."""
    motes = sensorfaults.defects(W, H, SENSOR.pixel_size).dust
    assert 3 <= len(motes) <= 5
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    shade = np.vectorize(sensorfaults.vignetting)(xs, ys, W, H)  # the stated vignetting
    for seed in (1, 2):
        flat = (frame(lit_panel_camera(seed), "Flat", 2.0) - photometry.BIAS) / shade
        for mote in motes:
            r = np.hypot(xs - mote.x, ys - mote.y)
            ring = np.median(flat[(r > 0.6 * mote.radius) & (r < 0.9 * mote.radius)])
            around = np.median(flat[(r > 1.3 * mote.radius) & (r < 2.0 * mote.radius)])
            assert ring / around == pytest.approx(1 - mote.depth, abs=0.01), (seed, mote)


def test_dust_shadows_in_a_light_frame_are_the_flats() -> None:
    """A light frame's sky (600 s binned 2, through Red: the chip's motes and the filter's
    own) is shaded by each mote about its depth, as a Red panel flat is; divided by that
    flat, the shadows are gone (ring and surroundings within 1 %): the same places and
    depths, so the flat calibrates them away."""
    camera = SimulatedCamera(seed=3)
    camera.filter_name = lambda: "Red"
    light, dark = frame(camera, "Light", 600.0, binning=2), frame(camera, "Dark", 600.0, binning=2)
    panel = lit_panel_camera(5)
    panel.filter_name = lambda: "Red"
    flat = frame(panel, "Flat", 0.5, binning=2) - photometry.BIAS
    sky = light - np.median(dark)
    motes = sensorfaults.through_filter(camera.defects(), "Red").dust
    assert len(motes) > len(camera.defects().dust)  # the filter's own motes too
    ys, xs = (np.mgrid[0:H // 2, 0:W // 2] + 0.5) * 2  # each binned pixel's centre, unbinned
    shade = np.vectorize(sensorfaults.vignetting)(xs, ys, W, H)
    for mote in motes:
        r = np.hypot(xs - mote.x, ys - mote.y)
        ring = (r > 0.6 * mote.radius) & (r < 0.9 * mote.radius)
        around = (r > 1.3 * mote.radius) & (r < 2.0 * mote.radius)
        for pixels, seen in ((sky / shade, 1 - mote.depth), (flat / shade, 1 - mote.depth),
                             (sky / flat, 1.0)):  # the light's shadow, the flat's, none
            shadow = np.median(pixels[ring]) / np.median(pixels[around])
            assert shadow == pytest.approx(seen, abs=0.01), (mote, seen)


def test_the_same_seed_gives_the_same_frame_bytes() -> None:
    """Two cameras of one seed render the same bytes, frame after frame, of every type."""
    for kind in ("Bias", "Dark", "Flat", "Light"):
        one, two = lit_panel_camera(7), lit_panel_camera(7)
        for _ in range(2):
            exposure = Exposure(1.0, 0, 0, 320, 256, frame_type=kind)
            assert bytes(one.render(exposure).pixels) == bytes(two.render(exposure).pixels)


def reference_pixels(sensor: sensorfaults.Defects, exposure: Exposure, celsius: float,
                     light: float, rng: random.Random) -> list[int]:
    """`expose_pixels`' model spelt out a pixel at a time: the normal quantile of each 16-bit
    draw, the optical path's shade, the hot pixels' extra with its noise, clipped."""
    binned = exposure.bin_x * exposure.bin_y
    dark = sensorfaults.dark_current(celsius) * exposure.seconds * binned
    mean = photometry.BIAS + (light + dark) / photometry.GAIN
    sigma = math.sqrt(light + dark + photometry.READ_NOISE ** 2 * binned) / photometry.GAIN
    count = exposure.image_width * exposure.image_height
    draws = rng.randbytes(2 * count)
    quantiles = photometry.quantiles()
    values = [round(mean + sigma * quantiles[int.from_bytes(draws[2 * i:2 * i + 2],
                                                            sys.byteorder)])
              for i in range(count)]
    if light / photometry.GAIN >= 1.5:
        centre = round(light / photometry.GAIN, 2)
        deficit = sensorfaults.deficit(sensor, sensorfaults.placed(exposure))
        values = [v + round(centre * d) for v, d in zip(values, deficit)]
    for x, y, factor in sensor.hot:
        col, row = (x - exposure.x) // exposure.bin_x, (y - exposure.y) // exposure.bin_y
        if 0 <= col < exposure.image_width and 0 <= row < exposure.image_height:
            extra = dark / binned / photometry.GAIN * (factor - 1)
            values[row * exposure.image_width + col] += round(
                extra + rng.gauss(0.0, math.sqrt(extra)))
    return [min(photometry.FULL_SCALE, max(0, v)) for v in values]


@pytest.mark.parametrize("numpy_path", [True, False])
@pytest.mark.parametrize(("light", "celsius", "box", "binning"), [
    (0.0, 20.0, (0, 0, W, H), 4),         # a bias's level: no shade
    (40.0, 20.0, (0, 0, W, H), 4),        # a sky: shaded, every hot pixel in the frame
    (30000.0, -10.0, (96, 40, 400, 320), 1),  # a flat's level, a window at binning 1
    (65000.0, 20.0, (0, 0, W, H), 4),     # past full scale: clipped
])
def test_the_pixels_are_the_stated_model_pixel_for_pixel(
        light: float, celsius: float, box: tuple[int, int, int, int], binning: int,
        numpy_path: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`expose_pixels` (its noise looked up whole, its shade taken as one integer; or, with
    numpy, `fastpixels`' arithmetic) gives the pixels of its model written a pixel at a
    time, with the same draws, to the last one."""
    monkeypatch.setattr(fastpixels, "ENABLED", numpy_path)
    sensor = sensorfaults.defects(W, H, SENSOR.pixel_size)
    exposure = Exposure(30.0, *box, binning, binning, "Light")
    fast = sensorfaults.expose_pixels(sensor, exposure, celsius, light, random.Random(5))
    assert list(fast) == reference_pixels(sensor, exposure, celsius, light, random.Random(5))


def test_the_twilight_is_ten_times_darker_every_two_and_a_half_degrees() -> None:
    """The stated model between 0 and -12 degrees, and the Sun's altitude agrees with the
    scheduler's (its own formulas) within 0.05 degree."""
    for alt in np.arange(0.0, -9.6, -0.5):
        ratio = (flatlight.twilight_electrons(alt, 1.0, 2.49, None)
                 / flatlight.twilight_electrons(alt - 2.5, 1.0, 2.49, None))
        assert ratio == pytest.approx(10.0, rel=1e-9)
    night = flatlight.twilight_electrons(-25.0, 1.0, 2.49, None)
    assert night == pytest.approx(photometry.sky_electrons_per_second(2.49))
    when = datetime(2026, 3, 20, 12, tzinfo=UTC)
    for hours in range(0, 24, 3):
        moment = when + timedelta(hours=hours)
        assert flatlight.sun_altitude(moment, 51.5, 0.0) == pytest.approx(
            scheduler_sun_altitude(moment, Place(51.5, 0.0)), abs=0.05)


def moment_at(sun_alt: float) -> datetime:
    """An evening moment at Greenwich (the camera's default site) with the Sun at `sun_alt`."""
    start = datetime(2026, 3, 20, 17, tzinfo=UTC)
    lo, hi = start, start + timedelta(hours=3)  # the Sun setting through the twilight
    for _ in range(40):
        mid = lo + (hi - lo) / 2
        above = flatlight.sun_altitude(mid, telescope.LATITUDE, telescope.LONGITUDE) > sun_alt
        lo, hi = (mid, hi) if above else (lo, mid)
    return lo


def test_a_twilight_flat_follows_the_sun_on_the_sky_clock() -> None:
    """With no panel, a flat at sunset + Sun at -6 is ten times brighter than at -8.5 (the
    frame's centre, bias and dark taken off), through the filter's throughput."""
    camera = SimulatedCamera()

    def level(sun_alt: float, filter_name: str | None = None) -> float:
        when = moment_at(sun_alt)
        camera.clock = lambda: when
        camera.filter_name = lambda: filter_name
        pixels = frame(camera, "Flat", 0.5, box=(576, 448, 128, 128))
        return float(np.median(pixels)) - photometry.BIAS

    bright, dim = level(-6.0), level(-8.5)
    assert bright / dim == pytest.approx(10.0, rel=0.03)
    assert level(-6.0, "Red") / bright == pytest.approx(flatlight.throughput("Red"), rel=0.03)


def test_stars_show_through_a_twilight_flat_as_the_sky_darkens() -> None:
    """With no panel, twilight flats at a flat's level (`photometry.FLAT_LEVEL`, binned 4)
    as the Sun sinks from -3 to -11 degrees: the sky a thousand times darker, each flat's
    exposure a thousand times longer, and the stars with it. The agents' star finder
    (`measure.detect`, 5 background sigmas) finds none at -3, more at each step down,
    and at -11 most of the field's 150."""
    camera = SimulatedCamera()
    found = {}
    for sun_alt in (-3.0, -5.0, -7.0, -9.0, -11.0):
        when = moment_at(sun_alt)
        camera.clock = lambda when=when: when  # type: ignore[misc]
        rate = flatlight.twilight_electrons(sun_alt, 1.0, camera.optics().arcsec_per_pixel,
                                            None) * 16
        pixels = frame(camera, "Flat", photometry.FLAT_LEVEL / rate, binning=4)
        assert np.median(pixels) - photometry.BIAS == pytest.approx(photometry.FLAT_LEVEL,
                                                                    rel=0.03)
        _, objects, _ = measure.detect(pixels.astype(np.float32), measure.FOCUS_THRESHOLD)
        found[sun_alt] = len(objects)
    counts = list(found.values())
    assert found[-3.0] == 0 and found[-11.0] >= 100, found
    assert counts == sorted(counts) and len(set(counts)) == len(counts), found


async def flat_level(client: indipyclient.Client, seconds: float) -> float:
    """Expose a flat and return its centre's median, bias taken off (numpy on the FITS)."""
    camera = ccd.DEVICE
    stream = client.events()
    await client.set(camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds}, wait=False)
    async with asyncio.timeout(60):
        async for event in stream:
            if isinstance(event, events.setBLOBVector) and event.devicename == camera \
                    and "CCD1" in event.data:
                data = fits.getdata(io.BytesIO(event["CCD1"])).astype(np.float64)
                h, w = data.shape
                return float(np.median(data[h // 2 - 16:h // 2 + 16,
                                            w // 2 - 16:w // 2 + 16])) - photometry.BIAS
    raise AssertionError("no image")


async def test_a_panel_flat_is_proportional_to_intensity_exposure_and_filter(
        tmp_home: Path) -> None:
    """Our server runs our camera's and focuser/wheel's executables and indilib's
    indi_simulator_lightpanel; ACTIVE_LIGHTBOX names the panel. Through Luminance (all the
    light): a flat's level doubles with the exposure and with the panel's intensity, and is
    the stated rate; through Red, at the same intensity and exposure, the filter's stated
    share of Luminance's (`flatlight.THROUGHPUT`, the filter's name snooped from the wheel);
    the panel off, no light at all."""
    server = IPyServer(host=HOST, port=free_port(), handle_signals=False)
    server.add_exdriver(str(Path(sys.executable).with_name(ccd.EXEC)), max_restarts=0)
    server.add_exdriver(str(Path(sys.executable).with_name(focus.EXEC)), max_restarts=0)
    server.add_exdriver("indi_simulator_lightpanel", max_restarts=0)
    slot = {name: number for number, name in enumerate(focus.FILTERS, 1)}
    async with running(server), indipyclient.connect(HOST, server.port) as client:
        for device in (ccd.DEVICE, focus.WHEEL, PANEL):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.send_enableBLOB("Also", ccd.DEVICE)
        await client.set(ccd.DEVICE, "ACTIVE_DEVICES", {"ACTIVE_LIGHTBOX": PANEL}, timeout=10)
        await client.set(ccd.DEVICE, "CCD_FRAME_TYPE", {"FRAME_FLAT": "On"}, timeout=10)
        await client.set(ccd.DEVICE, "CCD_BINNING", {"HOR_BIN": 4, "VER_BIN": 4}, timeout=10)
        await client.set(PANEL, "FLAT_LIGHT_CONTROL", {"FLAT_LIGHT_ON": "On"}, timeout=10)
        levels = {}
        for name, intensity, seconds in (("Luminance", 10, 0.5), ("Luminance", 10, 1.0),
                                         ("Luminance", 20, 0.5), ("Red", 20, 0.5)):
            await client.set(focus.WHEEL, "FILTER_SLOT", {"FILTER_SLOT_VALUE": slot[name]},
                             timeout=20)
            await client.set(PANEL, "FLAT_LIGHT_INTENSITY",
                             {"FLAT_LIGHT_INTENSITY_VALUE": intensity}, timeout=10)
            levels[name, intensity, seconds] = await flat_level(client, seconds)
        await client.set(PANEL, "FLAT_LIGHT_CONTROL", {"FLAT_LIGHT_OFF": "On"}, timeout=10)
        off = await flat_level(client, 1.0)
    stated = flatlight.PANEL_RATE * 10 * 0.5 * 16
    luminance = levels["Luminance", 10, 0.5]
    assert luminance == pytest.approx(stated, rel=0.03)
    assert levels["Luminance", 10, 1.0] == pytest.approx(2 * luminance, rel=0.03)
    assert levels["Luminance", 20, 0.5] == pytest.approx(2 * luminance, rel=0.03)
    share = flatlight.throughput("Red") / flatlight.throughput("Luminance")
    assert share == 0.3
    assert levels["Red", 20, 0.5] / levels["Luminance", 20, 0.5] == pytest.approx(share,
                                                                                  rel=0.03)
    assert off < 100  # bias, dark current and its noise only: no panel, no sky
