"""A scheduled plan's constraints as values: what a target asks of the sky (`Constraints`,
its ``[targets.constraints]``) and what the whole plan does (`Schedule`, its top-level
``[schedule]``). A plan with a `Schedule` is scheduled (`indipyagents.schedule`) instead of
taken in order. Pure, standard library only; read and written by `scheduling`.

A constraint a target leaves out (None) is the schedule's; `effective` fills them in, so the
scheduler sees one complete `Constraints` a target. Angles in degrees, azimuth east of north.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Literal

Twilight = Literal["civil", "nautical", "astronomical"]
#: The Sun's altitude below which each twilight's night begins (astroplan's and Ekos's).
TWILIGHT_SUN_ALTITUDE: dict[Twilight, float] = {
    "civil": -6.0, "nautical": -12.0, "astronomical": -18.0}
TWILIGHTS: tuple[Twilight, ...] = ("civil", "nautical", "astronomical")
#: Ekos's default priority; 1 is imaged first.
DEFAULT_PRIORITY = 10
LOWEST_PRIORITY = 20
#: A mount's slew in degrees a second and the seconds it settles after one: indilib's
#: telescope simulator and most goto mounts slew at 2-4 deg/s; NINA's and Ekos's settle
#: times are of tens of seconds.
DEFAULT_SLEW_RATE = 2.0
DEFAULT_SETTLE = 30.0
#: The nights a scheduled plan is run over by default: the month of an observer's project.
DEFAULT_NIGHTS = 30


@dataclass(frozen=True)
class Constraints:
    """What a target needs to be imaged: at least `min_altitude` degrees high (and above the
    schedule's horizon), at least `moon_separation` degrees from the Moon, the Sun below
    `twilight`, between `after` and `before` (aware datetimes); `priority` 1 is taken first
    (ties: the target that sets first, then the plan's order); once chosen it keeps the
    telescope at least `min_minutes` (and no block shorter than that is begun, unless the
    frames left take less). None: the schedule's."""

    min_altitude: float | None = None
    moon_separation: float | None = None
    twilight: Twilight | None = None
    priority: int = DEFAULT_PRIORITY
    min_minutes: float | None = None
    after: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class Schedule:
    """The plan is scheduled. `twilight`, `min_altitude`, `moon_separation` and `min_minutes`
    are every target's unless it says otherwise; `horizon` is the site's artificial horizon,
    (azimuth, altitude) pairs joined by straight lines around the sky, which every target
    must clear; a frame takes its exposure plus `frame_overhead` seconds (download, dither).
    A block of another target than the last begins after the slew to it: the angle between
    the two at `slew_rate` degrees a second, plus `settle` seconds (the first of a night slews
    from the park, taken at the pole). The agent runs `nights` nights from the one it began
    on, each taking up what the last left, before it gives up on the frames left."""

    twilight: Twilight = "astronomical"
    horizon: tuple[tuple[float, float], ...] = ()
    min_altitude: float = 0.0
    moon_separation: float = 0.0
    min_minutes: float = 30.0
    frame_overhead: float = 5.0
    slew_rate: float = DEFAULT_SLEW_RATE
    settle: float = DEFAULT_SETTLE
    nights: int = DEFAULT_NIGHTS


def effective(schedule: Schedule, constraints: Constraints | None) -> Constraints:
    """The target's constraints with what it leaves out taken from the schedule."""
    own = constraints or Constraints()
    return replace(
        own,
        min_altitude=schedule.min_altitude if own.min_altitude is None else own.min_altitude,
        moon_separation=(schedule.moon_separation if own.moon_separation is None
                         else own.moon_separation),
        twilight=schedule.twilight if own.twilight is None else own.twilight,
        min_minutes=schedule.min_minutes if own.min_minutes is None else own.min_minutes)


def horizon_altitude(horizon: tuple[tuple[float, float], ...], azimuth: float) -> float:
    """The horizon's altitude at `azimuth`: straight lines between the points given, around
    through north (0 with no points; one point is a level horizon)."""
    if not horizon:
        return 0.0
    points = sorted(horizon)
    if len(points) == 1:
        return points[0][1]
    azimuth %= 360.0
    for (az0, alt0), (az1, alt1) in itertools.pairwise(points):
        if az0 <= azimuth <= az1:
            return alt0 if az1 == az0 else alt0 + (alt1 - alt0) * (azimuth - az0) / (az1 - az0)
    # Between the last point and the first, through north.
    (az0, alt0), (az1, alt1) = points[-1], points[0]
    span = az1 + 360.0 - az0
    past = (azimuth - az0) % 360.0
    return alt0 + (alt1 - alt0) * past / span
