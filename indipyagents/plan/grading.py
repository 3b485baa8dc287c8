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

The cause acted on (issue 93 item 3), each off unless given:

- ``clouds_after``: that many frames in a row whose stars collapsed (fewer than
  ``clouds_ratio``, default 0.3, times the median's, or none) hold the night as unsafe weather
  does; each such frame is rejected ("clouds: ..."). The hold ends by itself once a test frame
  (``clouds_test`` s, default 5, binned 2x2, not saved) shows the stars again; test frames
  ``clouds_every`` s apart (default 60, at most 600). `sequencer/cloudhold.py` acts on it.
- ``hfr_autofocus_ratio``: autofocus runs once the median HFR of the last ``min_frames``
  frames (accepted or not, with stars) of a target and filter is over that ratio times the
  median of the first ``min_frames`` after the last focus run (N.I.N.A.'s "HFR increase"
  trigger); `sequencer/triggers/hfrrise.py` keeps the figures.

A graded frame without a star is always rejected (nothing to judge it by, nothing to stack).
"""

from __future__ import annotations

import re
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

__all__ = ["CLOUDS", "GRADING_KEYS", "GUIDING_LOST", "NO_STARS", "Figures", "Grading",
           "ReasonRule", "clear_again", "grading_pairs", "judge", "read_grading", "reason_rule",
           "through_cloud"]

GRADING_KEYS = ("hfr_ratio", "stars_ratio", "eccentricity_max", "guide_rms_max",
                "background_ratio", "min_frames", "clouds_after", "clouds_ratio", "clouds_test",
                "clouds_every", "hfr_autofocus_ratio", "retakes")
#: The reason of a frame without a star.
NO_STARS = "no stars"
#: How a reason of a frame through cloud begins.
CLOUDS = "clouds"
#: The reason of a frame whose guider lost its star during the exposure.
GUIDING_LOST = "guiding lost during the exposure"


@dataclass(frozen=True)
class Grading:
    """The ``[grading]`` section; None: that rule is off."""

    hfr_ratio: float | None = None
    stars_ratio: float | None = None
    eccentricity_max: float | None = None
    guide_rms_max: float | None = None
    background_ratio: float | None = None
    min_frames: int = 3
    clouds_after: int | None = None
    clouds_ratio: float = 0.3
    clouds_test: float = 5.0
    clouds_every: float = 60.0
    hfr_autofocus_ratio: float | None = None
    #: How many times one frame is taken again after it is rejected; rejected once more, it
    #: is given up tonight (kept in ``rejected/``, said at the night's end) and the run goes
    #: on: a camera whose frames always fail a rule must not hold a night in a loop.
    retakes: int = 3


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

    base = Grading()
    return Grading(
        hfr_ratio=optional("hfr_ratio", 1, None, 100, "e.g. hfr_ratio = 1.5"),
        stars_ratio=optional("stars_ratio", 0, 1, None, "e.g. stars_ratio = 0.5"),
        eccentricity_max=optional("eccentricity_max", 0, 1, None, "e.g. 0.6"),
        guide_rms_max=optional("guide_rms_max", 0, None, 100, "arcseconds, e.g. 2"),
        background_ratio=optional("background_ratio", 1, None, 1000, "e.g. 2"),
        min_frames=fields.whole(data, path, "min_frames", base.min_frames, low=1,
                                cap=1000, hint="accepted frames before a ratio applies"),
        clouds_after=None if "clouds_after" not in data else fields.whole(
            data, path, "clouds_after", 3, low=1, cap=100, hint="frames in a row, e.g. 3"),
        clouds_ratio=optional("clouds_ratio", 0, 1, None, "e.g. 0.3") or base.clouds_ratio,
        clouds_test=optional("clouds_test", 0, None, 60, "seconds, e.g. 5") or base.clouds_test,
        clouds_every=optional("clouds_every", 0, None, 600, "seconds, e.g. 60")
        or base.clouds_every,
        hfr_autofocus_ratio=optional("hfr_autofocus_ratio", 1, None, 100, "e.g. 1.3"),
        retakes=fields.whole(data, path, "retakes", base.retakes, low=0, cap=100,
                             hint="times one rejected frame is taken again, e.g. 3"))


def grading_pairs(grading: Grading) -> dict[str, object]:
    """The section's keys as `plan_to_toml` writes them (a rule that is off left out)."""
    return {"hfr_ratio": grading.hfr_ratio, "stars_ratio": grading.stars_ratio,
            "eccentricity_max": grading.eccentricity_max,
            "guide_rms_max": grading.guide_rms_max,
            "background_ratio": grading.background_ratio, "min_frames": grading.min_frames,
            **({} if grading.clouds_after is None else {
                "clouds_after": grading.clouds_after, "clouds_ratio": grading.clouds_ratio,
                "clouds_test": grading.clouds_test, "clouds_every": grading.clouds_every}),
            "hfr_autofocus_ratio": grading.hfr_autofocus_ratio, "retakes": grading.retakes}


def judge(frame: Figures, accepted: Sequence[Figures], grading: Grading, *,
          guiding_lost: bool = False) -> list[str]:
    """Why `frame` is rejected (empty: accepted), against the `accepted` frames of its target
    in its filter; `guiding_lost`: its guider lost the star during its exposure."""
    if frame.stars == 0:
        return [NO_STARS]
    reasons = [GUIDING_LOST] if guiding_lost else []
    if grading.clouds_after is not None and len(accepted) >= grading.min_frames:
        median = statistics.median(one.stars for one in accepted)
        if frame.stars < grading.clouds_ratio * median:
            reasons.append(f"{CLOUDS}: stars {frame.stars} < {grading.clouds_ratio:g} x "
                           f"median {median:g}")
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


def through_cloud(reasons: Sequence[str], grading: Grading) -> bool:
    """Whether a frame rejected for `reasons` counts towards a cloud hold: its stars gone
    or collapsed, where the plan watches for clouds."""
    return grading.clouds_after is not None and any(
        why == NO_STARS or why.startswith(CLOUDS) for why in reasons)


def clear_again(stars: int, accepted: Sequence[Figures], grading: Grading) -> bool:
    """Whether a cloud hold's test frame with `stars` shows the stars again: over the
    ``clouds_ratio`` of the accepted frames' median (any star, where none was accepted)."""
    if not accepted:
        return stars > 0
    return stars > 0 and stars >= grading.clouds_ratio * statistics.median(
        one.stars for one in accepted)


#: A reason `judge` writes with figures: the frame's figure (with its unit), the comparison and
#: the limit, and the median the limit scales where it does.
_NUMBER = r'-?\d+(?:\.\d+)?'
_FIGURES = re.compile(rf'^(?P<head>.*?)(?P<value>{_NUMBER}"?) (?P<op>[<>]) '
                      rf'(?P<limit>{_NUMBER}"?(?: x median)?)(?: (?P<median>{_NUMBER}))?$')


@dataclass(frozen=True)
class ReasonRule:
    """A reason split into its rule (``stars < 0.5 x median``), the frame's figure (``153``)
    and the median it was judged against (``1107``); a reason without figures is its own rule."""

    rule: str
    value: str | None = None
    median: str | None = None


def reason_rule(reason: str) -> ReasonRule:
    """`reason` (one of `judge`'s) as its rule and figures: so a night's rejections read as
    rules with counts, not one line a frame (issue 93 item 5)."""
    found = _FIGURES.match(reason)
    if found is None:
        return ReasonRule(reason)
    return ReasonRule(f"{found['head']}{found['op']} {found['limit']}", found["value"],
                      found["median"])
