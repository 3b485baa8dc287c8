"""A target's constraints as pure callables, astroplan's shape (`AltitudeConstraint`,
`AtNightConstraint`, `MoonSeparationConstraint`, `TimeConstraint`): each is asked about one
`SkyAt` (the target and the sky at one moment) and answers whether it holds; each says, in
`never`, why a target is never imaged when it is the one that never held. Like
`plan.decisions`, they decide from what they are given: the sky is computed elsewhere (`sky`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from indipyagents.plan.constraints import TWILIGHT_SUN_ALTITUDE
from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Twilight
from indipyagents.plan.constraints import horizon_altitude


@dataclass(frozen=True, slots=True)
class SkyAt:
    """One target at one moment: its altitude and azimuth, the Sun's altitude, the Moon's
    separation from it (degrees)."""

    when: datetime
    altitude: float
    azimuth: float
    sun_altitude: float
    moon_separation: float


class Constraint(Protocol):
    def __call__(self, sky: SkyAt) -> bool:
        """Whether the constraint holds there and then."""
        ...

    @property
    def never(self) -> str:
        """Why the target is never imaged, when this is the constraint that never held
        (those before it holding)."""
        ...


@dataclass(frozen=True)
class TimeConstraint:
    """Between `after` and `before` (aware datetimes, either may be None)."""

    after: datetime | None = None
    before: datetime | None = None

    def __call__(self, sky: SkyAt) -> bool:
        return ((self.after is None or sky.when >= self.after)
                and (self.before is None or sky.when < self.before))

    @property
    def never(self) -> str:
        after = "" if self.after is None else f" after {self.after.isoformat()}"
        before = "" if self.before is None else f" before {self.before.isoformat()}"
        return f"its time window ({(after + before).strip()}) is outside the nights asked"


@dataclass(frozen=True)
class AtNightConstraint:
    """The Sun below the twilight's altitude (civil -6, nautical -12, astronomical -18)."""

    twilight: Twilight = "astronomical"

    def __call__(self, sky: SkyAt) -> bool:
        return sky.sun_altitude < TWILIGHT_SUN_ALTITUDE[self.twilight]

    @property
    def never(self) -> str:
        return f"never {self.twilight} night in its window"


@dataclass(frozen=True)
class AltitudeConstraint:
    """At least `min_altitude` degrees high and above the `horizon` where it stands."""

    min_altitude: float = 0.0
    horizon: tuple[tuple[float, float], ...] = ()

    def __call__(self, sky: SkyAt) -> bool:
        if sky.altitude < self.min_altitude:
            return False
        return not self.horizon or sky.altitude >= horizon_altitude(self.horizon, sky.azimuth)

    @property
    def never(self) -> str:
        horizon = " and above the horizon" if self.horizon else ""
        return f"never {self.min_altitude:g} degrees high{horizon} while dark"


@dataclass(frozen=True)
class MoonSeparationConstraint:
    """At least `min_degrees` from the Moon (topocentric, as in the observer's AltAz frame;
    whether the Moon is up or not, as astroplan's)."""

    min_degrees: float = 0.0

    def __call__(self, sky: SkyAt) -> bool:
        return sky.moon_separation >= self.min_degrees

    @property
    def never(self) -> str:
        return f"always within {self.min_degrees:g} degrees of the Moon while high and dark"


def constraints_of(constraints: Constraints,
                   horizon: tuple[tuple[float, float], ...]) -> tuple[Constraint, ...]:
    """A target's effective constraints (`plan.constraints.effective`) as callables, in the
    order a reason is told: time, night, altitude, Moon."""
    found: list[Constraint] = []
    if constraints.after is not None or constraints.before is not None:
        found.append(TimeConstraint(constraints.after, constraints.before))
    found.append(AtNightConstraint(constraints.twilight or "astronomical"))
    found.append(AltitudeConstraint(constraints.min_altitude or 0.0, horizon))
    if constraints.moon_separation:
        found.append(MoonSeparationConstraint(constraints.moon_separation))
    return tuple(found)
