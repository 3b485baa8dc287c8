"""Star sizes on a frame: the median half-flux radius (HFR) of its stars, for autofocus.

The stars are found and measured by sep (SExtractor's background, detection and photometry
as a library, on numpy arrays): the optional extra [agents]. A star counts when it is whole
and alone: not touching the frame's edge nor a neighbour (sep's truncated and merged flags),
not saturated (its brightest pixel below 98 % of the frame's full scale: a clipped star
looks wider than it is), and round (axis ratio at most `MAX_ELONGATION`: hot pixel rows,
satellite trails and pairs of stars are not). Its HFR is the radius holding half its flux
(sep's flux_radius), in pixels of the frame as taken (binned); the frame's is the median over
its stars, which one odd star does not move.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from indipycore.commandline import install_hint
from indipycore.fits import FITSError
from indipycore.fits import read_header

try:
    import numpy as np
    import sep  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - the message is tested in a subprocess
    # The one guard for both star measurers: the guider's `stars` imports this module first.
    raise ImportError(f"measuring stars (autofocus, the guider) needs numpy and sep, the "
                      f"optional extra [agents] ({exc}): {install_hint('agents')}") from exc

__all__ = ["MAX_ELONGATION", "Measurement", "measure"]

#: The longest a star may be for its width (sep's a / b): beyond, it is not one round star.
MAX_ELONGATION = 1.5
#: Detection threshold in background sigmas, and the smallest star in pixels.
THRESHOLD = 5.0
MIN_AREA = 5
#: A star's pixel at this fraction of full scale or above counts as saturated.
SATURATED = 0.98

_TYPES = {8: ">u1", 16: ">i2", 32: ">i4", -32: ">f4", -64: ">f8"}


@dataclass(frozen=True)
class Measurement:
    """The median HFR (pixels) over `stars`, the stars that counted."""

    hfr: float
    stars: int


def image(fits: bytes) -> tuple[Any, float | None]:
    """The FITS file's image as a float32 array (rows, columns; a colour image's planes
    averaged) and the value at which its pixels saturate (None for a float image without
    DATAMAX). A ``.fits.z`` (zlib) file is decompressed first. `FITSError` when it is not an
    image this reads."""
    if fits[:1] == b"\x78":  # zlib's header byte: indilib's CCD_COMPRESSION
        try:
            fits = zlib.decompress(fits)
        except zlib.error as exc:
            raise FITSError(f"a compressed frame that does not decompress: {exc}") from None
    header = read_header(fits)
    bitpix = int(header["BITPIX"])
    naxis = int(header["NAXIS"])
    if bitpix not in _TYPES or naxis not in (2, 3):
        raise FITSError(f"not an image this measures: BITPIX {bitpix}, NAXIS {naxis}")
    shape = [int(header[f"NAXIS{axis}"]) for axis in range(naxis, 0, -1)]
    data = fits[header.data_offset:header.data_offset + header.data_size]
    if len(data) < header.data_size:
        raise FITSError(f"the frame is cut short: {len(data)} of {header.data_size} bytes")
    zero = float(header.values.get("BZERO", 0))
    scale = float(header.values.get("BSCALE", 1))
    pixels = np.frombuffer(data, dtype=_TYPES[bitpix]).reshape(shape).astype(np.float32)
    pixels = pixels * np.float32(scale) + np.float32(zero)
    if naxis == 3:
        pixels = pixels.mean(axis=0, dtype=np.float32)
    if "DATAMAX" in header.values:
        full: float | None = float(header["DATAMAX"])
    elif bitpix > 0:
        full = (2.0 ** bitpix - 1) * scale + (zero - (2.0 ** (bitpix - 1) if bitpix > 8 else 0))
    else:
        full = None
    return np.ascontiguousarray(pixels), full


def measure(fits: bytes) -> Measurement | None:
    """The stars' median HFR on a FITS frame, None when no star counts (none found, or all
    refused: see the module docstring). `FITSError` when the bytes are not a FITS image."""
    pixels, full = image(fits)
    background = sep.Background(pixels)
    signal = pixels - background.back()
    try:
        found = sep.extract(signal, THRESHOLD, err=background.globalrms, minarea=MIN_AREA)
    except Exception as exc:  # noqa: BLE001 - sep raises bare Exception (pixel stack full...)
        raise FITSError(f"no stars could be extracted: {exc}") from None
    if len(found) == 0:
        return None
    height, width = pixels.shape
    a = np.maximum(found["a"], 0.5)
    reach = 4 * a + 2  # the aperture holding the star's whole flux
    x, y = found["x"], found["y"]
    whole = ((found["flag"] & (sep.OBJ_TRUNC | sep.OBJ_MERGED)) == 0) \
        & (x - reach >= 0) & (x + reach <= width - 1) & (y - reach >= 0) \
        & (y + reach <= height - 1)
    round_ = found["b"] > 0
    round_ &= a <= MAX_ELONGATION * np.maximum(found["b"], 1e-9)
    keep = whole & round_
    if full is not None:
        brightest = pixels[found["ypeak"], found["xpeak"]]
        keep &= brightest < SATURATED * full
    if not keep.any():
        return None
    radii, flags = sep.flux_radius(signal, x[keep], y[keep], reach[keep], 0.5, subpix=5)
    good = (flags == 0) & np.isfinite(radii) & (radii > 0)
    if not good.any():
        return None
    return Measurement(float(np.median(radii[good])), int(good.sum()))
