"""When, in one night, each target may be imaged: the sky sampled once a night
(`NightSky`: the Sun's altitude and the Moon's place every few minutes), a target's
constraints asked at each sample, and the edges of the spans where they all hold found to
seconds by bisection (`windows`). Each sample also tallies how far down the constraints it
got (`Tally`), so a target never imaged has its reason. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta

from indipycore import astro

from . import sky
from .constraints import Constraint
from .constraints import SkyAt
from .sky import Place

SAMPLE = timedelta(minutes=5)
EDGE = timedelta(seconds=5)
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class NightSky:
    """The sky between `start` and `end` (a night) at `place`, sampled every `SAMPLE`."""

    place: Place
    times: tuple[datetime, ...]
    lst: tuple[float, ...]
    sun_altitude: tuple[float, ...]
    moon: tuple[tuple[float, float], ...]

    @classmethod
    def sample(cls, place: Place, start: datetime, end: datetime) -> NightSky:
        count = max(1, math.ceil((end - start) / SAMPLE))
        times = tuple(min(end, start + index * SAMPLE) for index in range(count + 1))
        return cls(place, times,
                   tuple(astro.local_sidereal_time(t, place.longitude) for t in times),
                   tuple(sky.sun_altitude(t, place) for t in times),
                   tuple(sky.moon_radec(t, place) for t in times))

    def sky_at(self, index: int, ra: float, dec: float) -> SkyAt:
        """The target at `ra`, `dec` (of date) at sample `index`."""
        ha = astro.hour_angle(self.lst[index], ra)
        moon_ra, moon_dec = self.moon[index]
        return SkyAt(self.times[index], astro.altitude(ha, dec, self.place.latitude),
                     astro.azimuth(ha, dec, self.place.latitude), self.sun_altitude[index],
                     sky.separation(ra, dec, moon_ra, moon_dec))

    def sky_when(self, when: datetime, ra: float, dec: float) -> SkyAt:
        """The target at any moment (between samples: the edges of a window)."""
        altitude, azimuth = sky.altaz(ra, dec, when, self.place)
        return SkyAt(when, altitude, azimuth, sky.sun_altitude(when, self.place),
                     sky.separation(ra, dec, *sky.moon_radec(when, self.place)))


@dataclass
class Tally:
    """Over the samples seen: how many got past each constraint (`passed[k]`: the first
    k+1 held), and the highest altitude reached while the constraints before altitude held."""

    passed: list[int] = field(default_factory=list)
    samples: int = 0

    def add(self, held: int, size: int) -> None:
        if len(self.passed) < size:
            self.passed.extend([0] * (size - len(self.passed)))
        self.samples += 1
        for index in range(held):
            self.passed[index] += 1

    def never(self, constraints: Sequence[Constraint]) -> str | None:
        """The reason of the first constraint that never held, or None."""
        for index, constraint in enumerate(constraints):
            if index >= len(self.passed) or self.passed[index] == 0:
                return constraint.never
        return None


def _held(constraints: Sequence[Constraint], at: SkyAt) -> int:
    """How many of the constraints hold, in order, before the first that does not."""
    for index, constraint in enumerate(constraints):
        if not constraint(at):
            return index
    return len(constraints)


def windows(night: NightSky, ra: float, dec: float, constraints: Sequence[Constraint],
            tally: Tally | None = None) -> list[Span]:
    """The spans of the night when every constraint holds for the target at J2000 `ra`
    (hours), `dec` (degrees), their edges to `EDGE`."""
    ra, dec = astro.precess_from_j2000(ra, dec, night.times[len(night.times) // 2])
    size = len(constraints)
    oks = []
    for index in range(len(night.times)):
        held = _held(constraints, night.sky_at(index, ra, dec))
        if tally is not None:
            tally.add(held, size)
        oks.append(held == size)
    spans: list[Span] = []
    open_at: datetime | None = night.times[0] if oks[0] else None
    for index in range(1, len(oks)):
        if oks[index] == oks[index - 1]:
            continue
        edge = _edge(night, ra, dec, constraints, index - 1, oks[index - 1])
        if oks[index]:
            open_at = edge
        elif open_at is not None:
            spans.append((open_at, edge))
            open_at = None
    if open_at is not None:
        spans.append((open_at, night.times[-1]))
    return [(start, end) for start, end in spans if end > start]


def _edge(night: NightSky, ra: float, dec: float, constraints: Sequence[Constraint],
          index: int, ok_before: bool) -> datetime:
    """The moment between samples `index` and `index + 1` where the answer changes."""
    low, high = night.times[index], night.times[index + 1]
    size = len(constraints)
    while high - low > EDGE:
        middle = low + (high - low) / 2
        if (_held(constraints, night.sky_when(middle, ra, dec)) == size) == ok_before:
            low = middle
        else:
            high = middle
    return high
