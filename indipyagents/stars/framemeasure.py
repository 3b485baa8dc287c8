"""A light frame measured for its grading (issue 93 item 1): pure, numpy and sep, on the one
detection of `measure.py` (its background, threshold and the stars that are whole, alone and
not saturated), in a thread off the night's path.

- `stars`: the objects sep finds above `measure.FOCUS_THRESHOLD` background sigmas that are
  whole, alone and not saturated, round or not (a trailed star is still a star: its
  eccentricity says it is trailed), and more than one pixel (`measure.lone_pixels`: an
  uncalibrated frame's hot pixels and cosmic rays are not stars, nor their HFR of a few
  tenths of a pixel the frame's); clouds take them away.
- `hfr_px`: their median half-flux radius; `fwhm_px`: their median FWHM from their second
  moments (2.3548 sigma, sigma the root mean square of sep's a and b); `fwhm_arcsec` from the
  header's PIXSIZE1 (binned, microns) and FOCALLEN (mm), None where either is missing.
- `eccentricity`: their median sqrt(1 - (b/a)^2), 0 round, towards 1 trailed.
- `sky`, `noise`: sep's background level and its robust sigma (ADU).
- `guide_rms_arcsec`, `alt_deg`: what the sequencer adds (the guider's RMS over the exposure
  in arcseconds, the target's altitude at mid exposure); None where unknown.

A frame without a star measures 0.0 for its HFR, FWHM and eccentricity.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from indipycore.fits import Card
from indipycore.fits import FITSError
from indipycore.fits import read_header

from . import measure

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - measure's import said what to install
    raise ImportError(str(exc)) from exc

__all__ = ["FrameMeasure", "measure_frame"]

#: A Gaussian's FWHM in sigmas.
FWHM_SIGMAS = 2.0 * math.sqrt(2.0 * math.log(2.0))


@dataclass(frozen=True, slots=True)
class FrameMeasure:
    """One light frame's figures (see the module's docstring)."""

    stars: int
    hfr_px: float
    fwhm_px: float
    fwhm_arcsec: float | None
    eccentricity: float
    sky: float
    noise: float
    guide_rms_arcsec: float | None = None
    alt_deg: float | None = None

    def with_context(self, guide_rms_arcsec: float | None,
                     alt_deg: float | None) -> FrameMeasure:
        return replace(self, guide_rms_arcsec=guide_rms_arcsec, alt_deg=alt_deg)

    def as_record(self) -> dict[str, Any]:
        """The journal's ``measure`` object: plain JSON, figures rounded."""
        return {key: (round(value, 4) if isinstance(value, float) else value)
                for key, value in asdict(self).items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FrameMeasure:
        """The journal's ``measure`` object read back."""
        def maybe(key: str) -> float | None:
            value = record.get(key)
            return None if value is None else float(value)

        return cls(int(record["stars"]), float(record["hfr_px"]), float(record["fwhm_px"]),
                   maybe("fwhm_arcsec"), float(record["eccentricity"]), float(record["sky"]),
                   float(record["noise"]), maybe("guide_rms_arcsec"), maybe("alt_deg"))

    def cards(self) -> list[Card]:
        """The frame's FITS cards: HFR, FWHM (arcseconds; pixels where the scale is
        unknown, said in its comment), STARS, ECCENTR, SKYLEVEL, GUIDERMS and OBJCTALT
        where known."""
        cards: list[Card] = [("HFR", round(self.hfr_px, 3), "median half-flux radius, pixels")]
        if self.fwhm_arcsec is not None:
            cards.append(("FWHM", round(self.fwhm_arcsec, 3), "median FWHM, arcseconds"))
        else:
            cards.append(("FWHM", round(self.fwhm_px, 3), "median FWHM, pixels (no scale)"))
        cards += [("STARS", self.stars, "stars measured"),
                  ("ECCENTR", round(self.eccentricity, 3), "median star eccentricity"),
                  ("SKYLEVEL", round(self.sky, 2), "sky background level, ADU"),
                  ("SKYNOISE", round(self.noise, 3), "sky background noise, ADU")]
        if self.guide_rms_arcsec is not None:
            cards.append(("GUIDERMS", round(self.guide_rms_arcsec, 3),
                          "guide RMS in the exposure, arcseconds"))
        if self.alt_deg is not None:
            cards.append(("OBJCTALT", round(self.alt_deg, 3),
                          "target altitude at mid exposure, degrees"))
        return cards


def measure_frame(fits: bytes) -> FrameMeasure:
    """`fits` measured (a FITS image, `measure.image`'s); `FITSError` when it is not one."""
    pixels, full = measure.image(fits)
    signal, found, noise, sky = measure.detect_on_sky(pixels, measure.FOCUS_THRESHOLD)
    scale = arcsec_per_pixel(fits)
    if len(found) == 0:
        return FrameMeasure(0, 0.0, 0.0, None if scale is None else 0.0, 0.0, sky, noise)
    whole, unclipped = measure.whole_stars(pixels, full, found)
    stars = found[whole & unclipped & ~measure.lone_pixels(signal, found, noise)]
    radii = measure.half_flux_radii(signal, stars) if len(stars) else np.array([])
    counted = np.isfinite(radii)
    stars, radii = stars[counted], radii[counted]
    if len(stars) == 0:
        return FrameMeasure(0, 0.0, 0.0, None if scale is None else 0.0, 0.0, sky, noise)
    a, b = np.maximum(stars["a"], 1e-6), np.maximum(stars["b"], 1e-6)
    fwhm = float(np.median(FWHM_SIGMAS * np.sqrt((a * a + b * b) / 2.0)))
    eccentricity = float(np.median(np.sqrt(np.clip(1.0 - (b / a) ** 2, 0.0, 1.0))))
    return FrameMeasure(len(stars), float(np.median(radii)), fwhm,
                        None if scale is None else fwhm * scale, eccentricity, sky, noise)


def arcsec_per_pixel(fits: bytes) -> float | None:
    """The frame's scale from its PIXSIZE1 (microns, binned) and FOCALLEN (mm); None when
    either is missing or not positive."""
    try:
        values = read_header(fits).values
    except FITSError:  # a compressed frame: its header is not read here, no scale
        return None
    pixel, focal = values.get("PIXSIZE1"), values.get("FOCALLEN")
    if not isinstance(pixel, (int, float)) or not isinstance(focal, (int, float)) \
            or pixel <= 0 or focal <= 0:
        return None
    return 206.264806 * float(pixel) / float(focal)
