"""Star sizes on a frame (issue 71 item 6): `indipyagents.stars.measure.hfr` (the agents'
one star room, issue 91 item 3) on FITS files made here with stars of known size. Protects: the median half-flux radius of round Gaussian
stars (1.1774 sigma) whatever their size and the frame's format (16-bit, 8-bit, float,
zlib-compressed); saturated, edge and elongated stars do not count; no star is None; bytes
that are not a FITS image get a clear error; and without numpy or sep the import says what
to install."""

from __future__ import annotations

import subprocess
import sys
import zlib

import numpy as np
import pytest

from indipyagents.stars.measure import hfr as measure
from indipycore.fits import FITSError
from indipycore.fits import fits_bytes
from indipycore.fits import format_card

#: A Gaussian's half-flux radius over its sigma: sqrt(2 ln 2).
HFR_PER_SIGMA = 1.1774
WIDTH, HEIGHT = 400, 300


def frame(stars: list[tuple[float, float, float, float, float]], *, seed: int = 1,
          background: float = 1000.0, noise: float = 8.0) -> np.ndarray:
    """A noisy background with Gaussian stars (x, y, flux, sigma_x, sigma_y)."""
    rng = np.random.default_rng(seed)
    image = rng.normal(background, noise, (HEIGHT, WIDTH))
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    for x, y, flux, sx, sy in stars:
        image += flux / (2 * np.pi * sx * sy) * np.exp(
            -0.5 * (((cols - x) / sx) ** 2 + ((rows - y) / sy) ** 2))
    return image


def as_fits(image: np.ndarray) -> bytes:
    """16-bit unsigned FITS, values clipped to 0..65535 as a camera's ADC would."""
    pixels = np.clip(np.rint(image), 0, 65535).astype(np.uint16)
    return fits_bytes(WIDTH, HEIGHT, pixels.tobytes())


def grid(flux: float, sigma: float, count: int = 12) -> list[tuple[float, float, float, float, float]]:
    """`count` round stars well apart and away from the edges."""
    spots = [(60 + 70 * (k % 5) + 0.3, 60 + 80 * (k // 5) + 0.6) for k in range(count)]
    return [(x, y, flux, sigma, sigma) for x, y in spots]


@pytest.mark.parametrize("sigma", [1.0, 1.6, 3.0, 6.0])
def test_round_stars_measure_their_half_flux_radius(sigma: float) -> None:
    found = measure(as_fits(frame(grid(200000, sigma))))
    assert found is not None
    assert found.stars == 12
    assert found.hfr == pytest.approx(HFR_PER_SIGMA * sigma, rel=0.06)


def test_saturated_edge_and_elongated_stars_do_not_count() -> None:
    """Beside 6 good stars: 2 clipped at full scale (they would look wider), one cut by the
    frame's edge, one three times longer than wide; only the 6 count, at their size."""
    good = grid(200000, 2.0, 6)
    bad = [(250.3, 220.4, 5e7, 2.0, 2.0), (330.2, 220.7, 5e7, 2.0, 2.0),
           (2.0, 150.0, 200000, 2.0, 2.0), (120.5, 230.5, 300000, 6.0, 2.0)]
    found = measure(as_fits(frame(good + bad)))
    assert found is not None
    assert found.stars == 6
    assert found.hfr == pytest.approx(HFR_PER_SIGMA * 2.0, rel=0.06)


def test_no_stars_is_none() -> None:
    assert measure(as_fits(frame([]))) is None


def test_other_formats_measure_the_same() -> None:
    """8-bit, 32-bit float and indilib's zlib-compressed ``.fits.z`` give the 16-bit size."""
    image = frame(grid(4000, 2.0), background=40, noise=2)  # peaks at 200 of 255
    expected = HFR_PER_SIGMA * 2.0
    as_8bit = fits_bytes(WIDTH, HEIGHT, np.clip(np.rint(image), 0, 255).astype(np.uint8)
                         .tobytes(), bitpix=8)
    cards = b"".join([format_card("SIMPLE", True), format_card("BITPIX", -32),
                      format_card("NAXIS", 2), format_card("NAXIS1", WIDTH),
                      format_card("NAXIS2", HEIGHT)]) + b"END".ljust(80)
    header = cards + b" " * (-len(cards) % 2880)
    as_float = header + image.astype(">f4").tobytes()
    for data in (as_8bit, as_float, zlib.compress(as_fits(image * 50))):
        found = measure(data)
        assert found is not None and found.stars == 12
        assert found.hfr == pytest.approx(expected, rel=0.08)


def test_bytes_that_are_not_a_fits_image_are_refused_clearly() -> None:
    image = as_fits(frame(grid(200000, 2.0)))
    with pytest.raises(FITSError, match="SIMPLE"):
        measure(b"PNG" + bytes(3000))
    with pytest.raises(FITSError, match="cut short"):
        measure(image[:5000])
    with pytest.raises(FITSError, match="decompress"):
        measure(b"\x78\x9c" + bytes(100))


@pytest.mark.parametrize("missing", ["numpy", "sep"])
def test_without_the_extra_the_import_says_what_to_install(missing: str) -> None:
    """With numpy or sep not importable, importing the module fails with an ImportError that
    names the extra [agents] and how to install it from the clone."""
    code = (f"import sys; sys.modules[{missing!r}] = None\n"
            "try:\n    import indipyagents.stars.measure\n"
            "except ImportError as exc:\n    print(exc)\nelse:\n    print('imported')\n")
    said = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert "[agents]" in said and 'pip install ".[agents]"' in said, said
