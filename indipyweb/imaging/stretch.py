"""Pure numpy: display limits (zscale, min-max, percentile, sky), the stretches (linear, log,
asinh, midtones) to 8-bit pixels, and the histogram the viewer draws. No I/O, no astropy beyond
zscale.

"sky" and "midtones" together are the automatic screen stretch (PixInsight's AutoSTF, also
Siril's): black a little under the sky's median by its noise, white at the brightest pixel,
the median at a quarter, brighter pixels raised steeply, so a guide frame's faint stars show
on a dark sky (issue 89 item 11: zscale and asinh drew its sky at mid-grey)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LIMITS", "STRETCHES", "histogram", "limits", "midtones", "sky_limits",
           "stretch_to_bytes"]

STRETCHES = ("linear", "log", "asinh", "midtones")
LIMITS = ("zscale", "minmax", "percentile", "sky")
#: Where "midtones" puts the median (0..1), and how many noise sigmas under it "sky" puts black.
BACKGROUND, SHADOWS = 0.25, 2.8
SAMPLE = 1_000_000  # pixels at most looked at to find limits


def _sample(plane: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    flat = plane.ravel()
    step = max(1, flat.size // SAMPLE)
    values = flat[::step]
    return values[np.isfinite(values)]


def limits(display: npt.NDArray[Any], method: str, percent: float = 99.5) -> list[tuple[float, float]]:
    """(low, high) per channel (one for grey, three for colour, so colour is balanced)."""
    if method not in LIMITS:
        raise ValueError(f"limits are one of {', '.join(LIMITS)}, not {method!r}")
    planes = [display] if display.ndim == 2 else [display[..., c] for c in range(display.shape[-1])]
    out = []
    for plane in planes:
        values = _sample(plane)
        if values.size == 0:
            out.append((0.0, 1.0))
            continue
        if method == "minmax":
            low, high = float(values.min()), float(values.max())
        elif method == "sky":
            low, high = sky_limits(values)
        elif method == "percentile":
            cut = (100.0 - min(max(percent, 50.0), 100.0)) / 2
            low, high = (float(v) for v in np.percentile(values, (cut, 100.0 - cut)))
        else:
            from astropy.visualization import ZScaleInterval  # type: ignore[import-untyped]

            low, high = (float(v) for v in ZScaleInterval().get_limits(values))
        out.append((low, high if high > low else low + 1.0))
    return out


def sky_limits(values: npt.NDArray[Any]) -> tuple[float, float]:
    """Black `SHADOWS` noise sigmas (the median absolute deviation's) under the median, white
    at the brightest: the sky dark, no star clipped."""
    sky = float(np.median(values))
    noise = 1.4826 * float(np.median(np.abs(values - sky)))
    return max(float(values.min()), sky - SHADOWS * noise), float(values.max())


def _transfer(m: float, x: Any) -> Any:
    """The midtones transfer function: 0 -> 0, m -> 0.5, 1 -> 1."""
    return (m - 1) * x / ((2 * m - 1) * x - m)


def midtones(scaled: npt.NDArray[Any], median: float) -> npt.NDArray[Any]:
    """`scaled` (0..1) bent so that `median` lands at `BACKGROUND`; unbent where the median
    is black or white already."""
    if not 0.0 < median < 1.0:
        return scaled
    out: npt.NDArray[Any] = np.clip(_transfer(float(_transfer(BACKGROUND, median)), scaled), 0, 1)
    return out


def stretch_to_bytes(pixels: npt.NDArray[Any], lims: list[tuple[float, float]],
                     stretch: str) -> npt.NDArray[np.uint8]:
    """`pixels` (h, w) or (h, w, 3) scaled between `lims` and stretched, as uint8."""
    if stretch not in STRETCHES:
        raise ValueError(f"stretch is one of {', '.join(STRETCHES)}, not {stretch!r}")
    data = np.asarray(pixels, dtype=np.float32)
    low = np.array([lo for lo, _ in lims], dtype=np.float32)
    span = np.array([hi - lo for lo, hi in lims], dtype=np.float32)
    if data.ndim == 2:
        low, span = low[0], span[0]
    scaled = np.clip((np.nan_to_num(data) - low) / span, 0.0, 1.0)
    if stretch == "midtones":
        planes = [scaled] if scaled.ndim == 2 else [scaled[..., c] for c in range(3)]
        done = [midtones(plane, float(np.median(_sample(plane)))) for plane in planes]
        scaled = done[0] if scaled.ndim == 2 else np.stack(done, axis=-1)
    elif stretch == "log":
        scaled = np.log10(1000.0 * scaled + 1.0) / np.log10(1001.0)
    elif stretch == "asinh":
        scaled = np.arcsinh(10.0 * scaled) / np.arcsinh(10.0)
    out: npt.NDArray[np.uint8] = (scaled * 255.0 + 0.5).astype(np.uint8)
    return out


def histogram(display: npt.NDArray[Any], bins: int = 256) -> dict[str, Any]:
    """Counts in `bins` equal bins between the sample's min and max (all channels together)."""
    values = _sample(display)
    if values.size == 0:
        return {"low": 0.0, "high": 1.0, "counts": [0] * bins}
    low, high = float(values.min()), float(values.max())
    counts, _ = np.histogram(values, bins=bins, range=(low, high if high > low else low + 1.0))
    return {"low": low, "high": high, "counts": [int(c) for c in counts]}
