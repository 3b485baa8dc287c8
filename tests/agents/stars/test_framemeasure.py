"""Issue 93 item 1: a light frame measured (stars, HFR, FWHM, eccentricity, sky, noise)
against frames our camera simulator renders: a frame in focus, the same field defocused, the
same field trailed (its stars drawn along a line, as a mount that lost its guide star draws
them) and the same field under cloud (its stars dimmed). Each fault measures worse on the
figure that grading judges it by."""

from __future__ import annotations

import json

import pytest

from indipyagents.stars.framemeasure import FrameMeasure
from indipyagents.stars.framemeasure import arcsec_per_pixel
from indipyagents.stars.framemeasure import measure_frame
from indipycore.fits import fits_bytes
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor
from indipysimulators.ccd import SimulatedCamera

WIDTH, HEIGHT, PIXEL, FOCAL = 640, 512, 5.2, 1500.0


def rendered(fwhm: float = 3.0, trail: float = 0.0, light: float = 1.0,
             seconds: float = 2.0) -> bytes:
    """One light frame of the simulator's fixed field (no seeing wander), its stars `fwhm`
    arcseconds wide, drawn along `trail` pixels of RA, `light` of their flux reaching it."""
    camera = SimulatedCamera(Sensor(WIDTH, HEIGHT, PIXEL), stars=80)
    camera.seeing_jitter = 0.0
    camera.focal_length = lambda: FOCAL
    camera.fwhm = lambda: fwhm
    steps = max(1, int(trail))
    camera.stars = [(x + trail * k / steps, y, flux * light / steps)
                    for x, y, flux in camera.stars for k in range(steps)]
    image = camera.render(Exposure(seconds, 0, 0, WIDTH, HEIGHT))
    return fits_bytes(image.width, image.height, image.pixels,
                      cards=[("PIXSIZE1", PIXEL, ""), ("FOCALLEN", FOCAL, "")])


@pytest.fixture(scope="module")
def sharp() -> FrameMeasure:
    return measure_frame(rendered())


def test_a_sharp_frame_measures_its_stars_and_their_width(sharp: FrameMeasure) -> None:
    scale = 206.264806 * PIXEL / FOCAL
    assert arcsec_per_pixel(rendered()) == pytest.approx(scale)
    assert sharp.stars >= 20
    # The simulator draws Gaussians 3" wide: their FWHM measured within a fifth, the HFR a
    # Gaussian's half FWHM.
    assert sharp.fwhm_arcsec == pytest.approx(3.0, rel=0.2)
    assert sharp.fwhm_px == pytest.approx(3.0 / scale, rel=0.2)
    assert sharp.hfr_px == pytest.approx(sharp.fwhm_px / 2, rel=0.25)
    assert sharp.eccentricity < 0.5
    assert sharp.sky > 0 and sharp.noise > 0
    assert sharp.guide_rms_arcsec is None and sharp.alt_deg is None


def test_a_defocused_frame_measures_wider(sharp: FrameMeasure) -> None:
    soft = measure_frame(rendered(fwhm=9.0))
    assert soft.hfr_px > 2 * sharp.hfr_px
    assert soft.fwhm_arcsec is not None and sharp.fwhm_arcsec is not None
    assert soft.fwhm_arcsec > 2 * sharp.fwhm_arcsec


def test_a_trailed_frame_measures_eccentric(sharp: FrameMeasure) -> None:
    trailed = measure_frame(rendered(trail=12.0))
    assert trailed.eccentricity > 0.8 > sharp.eccentricity + 0.3
    assert trailed.hfr_px > sharp.hfr_px


def test_a_clouded_frame_measures_fewer_stars(sharp: FrameMeasure) -> None:
    clouded = measure_frame(rendered(light=0.002))
    assert clouded.stars < sharp.stars / 2


def test_an_empty_frame_measures_no_star() -> None:
    blank = fits_bytes(64, 64, [1000] * 64 * 64)
    measured = measure_frame(blank)
    assert (measured.stars, measured.hfr_px, measured.fwhm_arcsec) == (0, 0.0, None)


def test_the_measure_is_the_journals_json_and_the_frames_cards(sharp: FrameMeasure) -> None:
    full = sharp.with_context(0.8, 45.25)
    record = full.as_record()
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert set(record) == {"stars", "hfr_px", "fwhm_px", "fwhm_arcsec", "eccentricity", "sky",
                           "noise", "guide_rms_arcsec", "alt_deg"}
    assert FrameMeasure.from_record(record).stars == sharp.stars
    keys = [card[0] for card in full.cards()]
    for key in ("HFR", "FWHM", "STARS", "ECCENTR", "SKYLEVEL", "GUIDERMS", "OBJCTALT"):
        assert key in keys
