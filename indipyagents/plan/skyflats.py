"""Sky flats at dusk or dawn: where to point, each exposure, the filters' order, when to
stop. Pure and sans-I/O: `SkyFlats` is told each frame measured (`measured`) and answers the
next frame's exposure (`SkyExpose`), a wait while the sky is too bright at dusk or too dark at
dawn (`SkyWait`), or that a filter's flats are over (`SkyOver`, saying why); the agent points,
exposes and keeps the frames within the tolerance.

Where: the twilight sky is most even opposite the Sun, about 20 degrees from the zenith
(`ZENITH_DISTANCE`; Chromey and Hasselbacher 1996), each frame a little apart (`OFFSET`
degrees in a small ring, `pointing`) so the stars that show through do not stack. The Sun
is given (the agent's is the scheduler's, `schedule.sky`: the Astronomical Almanac's
formula, 0.01 degree).

The sky's change (the stated model): the twilight sky fades by `MAG_PER_DEGREE` (1)
magnitude for each degree the Sun sinks, ten times every 2.5 degrees between 0 and -12, so its
rate of change is the Sun's altitude's (`fading`: natural-log units a second, positive at
dusk, negative at dawn; the Sun's rate is given). Once a filter has two frames a few seconds apart, the rate they
measured is used instead. A frame begun at ``s`` of ``t`` seconds collects ``r(s) (1 -
exp(-K t)) / K`` over the bias, ``K`` the fading a second of exposure (`pace` sky seconds
pass in one: 1 but on a rehearsal's sky clock), so the exposure that reaches ``adu`` from
a rate ``r`` is ``-ln(1 - (adu - bias) K / r) / K``; where the sky fades faster than that
integral can reach, the level is out of reach (the sky is too dark).

Filters: by bandwidth (`bandwidth`: narrowband 3-7 nm, colour about 100, luminance all of
it), narrow first at dusk (it needs the most light, the brightest sky), wide first at dawn
(`sky_order`). A new filter's first exposure is the last filter's light scaled by their
bandwidths (a guess its first frame checks).

When to stop: at dusk a filter's flats are over once its exposure would pass the camera's
longest (the sky too dark), at dawn once it would be under the shortest (too bright); the
other way the sky is waited for (`SkyWait`), up to `max_wait` seconds, after which the sky is
said too bright (dusk) or too dark (dawn). `shortfall` says which filters got fewer flats
than asked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Literal

from indipycore import astro

from .flatfinder import ESCALATE
from .flatfinder import RISE
from .flatfinder import SATURATED
from .flatfinder import SATURATED_STEP

Source = Literal["dusk", "dawn"]
SOURCES: tuple[Source, ...] = ("dusk", "dawn")

#: Degrees from the zenith the flats are taken at, opposite the Sun.
ZENITH_DISTANCE = 20.0
#: Degrees between the frames' pointings (a ring of `RING` about the point).
OFFSET = 0.25
RING = 6
#: The stated twilight: magnitudes fainter for each degree the Sun sinks.
MAG_PER_DEGREE = 1.0
#: Natural-log units of light per magnitude.
_LN_PER_MAG = 0.4 * math.log(10.0)
#: The most sky seconds waited for the sky to fade (dusk) or brighten (dawn) into range.
MAX_WAIT = 1800.0
#: Sky seconds two frames of a filter lie apart at least for their rate to be measured.
APART = 2.0
#: A filter's bandwidth (nm) by its name (lower case), a name not known counting as colour.
BANDWIDTH = {"l": 300.0, "lum": 300.0, "luminance": 300.0, "clear": 300.0, "none": 300.0,
             "lpr": 240.0, "r": 100.0, "g": 100.0, "b": 100.0, "red": 100.0, "green": 100.0,
             "blue": 100.0, "ha": 6.0, "h_alpha": 6.0, "halpha": 6.0, "h-alpha": 6.0,
             "oiii": 6.0, "o3": 6.0, "sii": 6.0, "s2": 6.0, "nii": 6.0}
COLOUR = 100.0


def bandwidth(name: str | int | None) -> float:
    """A filter's bandwidth (nm): narrowband 6, colour 100, luminance 300 (no filter too)."""
    if name is None:
        return BANDWIDTH["none"]
    return BANDWIDTH.get(str(name).strip().lower(), COLOUR)


def sky_key(name: str | int | None, source: Source) -> float:
    """A sort key putting filters in the order the sky allows (`sky_order`)."""
    return bandwidth(name) if source == "dusk" else -bandwidth(name)


