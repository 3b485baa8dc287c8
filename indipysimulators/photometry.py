"""How many electrons a star, the sky and the chip give the simulated cameras: real equipment's
numbers, stated, and the noise that follows from them. Pure, standard library only.

The chain (each figure a typical one, not one product's):

- A V = 0 star gives 3.64e-9 erg/s/cm^2/A at 5500 A (Bessell 1998, the Johnson-Cousins V
  zero point); a photon there carries hc/lambda = 3.61e-12 erg, so 1008 photons/s/cm^2/A.
- The cameras are unfiltered monochrome sensors taking about 400-700 nm (`BANDWIDTH`, 3000 A),
  counted at V's photon density across it (a solar-type field star's photon spectrum is nearly
  flat there): 3.0e6 photons/s/cm^2 for V = 0.
- The telescope: an 80 mm refractor (`APERTURE`, 50.3 cm^2 unobstructed) at 430 mm (f/5.4, the
  imaging camera's `FOCAL_LENGTH`); the guide camera looks through the same tube (an off-axis
  guider). `TRANSMISSION` 0.7: the air at about 1.2 airmasses (0.85) and the lens and window
  surfaces (0.85).
- The sensor: mean `QE` 0.6 over that band (a front-illuminated CMOS or CCD's), `GAIN` 1.0
  e-/ADU (unity gain, as guiders are run), `READ_NOISE` 3.5 e- rms (a guide camera's, e.g. an
  ASI120MM's 4 e- at low gain), `DARK_CURRENT` 1.0 e-/s a pixel (uncooled, at 20 C: 0.1 e-/s
  at 0 C doubling every 6 C, `dark_current`, as `sensorfaults` draws it),
  `BIAS` 500 ADU (the offset that keeps the noise above 0).
- The sky: 21.0 V mag/arcsec^2 (`SKY_BRIGHTNESS`, a dark rural site: SQM 21-21.5).

So a V = 0 star gives `ELECTRONS_AT_V0` = 6.4e7 e-/s, a V = 14 star 160 e-/s; the sky 0.25
e-/s an arcsec^2, 1.6 e-/s on a 2.49" pixel. In a 2 s guide frame with stars 1.6 px (sigma)
wide, a V = 14 star's 320 e- over the 32 pixels of its effective area (4 pi sigma^2, each
3.5^2 + 2 x 1.6 + 2 x 1.0 = 17.5 e-^2) give SNR 320 / sqrt(320 + 32 x 17.5) = 10.8: stars to
about V 14 stand out, as they do on a real 2 s guide frame. A V = 6 star gives 2.5e5 ADU/s
and, 1.6 px (sigma) wide, saturates (65535 ADU) in about 4 s (sooner in good focus).
"""

from __future__ import annotations

import math
import random
from array import array
from functools import lru_cache
from statistics import NormalDist

#: Photons/s/cm^2/A of a V = 0 star at 5500 A: 3.64e-9 erg/s/cm^2/A (Bessell 1998) over
#: hc/lambda = 3.61e-12 erg.
PHOTONS_V0_PER_ANGSTROM = 3.64e-9 / 3.61e-12
#: The unfiltered sensor's band, 400-700 nm, in Angstroms.
BANDWIDTH = 3000.0
#: The telescope's clear aperture, mm (an 80 mm f/5.4 refractor at the 430 mm focal length).
APERTURE = 80.0
#: The air (0.85 at about 1.2 airmasses) times the optics' surfaces (0.85).
TRANSMISSION = 0.7
#: The sensor's mean quantum efficiency over the band.
QE = 0.6
#: Electrons per ADU.
GAIN = 1.0
#: Read noise, electrons rms a pixel.
READ_NOISE = 3.5
#: Dark current, electrons a second a pixel, at 0 C; it doubles every `DARK_DOUBLING` C.
DARK_AT_0C = 0.1
DARK_DOUBLING = 6.0
#: The uncooled chip's temperature (the air's), C.
AMBIENT = 20.0


def dark_current(celsius: float) -> float:
    """Electrons a second a (normal) pixel at the chip's temperature `celsius`."""
    return float(DARK_AT_0C * 2.0 ** (celsius / DARK_DOUBLING))


