"""Stars on a FITS frame, found and measured once for every agent: sep (SExtractor's
background, detection and photometry as a library, on numpy arrays), the optional extra
[agents]; importing this module without it raises the ImportError that says what to install.

`image` reads the frame (16/32-bit integers, floats, 8-bit, colour planes averaged, indilib's
zlib ``.fits.z``); `detect` subtracts sep's background and extracts the objects above a
threshold of background sigmas. On that one detection:

- `hfr` (autofocus): the median half-flux radius over the stars that are whole and alone (not
  touching the frame's edge nor a neighbour: sep's truncated and merged flags), not saturated
  (their brightest pixel below 98 % of full scale: a clipped star looks wider than it is) and
  round (axis ratio at most `MAX_ELONGATION`: hot pixel rows, satellite trails and pairs are
  not), in pixels of the frame as taken (binned); the median, which one odd star does not move.
- `guide_stars` / `stars_in` (the guider, in a thread: a few tens of milliseconds for a
  640 x 512 frame): the `MOST` brightest objects as `Star`s, each one's centre, flux, SNR,
  half-flux diameter and whether it saturates (95 % of full scale).
- `lone_pixels` (the light frame's measure): the objects that are one pixel, a hot pixel or
  a cosmic ray rather than a star (see its docstring).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

from indipycore.commandline import install_hint
from indipycore.fits import FITSError
from indipycore.fits import read_header

from .star import Star

try:
    import numpy as np
    import sep  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - the message is tested in a subprocess
    raise ImportError(f"measuring stars (autofocus, the guider) needs numpy and sep, the "
                      f"optional extra [agents] ({exc}): {install_hint('agents')}") from exc

__all__ = ["MAX_ELONGATION", "FITSError", "Measurement", "Star", "aperture", "detect", "detect_on_sky",
           "guide_stars", "half_flux_radii", "hfr", "image", "lone_pixels", "round_stars",
           "stars_in", "whole_stars"]

#: The smallest star in pixels.
MIN_AREA = 5
#: Autofocus: detection threshold (background sigmas), saturation (share of full scale) and
#: the longest a star may be for its width (sep's a / b): beyond, it is not one round star.
FOCUS_THRESHOLD = 5.0
FOCUS_SATURATED = 0.98
MAX_ELONGATION = 1.5
#: The guider: detection threshold, saturation, and at most this many stars (the brightest).
GUIDE_THRESHOLD = 6.0
GUIDE_SATURATED = 0.95
MOST = 40
#: A star's brightest pixel has a neighbour at least this many background sigmas above the
#: background; a hot pixel's neighbours are the background, within its noise.
LONE_NEIGHBOUR = 4.0

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


def detect(pixels: Any, threshold: float) -> tuple[Any, Any, float]:
    """The objects sep finds above `threshold` background sigmas on a float32 image: the
    image less its background, sep's object table, the background's rms. `FITSError` when
    sep cannot extract (its pixel stack full...)."""
    signal, found, rms, _ = detect_on_sky(pixels, threshold)
    return signal, found, rms


def detect_on_sky(pixels: Any, threshold: float) -> tuple[Any, Any, float, float]:
    """`detect`'s, and the background's level (sep's global background, ADU)."""
    background = sep.Background(pixels)
    signal = pixels - background.back()
    rms = max(float(background.globalrms), 1e-6)
    try:
        found = sep.extract(signal, threshold, err=rms, minarea=MIN_AREA)
    except Exception as exc:  # noqa: BLE001 - sep raises bare Exception (pixel stack full...)
        raise FITSError(f"no stars could be extracted: {exc}") from None
    return signal, found, rms, float(background.globalback)


def hfr(fits: bytes) -> Measurement | None:
    """The stars' median HFR on a FITS frame (autofocus), None when no star counts (none
    found, or all refused: see the module docstring). `FITSError` when the bytes are not a
    FITS image."""
    pixels, full = image(fits)
    signal, found, _ = detect(pixels, FOCUS_THRESHOLD)
    if len(found) == 0:
        return None
    whole, unclipped = whole_stars(pixels, full, found)
    keep = whole & unclipped & round_stars(found)
    if not keep.any():
        return None
    radii = half_flux_radii(signal, found[keep])
    good = np.isfinite(radii)
    if not good.any():
        return None
    return Measurement(float(np.median(radii[good])), int(good.sum()))


def whole_stars(pixels: Any, full: float | None, found: Any) -> tuple[Any, Any]:
    """Two masks over sep's `found` objects on `pixels`: whole and alone (neither truncated
    by the frame's edge within their flux aperture nor merged with a neighbour), and not
    saturated (brightest pixel below `FOCUS_SATURATED` of `full`; all True when unknown)."""
    height, width = pixels.shape
    reach = aperture(found)
    x, y = found["x"], found["y"]
    whole = ((found["flag"] & (sep.OBJ_TRUNC | sep.OBJ_MERGED)) == 0) \
        & (x - reach >= 0) & (x + reach <= width - 1) & (y - reach >= 0) \
        & (y + reach <= height - 1) & (found["b"] > 0)
    unclipped = np.ones(len(found), dtype=bool)
    if full is not None:
        unclipped = pixels[found["ypeak"], found["xpeak"]] < FOCUS_SATURATED * full
    return whole, unclipped


def round_stars(found: Any) -> Any:
    """The mask of objects no longer than `MAX_ELONGATION` times their width."""
    return np.maximum(found["a"], 0.5) <= MAX_ELONGATION * np.maximum(found["b"], 1e-9)


def lone_pixels(signal: Any, found: Any, rms: float) -> Any:
    """The mask of sep's `found` objects on the background-less `signal` that are one pixel:
    none of the four neighbours of their brightest pixel is `LONE_NEIGHBOUR` background
    sigmas (`rms`) above the background. A hot pixel or a cosmic ray lights one pixel,
    however bright, and sep's smoothing makes it an object of several; a star's light, even
    undersampled, spills into a neighbour by several sigmas once it is bright enough to be
    found. A star narrower than a pixel whose neighbours stay within the noise is told from
    a hot pixel by nothing in one frame, and is dropped with them. (A share of the flux in
    the brightest pixel drops the bright undersampled stars of a binned frame too.) A peak
    on the frame's edge is its own neighbour there: never lone (`whole_stars` drops it)."""
    height, width = signal.shape
    row, col = found["ypeak"], found["xpeak"]
    brightest = np.maximum.reduce([
        signal[np.maximum(row - 1, 0), col], signal[np.minimum(row + 1, height - 1), col],
        signal[row, np.maximum(col - 1, 0)], signal[row, np.minimum(col + 1, width - 1)]])
    return brightest < LONE_NEIGHBOUR * rms


def aperture(found: Any) -> Any:
    """The radius holding a star's whole flux: 4 a + 2 pixels."""
    return 4 * np.maximum(found["a"], 0.5) + 2


def half_flux_radii(signal: Any, found: Any) -> Any:
    """Each object's half-flux radius on the background-less `signal` (NaN where sep flags
    it or finds none)."""
    radii, flags = sep.flux_radius(signal, found["x"], found["y"], aperture(found), 0.5,
                                   subpix=5)
    radii = np.asarray(radii, dtype=np.float64)
    radii[(flags != 0) | ~(radii > 0)] = np.nan
    return radii


def stars_in(pixels: Any, full: float | None) -> tuple[Star, ...]:
    """The guider's stars of a float32 image (`full`: the value at which it saturates);
    none where sep cannot extract."""
    try:
        signal, found, rms = detect(pixels, GUIDE_THRESHOLD)
    except FITSError:
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
                          full is not None and float(peak) >= GUIDE_SATURATED * full))
    return tuple(stars)


def guide_stars(fits: bytes) -> tuple[tuple[Star, ...], int, int]:
    """The guider's stars of a FITS frame, and its width and height; `FITSError` when
    unreadable."""
    pixels, full = image(fits)
    height, width = pixels.shape
    return stars_in(pixels, full), int(width), int(height)
