"""`Star`: one star measured on a frame, as the guider uses it; pure, standard library only
(the guider's machine holds it without numpy)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Star"]


@dataclass(frozen=True, slots=True)
class Star:
    """A star measured on a frame: centre (pixels), flux, peak, SNR, HFD, and whether its
    peak reached the camera's full scale."""

    x: float
    y: float
    flux: float = 1000.0
    snr: float = 50.0
    hfd: float = 2.0
    saturated: bool = False
