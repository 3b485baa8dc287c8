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
from .sky import Place
from .skyrules import Constraint
from .skyrules import SkyAt

SAMPLE = timedelta(minutes=5)
EDGE = timedelta(seconds=5)
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Placed:
    """A target's place of date, with the sines and cosines every sample needs."""

    ra: float  # radians
    sin_dec: float
    cos_dec: float

    @classmethod
    def of(cls, ra_hours: float, dec: float) -> Placed:
        return cls(math.radians(ra_hours * 15.0), math.sin(math.radians(dec)),
                   math.cos(math.radians(dec)))


@dataclass(frozen=True)
class NightSky:
    """The sky between `start` and `end` (a night) at `place`, sampled every `SAMPLE`: the
    local sidereal time, the Sun's altitude, the Moon's topocentric place (RA in radians,
    the sine and cosine of its Dec). Between samples the Sun and the Moon are interpolated
    (over 5 minutes the error is far below a hundredth of a degree)."""

    place: Place
    times: tuple[datetime, ...]
    lst: tuple[float, ...]
    sun_altitude: tuple[float, ...]
    moon: tuple[tuple[float, float, float], ...]

    @classmethod
    def sample(cls, place: Place, start: datetime, end: datetime) -> NightSky:
        count = max(1, math.ceil((end - start) / SAMPLE))
        times = tuple(min(end, start + index * SAMPLE) for index in range(count + 1))
        moon = []
        for t in times:
            ra, dec = sky.moon_radec(t, place)
            moon.append((math.radians(ra * 15.0), math.sin(math.radians(dec)),
                         math.cos(math.radians(dec))))
        return cls(place, times, tuple(cls._lst(t, place) for t in times),
                   tuple(sky.sun_altitude(t, place) for t in times), tuple(moon))

    @staticmethod
    def _lst(when: datetime, place: Place) -> float:
        return math.radians(astro.local_sidereal_time(when, place.longitude) * 15.0)

    def _at(self, target: Placed, when: datetime, lst: float, sun: float,
            moon: tuple[float, float, float]) -> SkyAt:
        phi = math.radians(self.place.latitude)
        sin_phi, cos_phi = math.sin(phi), math.cos(phi)
        ha = lst - target.ra
        cos_ha = math.cos(ha)
        altitude = math.degrees(math.asin(max(-1.0, min(1.0, sin_phi * target.sin_dec
                                                          + cos_phi * target.cos_dec * cos_ha))))
        azimuth = math.degrees(math.atan2(
            -math.sin(ha) * target.cos_dec,
            cos_phi * target.sin_dec - sin_phi * target.cos_dec * cos_ha)) % 360.0
        moon_ra, moon_sin, moon_cos = moon
        cosine = (target.sin_dec * moon_sin
                  + target.cos_dec * moon_cos * math.cos(target.ra - moon_ra))
        return SkyAt(when, altitude, azimuth, sun,
                     math.degrees(math.acos(max(-1.0, min(1.0, cosine)))))

    def sky_at(self, index: int, target: Placed) -> SkyAt:
        """The target at sample `index`."""
        return self._at(target, self.times[index], self.lst[index], self.sun_altitude[index],
                        self.moon[index])

    def sky_when(self, when: datetime, target: Placed) -> SkyAt:
        """The target at any moment of the night (the edges of a window)."""
        index = max(0, min(len(self.times) - 2, int((when - self.times[0]) / SAMPLE)))
        if len(self.times) == 1:
            return self.sky_at(0, target)
        t0, t1 = self.times[index], self.times[index + 1]
        f = 0.0 if t1 == t0 else (when - t0) / (t1 - t0)
        sun = self.sun_altitude[index] + f * (self.sun_altitude[index + 1]
                                              - self.sun_altitude[index])
        (ra0, s0, c0), (ra1, s1, c1) = self.moon[index], self.moon[index + 1]
        dra = (ra1 - ra0 + math.pi) % (2 * math.pi) - math.pi
        return self._at(target, when, self._lst(when, self.place), sun,
                        (ra0 + f * dra, s0 + f * (s1 - s0), c0 + f * (c1 - c0)))


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
    target = Placed.of(*astro.precess_from_j2000(ra, dec, night.times[len(night.times) // 2]))
    size = len(constraints)
    oks = []
    for index in range(len(night.times)):
        held = _held(constraints, night.sky_at(index, target))
        if tally is not None:
            tally.add(held, size)
        oks.append(held == size)
    spans: list[Span] = []
    open_at: datetime | None = night.times[0] if oks[0] else None
    for index in range(1, len(oks)):
        if oks[index] == oks[index - 1]:
            continue
        edge = _edge(night, target, constraints, index - 1, oks[index - 1])
        if oks[index]:
            open_at = edge
        elif open_at is not None:
            spans.append((open_at, edge))
            open_at = None
    if open_at is not None:
        spans.append((open_at, night.times[-1]))
    return [(start, end) for start, end in spans if end > start]


def _edge(night: NightSky, target: Placed, constraints: Sequence[Constraint],
          index: int, ok_before: bool) -> datetime:
    """The moment between samples `index` and `index + 1` where the answer changes."""
    low, high = night.times[index], night.times[index + 1]
    size = len(constraints)
    while high - low > EDGE:
        middle = low + (high - low) / 2
        if (_held(constraints, night.sky_when(middle, target)) == size) == ok_before:
            low = middle
        else:
            high = middle
    return high
