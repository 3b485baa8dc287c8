"""The cameras' calibration (`indipysimulators.photometry`, issue 89 item 2): the numbers it
states give the electrons they should, and the noise it draws has the mean and spread asked."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipysimulators import faintstars
from indipysimulators import photometry

#: The default plate scale, arcseconds a pixel (5.2 um at 430 mm).
SCALE = 206.264806 * 5.2 / 430.0


def test_the_chain_gives_the_stated_electrons() -> None:
    """Protects the derivation: 1008 photons/s/cm^2/A at V = 0 over 3000 A, 50.3 cm^2,
    0.7 x 0.6 make 6.4e7 e-/s; 5 magnitudes a factor 100; the sky 1.6 e-/s on a 2.49" pixel."""
    assert photometry.PHOTONS_V0_PER_ANGSTROM == pytest.approx(1008, rel=0.01)
    assert photometry.ELECTRONS_AT_V0 == pytest.approx(6.4e7, rel=0.01)
    assert photometry.electrons_per_second(5.0) == pytest.approx(
        photometry.ELECTRONS_AT_V0 / 100)
    assert photometry.sky_electrons_per_second(SCALE) == pytest.approx(1.58, rel=0.01)


@pytest.mark.parametrize(("kind", "seconds", "binned"), [
    ("Bias", 0.0, 1), ("Dark", 10.0, 1), ("Light", 2.0, 1), ("Light", 60.0, 4), ("Flat", 1.0, 1)])
def test_a_frames_noise_has_the_mean_and_spread_asked(kind: str, seconds: float,
                                                      binned: int) -> None:
    """Protects the background: the drawn pixels' mean and standard deviation are the
    `background` asked (within 2%), a light frame's grows with the exposure."""
    mean, sigma = photometry.background(kind, seconds, SCALE, binned)
    random.seed(kind)
    pixels = photometry.noise_frame(200_000, mean, sigma)
    assert statistics.fmean(pixels) == pytest.approx(mean, abs=0.02 * sigma + 0.5)
    assert statistics.pstdev(pixels) == pytest.approx(sigma, rel=0.02, abs=0.3)
    if kind == "Bias":
        assert (mean, sigma) == (photometry.BIAS, photometry.READ_NOISE / photometry.GAIN)


def test_the_noise_is_clipped_to_sixteen_bits() -> None:
    pixels = photometry.noise_frame(10_000, 65000.0, 2000.0)
    assert max(pixels) == photometry.FULL_SCALE and min(pixels) > 0
    assert min(photometry.noise_frame(10_000, 0.0, 100.0)) == 0


@given(st.floats(12.0, 16.0), st.floats(-90.0, 90.0))
def test_a_synthetic_stars_magnitude_inverts_the_counts(mag: float, b: float) -> None:
    """Protects the faint stars' magnitudes: solved from N(<m) segment by segment, they give
    back the magnitude whose count was asked, at any latitude."""
    log_n = faintstars.log_density(mag, b)
    assert faintstars._magnitude(log_n, b) == pytest.approx(mag, abs=1e-9)


@given(st.floats(0.05, 600.0), st.floats(0.5, 10.0))
def test_the_limiting_magnitude_has_the_snr_asked(seconds: float, sigma: float) -> None:
    """Protects `limiting_magnitude`: the star there has SNR 10, and it is fainter the
    longer the exposure."""
    limit = photometry.limiting_magnitude(seconds, sigma, SCALE)
    assert photometry.snr(limit, seconds, sigma, SCALE) == pytest.approx(10.0, rel=1e-6)
    assert photometry.limiting_magnitude(seconds * 4, sigma, SCALE) > limit
    assert math.isfinite(limit)
