"""A plan's ``[grading]`` section and the verdict on one light frame (issue 93 item 2). Pure.

Each rule is optional; a plan without the section grades nothing (every frame counts, as
before). The ratios judge a frame against its target's running median of the frames already
ACCEPTED in the same filter (N.I.N.A.'s Target Scheduler does so), once `min_frames` of them
are there; the limits judge it alone:

- ``hfr_ratio``: rejected when its median HFR is over the ratio times the median's;
- ``stars_ratio``: rejected when it has fewer stars than the ratio times the median's;
- ``background_ratio``: rejected when its sky level is over the ratio times the median's;
- ``eccentricity_max``: rejected when its stars' median eccentricity is over it;
- ``guide_rms_max``: rejected when the guider's RMS over its exposure (arcseconds) is over it
  (a frame without a guider's RMS is not judged by it).

A graded frame without a star is always rejected (nothing to judge it by, nothing to stack).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from . import fields
from .fields import Table
from .locate import KeyPath


class Figures(Protocol):
    """What a frame's judge reads of its measure (`stars.framemeasure.FrameMeasure`'s)."""

    @property
    def stars(self) -> int: ...
    @property
    def hfr_px(self) -> float: ...
    @property
    def eccentricity(self) -> float: ...
    @property
    def sky(self) -> float: ...
    @property
    def guide_rms_arcsec(self) -> float | None: ...

__all__ = ["GRADING_KEYS", "Figures", "Grading", "grading_pairs", "judge", "read_grading"]

GRADING_KEYS = ("hfr_ratio", "stars_ratio", "eccentricity_max", "guide_rms_max",
                "background_ratio", "min_frames")
#: The reason of a frame without a star.
NO_STARS = "no stars"


@dataclass(frozen=True)
class Grading:
    """The ``[grading]`` section; None: that rule is off."""

    hfr_ratio: float | None = None
    stars_ratio: float | None = None
    eccentricity_max: float | None = None
    guide_rms_max: float | None = None
    background_ratio: float | None = None
    min_frames: int = 3


def read_grading(data: Table | None) -> Grading | None:
    """The section, None when the plan has none (no grading)."""
    if data is None:
        return None
    path: KeyPath = ("grading",)
    fields.only_known(data, path, GRADING_KEYS)

    def optional(key: str, low: float, high: float | None, cap: float | None,
                 hint: str) -> float | None:
        if key not in data:
            return None
        return fields.number(data, path, key, None, low=low, high=high, above=True, cap=cap,
                             hint=hint)

    return Grading(
        hfr_ratio=optional("hfr_ratio", 1, None, 100, "e.g. hfr_ratio = 1.5"),
        stars_ratio=optional("stars_ratio", 0, 1, None, "e.g. stars_ratio = 0.5"),
        eccentricity_max=optional("eccentricity_max", 0, 1, None, "e.g. 0.6"),
        guide_rms_max=optional("guide_rms_max", 0, None, 100, "arcseconds, e.g. 2"),
        background_ratio=optional("background_ratio", 1, None, 1000, "e.g. 2"),
        min_frames=fields.whole(data, path, "min_frames", Grading().min_frames, low=1,
                                cap=1000, hint="accepted frames before a ratio applies"))


def grading_pairs(grading: Grading) -> dict[str, object]:
    """The section's keys as `plan_to_toml` writes them (a rule that is off left out)."""
    return {"hfr_ratio": grading.hfr_ratio, "stars_ratio": grading.stars_ratio,
            "eccentricity_max": grading.eccentricity_max,
            "guide_rms_max": grading.guide_rms_max,
            "background_ratio": grading.background_ratio, "min_frames": grading.min_frames}


def judge(frame: Figures, accepted: Sequence[Figures], grading: Grading) -> list[str]:
    """Why `frame` is rejected (empty: accepted), against the `accepted` frames of its target
    in its filter."""
    if frame.stars == 0:
        return [NO_STARS]
    reasons = []
    if grading.eccentricity_max is not None and frame.eccentricity > grading.eccentricity_max:
        reasons.append(f"eccentricity {frame.eccentricity:.2f} > {grading.eccentricity_max:g}")
    if grading.guide_rms_max is not None and frame.guide_rms_arcsec is not None \
            and frame.guide_rms_arcsec > grading.guide_rms_max:
        reasons.append(f"guide RMS {frame.guide_rms_arcsec:.2f}\" > {grading.guide_rms_max:g}\"")
    if len(accepted) < grading.min_frames:
        return reasons
    if grading.hfr_ratio is not None:
        median = statistics.median(one.hfr_px for one in accepted)
        if frame.hfr_px > grading.hfr_ratio * median:
            reasons.append(f"HFR {frame.hfr_px:.2f} > {grading.hfr_ratio:g} x median "
                           f"{median:.2f}")
    if grading.stars_ratio is not None:
        median = statistics.median(one.stars for one in accepted)
        if frame.stars < grading.stars_ratio * median:
            reasons.append(f"stars {frame.stars} < {grading.stars_ratio:g} x median {median:g}")
    if grading.background_ratio is not None:
        median = statistics.median(one.sky for one in accepted)
        if frame.sky > grading.background_ratio * median:
            reasons.append(f"sky {frame.sky:.1f} > {grading.background_ratio:g} x median "
                           f"{median:.1f}")
    return reasons
