"""The stars on a guide frame, measured with sep on numpy (the extra [agents], as autofocus):
each one's centre, flux, SNR, half-flux diameter and whether it saturates. Runs in a thread
(`Session` calls it so), a few tens of milliseconds for a 640 x 512 frame."""

from __future__ import annotations

import math
from typing import Any

from indipycore.fits import FITSError

from ..focus.hfr import image
from .machine import Star

# isort: split
# After `focus.hfr`, whose import raises the ImportError that names the extra when either
# is missing.
import numpy as np
import sep  # type: ignore[import-not-found]

__all__ = ["FITSError", "measure", "stars_in"]

#: Detection threshold (background sigmas) and smallest area (pixels) of a star.
THRESHOLD = 6.0
MIN_AREA = 5
#: A star whose brightest pixel reaches this share of full scale saturates.
SATURATED = 0.95
#: At most this many stars (the brightest) are kept.
MOST = 40


def stars_in(pixels: Any, full: float | None) -> tuple[Star, ...]:
    """The stars of a float32 image (`full`: the value at which it saturates)."""
    background = sep.Background(pixels)
    signal = pixels - background.back()
    rms = max(float(background.globalrms), 1e-6)
    try:
        found = sep.extract(signal, THRESHOLD, err=rms, minarea=MIN_AREA)
    except Exception:  # noqa: BLE001 - sep raises bare Exception (pixel stack full)
        return ()
    if len(found) == 0:
        return ()
    found = found[np.argsort(found["flux"])[::-1][:MOST]]
    radius, _ = sep.flux_radius(signal, found["x"], found["y"], 6.0 * np.maximum(found["a"], 1),
                                0.5, normflux=found["flux"], subpix=5)
    peaks = pixels[found["ypeak"], found["xpeak"]]
    stars = []
    for row, half, peak in zip(found, radius, peaks):
        flux = float(row["flux"])
        snr = flux / (rms * math.sqrt(max(float(row["npix"]), 1.0)))
        stars.append(Star(float(row["x"]), float(row["y"]), flux, snr,
                          2.0 * float(half) if math.isfinite(half) else 0.0,
                          full is not None and float(peak) >= SATURATED * full))
    return tuple(stars)


def measure(fits: bytes) -> tuple[tuple[Star, ...], int, int]:
    """The stars of a FITS frame, and its width and height; `FITSError` when unreadable."""
    pixels, full = image(fits)
    height, width = pixels.shape
    return stars_in(pixels, full), int(width), int(height)
