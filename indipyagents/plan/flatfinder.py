"""Flats to an ADU target: the exposure (and the panel's brightness) that gives a flat its
level, found from the levels measured. Pure and sans-I/O: `FlatFinder` is told each frame's
median (`measured`) and answers what to do next (`Expose` again, the level `Found`, or
`Failed` with the levels seen); the agent takes the frames.

The model: a flat's median is the bias plus light proportional to the exposure and to the
panel's brightness, ``median = bias + rate * seconds * brightness``. The next exposure is
scaled from the last measured median through the bias: the bias given (the camera's
known offset, 0 when unknown; `knowing_bias` once measured), once two levels at different
exposures are measured the bias those two say (their line's intercept, as Ekos's solver
fits after two samples). A frame
within `tolerance` (a share of `adu`) is the one wanted: it is kept, so a learnt exposure
that still hits the target costs no test exposure at all.

- A level near the camera's full scale tells nothing of the light: the next has a twentieth of
  its light (`SATURATED_STEP`).
- A level that does not rise by `RISE` ADU when the exposure grows `ESCALATE` times (or
  reaches the camera's longest, the panel at its brightest), so little that the target
  would need more light than they give, is a panel that does not light: `Failed` after the
  second or third frame, naming the levels.
- An exposure outside the camera's range asks for the panel's brightness instead (NINA's
  dynamic brightness): the exposure kept in range, the brightness scaled; past the panel's
  range too, `Failed` says so.
- At most `tries` frames (5; NINA gives up after 5), then `Failed` with the levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

#: A level at or above this share of the full scale is saturated (tells nothing).
SATURATED = 0.98
#: A saturated frame's next light (exposure, or brightness) is this share of its own.
SATURATED_STEP = 0.05
#: How many times longer the next exposure is when a frame shows (almost) no light.
ESCALATE = 20.0
#: ADU a frame's median must rise over the first's before the light counts as seen.
RISE = 20.0
#: The most frames the finder asks for one level.
TRIES = 5


@dataclass(frozen=True, slots=True)
class Expose:
    """Take a flat of `seconds`, the panel at `brightness` (None: no brightness to set)."""

    seconds: float
    brightness: float | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """The last frame is within the tolerance: keep it; `seconds` and `brightness` are the
    exposure to learn."""

    seconds: float
    brightness: float | None
    median: float


@dataclass(frozen=True, slots=True)
class Failed:
    """No level within the tolerance: `why` says it, with the levels measured."""

    why: str
    levels: tuple[tuple[float, float], ...]


Verdict = Expose | Found | Failed


@dataclass(frozen=True, slots=True)
class Limits:
    """The camera's exposure range (s) and full scale (ADU), and the panel's brightness range
    (None: its brightness is not set by the finder)."""

    shortest: float = 0.001
    longest: float = 3600.0
    full: float = 65535.0
    dimmest: float | None = None
    brightest: float | None = None

    @property
    def dimmable(self) -> bool:
        return self.dimmest is not None and self.brightest is not None


@dataclass(frozen=True, slots=True)
class Sample:
    """One frame measured: its exposure, the panel's brightness, its median."""

    seconds: float
    brightness: float | None
    median: float