def sky_order(filters: Iterable[str | int | None], source: Source) -> list[str | int | None]:
    """`filters` in the order the sky allows: narrow before wide at dusk, wide before narrow
    at dawn (ties keep their order)."""
    return sorted(filters, key=lambda name: sky_key(name, source))


def pointing(sun_azimuth: float, frame: int = 0) -> tuple[float, float]:
    """Where frame number `frame` is taken (altitude, azimuth; degrees), the Sun at
    `sun_azimuth`: `ZENITH_DISTANCE` from the zenith opposite it, frame 0 there and each
    later one `OFFSET` degrees from it, round a ring."""
    altitude = 90.0 - ZENITH_DISTANCE
    azimuth = (sun_azimuth + 180.0) % 360.0
    if frame:
        angle = 2.0 * math.pi * ((frame - 1) % RING) / RING
        reach = OFFSET * (1 + (frame - 1) // RING)
        altitude += reach * math.sin(angle)
        azimuth = (azimuth + reach * math.cos(angle) / math.cos(math.radians(altitude))) % 360
    return altitude, azimuth


def radec_of(altitude: float, azimuth: float, when: datetime, latitude: float,
             longitude: float) -> tuple[float, float]:
    """The J2000 RA (hours) and Dec (degrees) at `altitude` and `azimuth` (from the north,
    east positive) at the site (`longitude` east) and `when`."""
    alt, az, lat = (math.radians(value) for value in (altitude, azimuth, latitude))
    sin_dec = math.sin(alt) * math.sin(lat) + math.cos(alt) * math.cos(lat) * math.cos(az)
    dec = math.asin(max(-1.0, min(1.0, sin_dec)))
    ha = math.atan2(-math.sin(az) * math.cos(alt),
                    math.sin(alt) * math.cos(lat) - math.cos(alt) * math.sin(lat) * math.cos(az))
    ra = astro.wrap_hours(astro.local_sidereal_time(when, longitude) - math.degrees(ha) / 15.0)
    return astro.precess_to_j2000(ra, math.degrees(dec), when)


def fading(sun_rate: float) -> float:
    """The twilight's fading (natural-log units of light a sky second; positive as the Sun
    sets, negative as it rises), the Sun's altitude changing `sun_rate` degrees a second: the
    stated model's."""
    return -_LN_PER_MAG * MAG_PER_DEGREE * sun_rate


@dataclass(frozen=True, slots=True)
class SkyExpose:
    """Take a flat of `seconds`."""

    seconds: float


@dataclass(frozen=True, slots=True)
class SkyWait:
    """The sky is not yet in range: wait `seconds` (sky seconds); `why` says it."""

    seconds: float
    why: str


@dataclass(frozen=True, slots=True)
class SkyOver:
    """This filter's flats are over: `why` (the sky too dark, or too bright)."""

    why: str


SkyVerdict = SkyExpose | SkyWait | SkyOver


@dataclass(frozen=True, slots=True)
class SkySample:
    """One frame: its filter, its start (sky seconds), exposure, median, and the pace."""

    filter: str
    start: float
    seconds: float
    median: float
    pace: float


@dataclass
class SkyFlats:
    """Sky flats of median `adu` within `tolerance` (a share of it) at `source`, with
    exposures between `shortest` and `longest` seconds on a camera of `full` ADU and `bias`;
    `first` the first frame's exposure when nothing is measured yet."""

    adu: float
    tolerance: float
    source: Source
    shortest: float = 0.001
    longest: float = 60.0
    full: float = 65535.0
    bias: float = 0.0
    first: float = 1.0
    max_wait: float = MAX_WAIT
    samples: list[SkySample] = field(default_factory=list)

    def within(self, median: float) -> bool:
        """Whether a flat of this median is within the tolerance."""
        return abs(median - self.adu) <= self.tolerance * self.adu

    def measured(self, filter: str, start: float, seconds: float, median: float,
                 pace: float = 1.0) -> bool:
        """A frame through `filter` begun at `start` (sky seconds) of `seconds` measured
        `median`, `pace` sky seconds passing in one of its seconds: whether it is kept."""
        self.samples.append(SkySample(filter, start, seconds, median, pace))
        return self.within(median)

    def levels(self, filter: str) -> str:
        """The levels `filter`'s frames measured, for a message."""
        return ", ".join(f"{one.seconds:.3g} s: {one.median:.0f} ADU"
                         for one in self.samples if one.filter == filter) or "none measured"

    def next(self, filter: str, now: float, model: float, pace: float = 1.0) -> SkyVerdict:
        """The next frame through `filter`, begun at `now` (sky seconds), the model's fading
        `model` (`fading`), `pace` sky seconds a second of exposure."""
        rate = self._rate(filter, now, model)
        if rate is None:
            return SkyExpose(self._clamp(self.first))
        fade = self._fade(filter, model)
        seconds = self._exposure(rate, fade * pace)
        dusk = self.source == "dusk"
        if seconds is not None and self.shortest * 0.999 <= seconds <= self.longest * 1.001:
            return SkyExpose(self._clamp(seconds))
        too_short = seconds is not None and seconds < self.shortest
        if too_short != dusk:
            said = "too dark" if dusk else "too bright"
            return SkyOver(f"the sky is {said} for {filter}: {self._wanted(seconds)} "
                        f"({self.levels(filter)})")
        # dusk too bright, or dawn too dark: the sky comes into range later
        edge = self.shortest if dusk else self.longest
        needed = (self.adu - self.bias) / _gather(fade * pace, edge)
        wait = math.log(rate / needed) / fade if fade and rate > 0 else math.inf
        said = "too bright" if dusk else "too dark"
        if not wait <= self.max_wait:
            return SkyOver(f"the sky is {said} for {filter} and will not be within "
                        f"{self.max_wait / 60:.0f} min: {self._wanted(seconds)}")
        wait = max(wait, 1.0)
        return SkyWait(wait, f"the sky is {said} for {filter} yet: {self._wanted(seconds)}, "
                          f"waiting {wait:.0f} s")

    def _wanted(self, seconds: float | None) -> str:
        span = f"the camera's {self.shortest:g}-{self.longest:g} s"
        if seconds is None:
            return f"{self.adu:g} ADU is out of reach as it fades"
        return f"{self.adu:g} ADU wants {seconds:.3g} s, outside {span}"

    def _exposure(self, rate: float, fade: float) -> float | None:
        """The exposure reaching `adu` from a rate `rate` (ADU a second) fading `fade` a
        second of exposure; None when the sky fades too fast for it."""
        signal = self.adu - self.bias
        if rate <= 0:
            return None
        if abs(fade) < 1e-12:
            return signal / rate
        inside = 1.0 - signal * fade / rate
        return None if inside <= 0 else -math.log(inside) / fade

    def _rate(self, filter: str, now: float, model: float) -> float | None:
        """The sky's rate through `filter` at `now` (ADU a second of exposure over the bias),
        from the filter's last frame, else the last frame's scaled by bandwidth; None when
        nothing is measured."""
        own = [one for one in self.samples if one.filter == filter]
        last = own[-1] if own else (self.samples[-1] if self.samples else None)
        if last is None:
            return None
        fade = self._fade(filter, model)
        rate = self._rate_of(last, fade) * math.exp(-fade * (now - last.start))
        return rate if own else rate * bandwidth(filter) / bandwidth(last.filter)

    def _rate_of(self, sample: SkySample, fade: float) -> float:
        """The rate at `sample`'s start its level says (a saturated or empty frame's a
        bound: a twentieth of it, or `ESCALATE` times)."""
        light = _gather(fade * sample.pace, sample.seconds)
        signal = sample.median - self.bias
        if sample.median >= SATURATED * self.full:
            return signal / light / SATURATED_STEP
        if signal < RISE:
            return max(signal, RISE) / light / ESCALATE
        return signal / light

    def _fade(self, filter: str, model: float) -> float:
        """The fading (a sky second): the one `filter`'s last two usable frames measured,
        where they lie `APART`, else the model's."""
        usable = [one for one in self.samples if one.filter == filter
                  and RISE <= one.median - self.bias and one.median < SATURATED * self.full]
        if len(usable) >= 2:
            a, b = usable[-2], usable[-1]
            if b.start - a.start >= APART:
                ra, rb = self._rate_of(a, model), self._rate_of(b, model)
                if ra > 0 and rb > 0:
                    return math.log(ra / rb) / (b.start - a.start)
        return model

    def _clamp(self, seconds: float) -> float:
        return min(max(seconds, self.shortest), self.longest)


def _gather(fade: float, seconds: float) -> float:
    """The seconds' worth of the starting rate an exposure of `seconds` collects as the
    light fades by `fade` a second: ``(1 - exp(-fade t)) / fade``."""
    if abs(fade * seconds) < 1e-9:
        return seconds
    return (1.0 - math.exp(-fade * seconds)) / fade


def shortfall(asked: Mapping[str, int], kept: Mapping[str, int]) -> str:
    """Which filters got fewer flats than asked ("" when none did)."""
    short = [f"{name} {kept.get(name, 0)} of {count}" for name, count in asked.items()
             if kept.get(name, 0) < count]
    return "" if not short else "fewer sky flats than asked: " + ", ".join(short)
