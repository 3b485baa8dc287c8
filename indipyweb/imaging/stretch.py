"""Pure numpy: display limits (zscale, min-max, percentile), the stretches (linear, log, asinh)
to 8-bit pixels, and the histogram the viewer draws. No I/O, no astropy beyond zscale."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LIMITS", "STRETCHES", "histogram", "limits", "stretch_to_bytes"]

STRETCHES = ("linear", "log", "asinh")
LIMITS = ("zscale", "minmax", "percentile")
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
        elif method == "percentile":
            cut = (100.0 - min(max(percent, 50.0), 100.0)) / 2
            low, high = (float(v) for v in np.percentile(values, (cut, 100.0 - cut)))
        else:
            from astropy.visualization import ZScaleInterval  # type: ignore[import-untyped]

            low, high = (float(v) for v in ZScaleInterval().get_limits(values))
        out.append((low, high if high > low else low + 1.0))
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
    if stretch == "log":
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
