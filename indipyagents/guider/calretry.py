"""The star a calibration goes on with when its star was lost (issue 89 item 3), pure: the
next best guide star of the frame (`guide_star`: the brightest unsaturated one away from the
edges), never one where a lost star was; none left, or `MAX_STARS` tried, the calibration
fails naming that reason and what to do (`Reason.LOST_NO_OTHER`).

A star missing from one frame is not lost yet (`MISSED_FRAMES`). PHD2 fails at the first star
lost; a guide star near the edge that the calibration's pulses
push out of the frame, or one a passing cloud hides, need not end an unattended night's
calibration while the frame holds others.
"""

from __future__ import annotations

import math

from .guidetypes import Star
from .guidetypes import guide_star
from .reasons import Reason
from .reasons import said

__all__ = ["MAX_STARS", "MISSED_FRAMES", "next_star"]

#: The frames in a row a calibration's star may be missing from (a faint star under the
#: detection threshold in one frame's noise, a wisp of cloud) before it is called lost; no
#: pulse is sent meanwhile. PHD2 fails at the first such frame.
MISSED_FRAMES = 2
#: The stars a calibration tries before it fails (the first one and those after it).
MAX_STARS = 4


def next_star(stars: tuple[Star, ...] | None, width: int, height: int, edge: float,
              search: float, lost: tuple[tuple[float, float], ...]) -> Star | str:
    """The star to calibrate on after the stars last seen at `lost` (frame pixels) were lost,
    or the failure's reason. A star within `search` pixels of a lost one is not taken (it
    may be that star, found again out of place)."""
    if len(lost) >= MAX_STARS:
        return said(Reason.LOST_NO_OTHER, f" ({len(lost)} stars tried)")
    away = None if stars is None else tuple(
        s for s in stars if all(math.hypot(s.x - x, s.y - y) > search for x, y in lost))
    chosen = guide_star(away, width, height, edge)
    if isinstance(chosen, str):
        return said(Reason.LOST_NO_OTHER, f" ({chosen})")
    return chosen