#: Dark current of the uncooled chip (at `AMBIENT`), electrons a second a pixel: 1.0.
DARK_CURRENT = dark_current(AMBIENT)
#: The offset every pixel reads with no light, ADU.
BIAS = 500.0
#: The night sky's surface brightness, V magnitudes an arcsec^2 (a dark site).
SKY_BRIGHTNESS = 21.0
#: A flat's level, electrons (about half the 16-bit range, as flat wizards aim for).
FLAT_LEVEL = 30000.0
#: The largest value a pixel holds, ADU.
FULL_SCALE = 65535

#: Electrons a second from a V = 0 star through the whole chain above.
ELECTRONS_AT_V0 = (PHOTONS_V0_PER_ANGSTROM * BANDWIDTH * math.pi * (APERTURE / 20.0) ** 2
                   * TRANSMISSION * QE)


def electrons_per_second(mag: float) -> float:
    """Electrons a second from a star of V magnitude `mag` (all of its light)."""
    return ELECTRONS_AT_V0 * 10 ** (-0.4 * mag)


def adu_per_second(mag: float) -> float:
    """ADU a second (binning 1) from a star of V magnitude `mag`: what the camera draws."""
    return electrons_per_second(mag) / GAIN


def sky_electrons_per_second(arcsec_per_pixel: float) -> float:
    """Electrons a second the night sky puts on one pixel of that plate scale."""
    return electrons_per_second(SKY_BRIGHTNESS) * arcsec_per_pixel ** 2


def background(frame_type: str, seconds: float, arcsec_per_pixel: float,
               binned: int) -> tuple[float, float]:
    """A frame's background: its mean and its noise's sigma, in ADU, for `binned` pixels
    summed into one (binning is a sum: each adds its own read noise)."""
    if frame_type == "Bias":
        electrons = 0.0
    elif frame_type == "Flat":
        electrons = FLAT_LEVEL
    elif frame_type == "Dark":
        electrons = DARK_CURRENT * seconds * binned
    else:
        electrons = (sky_electrons_per_second(arcsec_per_pixel) + DARK_CURRENT) * seconds * binned
    sigma = math.sqrt(electrons + READ_NOISE ** 2 * binned) / GAIN
    return BIAS + electrons / GAIN, sigma


@lru_cache(maxsize=1)
def quantiles() -> tuple[float, ...]:
    """The standard normal's 65536 quantiles: a random 16-bit number looked up here is a
    normal deviate (to 1 part in 65536 of probability), at C speed."""
    inverse = NormalDist().inv_cdf
    return tuple(inverse((k + 0.5) / 65536) for k in range(65536))


def noise_frame(count: int, mean: float, sigma: float) -> array[int]:
    """`count` 16-bit pixels, normal about `mean` with `sigma` (ADU), clipped to 0..65535."""
    table = [min(FULL_SCALE, max(0, round(mean + sigma * z))) for z in quantiles()]
    uniform = array("H")
    uniform.frombytes(random.randbytes(2 * count))
    return array("H", map(table.__getitem__, uniform))


@lru_cache(maxsize=1)
def normals() -> tuple[float, ...]:
    """A fixed pool of standard normal deviates the stars' shot noise reads at random
    offsets (cheaper than one `random.gauss` a pixel)."""
    pool = random.Random("photometry:normals")
    return tuple(pool.gauss(0.0, 1.0) for _ in range(1 << 14))


def snr(mag: float, seconds: float, sigma_pixels: float, arcsec_per_pixel: float) -> float:
    """A star's signal-to-noise ratio in a light frame: its electrons over the noise of
    itself and of the 4 pi sigma^2 pixels a Gaussian star's optimal aperture is worth."""
    star = electrons_per_second(mag) * seconds
    per_pixel = (READ_NOISE ** 2
                 + (sky_electrons_per_second(arcsec_per_pixel) + DARK_CURRENT) * seconds)
    return star / math.sqrt(star + 4 * math.pi * sigma_pixels ** 2 * per_pixel)


def limiting_magnitude(seconds: float, sigma_pixels: float, arcsec_per_pixel: float,
                       wanted: float = 10.0) -> float:
    """The faintest magnitude whose `snr` is at least `wanted` (bisection)."""
    lo, hi = 0.0, 30.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if snr(mid, seconds, sigma_pixels, arcsec_per_pixel) >= wanted \
            else (lo, mid)
    return lo