@dataclass
class FlatFinder:
    """Finds the exposure for flats of median `adu` within `tolerance` (a share of `adu`).
    `start` is the first exposure (a learnt one, or a guess), at `brightness`; `bias` the
    camera's level with no light (None: unknown, then fitted from two levels, else 0)."""

    adu: float
    tolerance: float
    start: float
    limits: Limits = field(default_factory=Limits)
    brightness: float | None = None
    bias: float | None = None
    tries: int = TRIES
    samples: list[Sample] = field(default_factory=list)

    def first(self) -> Expose:
        """The first frame to take."""
        return Expose(self._clamp(self.start), self.brightness)

    def within(self, median: float) -> bool:
        """Whether a flat of this median is within the tolerance."""
        return abs(median - self.adu) <= self.tolerance * self.adu

    @property
    def levels(self) -> tuple[tuple[float, float], ...]:
        """(seconds, median) of each frame measured so far."""
        return tuple((one.seconds, round(one.median, 1)) for one in self.samples)

    def measured(self, seconds: float, median: float) -> Verdict:
        """The frame asked for (`seconds`, at the brightness last asked) measured `median`."""
        sample = Sample(seconds, self.brightness, median)
        self.samples.append(sample)
        if self.within(median):
            return Found(seconds, self.brightness, median)
        if self._dark():
            return Failed("the panel does not light: the level does not rise with the "
                          f"exposure ({self._said()})", self.levels)
        if len(self.samples) >= self.tries:
            return Failed(f"no flat within {self.tolerance * 100:g}% of {self.adu:g} ADU in "
                          f"{len(self.samples)} tries ({self._said()})", self.levels)
        return self._next(sample)

    def knowing_bias(self, bias: float) -> Verdict:
        """The camera's bias measured (a frame with no light) after `measured` asked for
        another frame: that frame asked again, scaled through it."""
        self.bias = bias
        return self._next(self.samples[-1])

    def _said(self) -> str:
        return ", ".join(f"{seconds:g} s: {median:g} ADU" for seconds, median in self.levels)

    def _dark(self) -> bool:
        """Two frames, the later `ESCALATE` times the light of the earlier or more (or at
        the camera's and the panel's most), whose levels differ by less than `RISE`, so
        little that the target would need more light than the camera and panel give."""
        if len(self.samples) < 2:
            return False
        first, last = self.samples[0], self.samples[-1]
        more = self._light(last) / self._light(first)
        at_most = last.seconds >= self.limits.longest and (
            not self.limits.dimmable or last.brightness == self.limits.brightest)
        rise = last.median - first.median
        if not (more >= ESCALATE or at_most) or rise >= RISE:
            return False
        wanted = (self._light(last) - self._light(first)) * (self.adu - first.median) \
            / max(rise, 1e-9)
        most = self.limits.longest * (self.limits.brightest if self.limits.dimmable
                                      and self.limits.brightest else
                                      (last.brightness or 1.0))
        return wanted > most

    @staticmethod
    def _light(sample: Sample) -> float:
        return sample.seconds * (sample.brightness if sample.brightness else 1.0)

    def _bias(self) -> float:
        """The bias given, else the one two unsaturated frames of different light say (their
        line's intercept), else 0."""
        if self.bias is not None:
            return self.bias
        usable = [one for one in self.samples if one.median < SATURATED * self.limits.full
                  and one.median >= RISE]
        if len(usable) >= 2:
            a, b = usable[-2], usable[-1]
            la, lb = self._light(a), self._light(b)
            if abs(lb - la) > 0.1 * max(la, lb):
                slope = (b.median - a.median) / (lb - la)
                if slope > 0:
                    return min(max(0.0, a.median - slope * la), min(a.median, b.median) - 1)
        return 0.0

    def _next(self, sample: Sample) -> Verdict:
        """The light the target wants, scaled from `sample`, as an exposure in range (the
        brightness asked for when it cannot be)."""
        light = self._light(sample)
        if sample.median >= SATURATED * self.limits.full:
            wanted = light * SATURATED_STEP
        else:
            bias = self._bias()
            signal = sample.median - bias
            if signal < RISE:
                wanted = light * ESCALATE
            else:
                wanted = light * (self.adu - bias) / signal
        return self._asked(wanted)

    def _asked(self, light: float) -> Verdict:
        """`light` (seconds x brightness) as an exposure the camera takes, changing the
        brightness only where the exposure alone would leave the camera's range."""
        limits = self.limits
        brightness = self.brightness if self.brightness else 1.0
        seconds = light / brightness
        if limits.shortest <= seconds <= limits.longest or not limits.dimmable:
            if not limits.shortest <= seconds <= limits.longest and \
                    self._clamp(seconds) == self.samples[-1].seconds:
                return Failed(f"the exposure wanted, {seconds:.3g} s, is outside the "
                              f"camera's {limits.shortest:g}-{limits.longest:g} s "
                              f"({self._said()})", self.levels)
            return Expose(self._clamp(seconds), self.brightness)
        assert limits.dimmest is not None and limits.brightest is not None
        seconds = self._clamp(seconds)
        wanted = light / seconds
        new = min(max(wanted, max(limits.dimmest, 1e-9)), limits.brightest)
        if new == self.brightness and self._clamp(light / new) == self.samples[-1].seconds:
            return Failed(f"the level wants {light / new:.3g} s at brightness {new:g}, "
                          f"outside the camera's {limits.shortest:g}-{limits.longest:g} s "
                          f"({self._said()})", self.levels)
        self.brightness = new
        return Expose(self._clamp(light / new), new)

    def _clamp(self, seconds: float) -> float:
        return min(max(seconds, self.limits.shortest), self.limits.longest)
