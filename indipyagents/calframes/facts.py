"""What a calibration frame is, read from its FITS header: the keywords Siril and PixInsight
group frames by (IMAGETYP, EXPTIME, CCD-TEMP, XBINNING, GAIN, OFFSET, FILTER), the camera
(INSTRUME) and when it was taken (DATE-OBS). Pure: a header's values in, `FrameFacts` out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime

from ..plan.model import FrameType

__all__ = ["FrameFacts", "Setting", "frame_kind", "same_exposure"]

#: IMAGETYP values (lower case, without " frame") and the frame type each says.
KINDS: dict[str, FrameType] = {"light": "Light", "object": "Light", "dark": "Dark",
                               "flat": "Flat", "flat field": "Flat", "bias": "Bias",
                               "offset": "Bias", "zero": "Bias"}
#: Exposures this close (seconds, or this share of the longer) are the same exposure.
EXPOSURE_SLACK = 1e-3


@dataclass(frozen=True, slots=True)
class Setting:
    """What a dark or a bias must share with the frame it calibrates: the camera, its
    binning, gain and offset (None where the header has none)."""

    camera: str
    binning: int
    gain: float | None = None
    offset: float | None = None


@dataclass(frozen=True, slots=True)
class FrameFacts:
    """One frame: `path` (as the caller names it), its frame type, setting, exposure (s),
    sensor temperature (C, None without a cooler), filter (None for none) and when it was
    taken (UTC)."""

    path: str
    kind: FrameType
    setting: Setting
    exposure: float
    temperature: float | None
    filter: str | None
    taken: datetime

    @classmethod
    def of(cls, path: str, header: Mapping[str, object]) -> FrameFacts:
        """A frame's facts from its header's values; ValueError naming the keyword when one
        the calibration needs is missing or unreadable."""
        kind = frame_kind(str(header.get("IMAGETYP", header.get("FRAME", ""))))
        if kind is None:
            raise ValueError(f"{path}: IMAGETYP {header.get('IMAGETYP')!r} is no frame type")
        try:
            exposure = float(header["EXPTIME"])  # type: ignore[arg-type]
            binning = int(header.get("XBINNING", 1))  # type: ignore[call-overload]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: EXPTIME or XBINNING missing or unreadable") from error
        setting = Setting(str(header.get("INSTRUME", "")).strip(), binning,
                          _number(header.get("GAIN")), _number(header.get("OFFSET")))
        name = header.get("FILTER")
        return cls(path, kind, setting, exposure, _number(header.get("CCD-TEMP")),
                   str(name).strip() or None if name is not None else None,
                   _date(header.get("DATE-OBS")))


def frame_kind(imagetyp: str) -> FrameType | None:
    """The frame type an IMAGETYP says ("Light Frame", "DARK", "Flat Field", "Bias Frame")."""
    text = imagetyp.strip().lower()
    text = text.removesuffix(" frame").strip()
    return KINDS.get(text)


def same_exposure(a: float, b: float) -> bool:
    """Whether two exposures are the same (within `EXPOSURE_SLACK`, absolute or relative)."""
    return math.isclose(a, b, rel_tol=EXPOSURE_SLACK, abs_tol=EXPOSURE_SLACK)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: object) -> datetime:
    """DATE-OBS as an aware UTC datetime (the epoch when missing or unreadable)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
