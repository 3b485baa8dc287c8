"""What the guider's state machine (``machine``) takes and gives: a measured frame (`Seen`, its
`Star`s), the settings (`Tuning`, INDIGO's names where it has them), what a frame or a command
asks (`Step`: pulses and PHD2's events), and `Refused` (a command that cannot be done now:
PHD2's error code 1, the reason said). Plain values, pure; and the two choices made among a
frame's stars (`guide_star`, `nearest`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field

from ..stars.star import Star
from .events import GuideEvent
from .guidemath import ControllerSettings
from .reasons import Reason

__all__ = ["Refused", "Seen", "Star", "Step", "Tuning", "guide_star", "nearest"]

class Refused(Exception):
    """A command that cannot be done now (PHD2's error code 1), the reason said."""


@dataclass(frozen=True, slots=True)
class Seen:
    """A frame, measured: its stars (None: it could not be read), size, number, time
    (monotonic seconds), the mount's pier side and whether the mount slewed while it was
    exposed and read (the frame is not judged then: the star is not where it was)."""

    stars: tuple[Star, ...] | None
    width: int
    height: int
    number: int
    now: float
    pier_side: str | None = None
    slewing: bool = False
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Tuning:
    """The calibration's and the star's settings (INDIGO's names where it has them)."""

    step_ms: int = 500  # STEP: one calibration pulse
    cal_drift: float = 12.0  # MIN_CALIBRATION_DRIFT, pixels
    cal_steps: int = 20  # MAX_CALIBRATION_STEPS
    bl_drift: float = 2.0  # MIN_BL_DRIFT, pixels
    bl_steps: int = 10  # MAX_BL_STEPS
    search: float = 20.0  # pixels from the last position a star is looked for
    edge: float = 25.0  # pixels from the edge a guide star must keep
    no_star_frames: int = 3  # frames without a usable star before a guide request fails
    expected_ra: float = 0.0  # px/ms a West pulse should move the star (0: unknown)
    flip_dec: bool = True  # FLIP_REVERSES_DEC: a flip turns the Dec calibration round too
    ra: ControllerSettings = field(default_factory=ControllerSettings)
    dec: ControllerSettings = field(default_factory=ControllerSettings)


@dataclass
class Step:
    """What one frame or command asks: pulses (direction "N", "S", "E", "W" -> ms) and the
    events said, in order (`events`: PHD2's JSON only in ``phd2wire``)."""

    pulses: dict[str, int] = field(default_factory=dict)
    events: list[GuideEvent] = field(default_factory=list)

    def say(self, event: GuideEvent) -> None:
        self.events.append(event)


def nearest(stars: tuple[Star, ...], where: tuple[float, float], search: float) -> Star | None:
    """The star nearest `where`, if within `search` pixels of it."""
    best = min(stars, key=lambda s: math.hypot(s.x - where[0], s.y - where[1]), default=None)
    if best is None or math.hypot(best.x - where[0], best.y - where[1]) > search:
        return None
    return best


def guide_star(stars: tuple[Star, ...] | None, width: int, height: int,
               edge: float) -> Star | str:
    """The guide star (the brightest that does not saturate, `edge` pixels in from the
    frame's edges), or why there is none."""
    if stars is None:
        return Reason.NO_FRAME.text
    if not stars:
        return Reason.NO_STAR.text
    inside = [s for s in stars if edge <= s.x <= width - edge and edge <= s.y <= height - edge]
    if not inside:
        return Reason.AT_EDGE.text
    usable = [s for s in inside if not s.saturated and s.snr >= 8]
    if not usable:
        return Reason.SATURATED.text if all(s.saturated for s in inside) \
            else Reason.FAINT.text
    return max(usable, key=lambda s: s.flux)
