"""Simulated motion over time: an equatorial mount's axes, and anything moving along a line.

Pure state machines: nothing here reads a clock or sleeps. The owner calls `advance` with the
seconds that passed (and, for the sky, the local sidereal time at the end of them), so the
simulators in ``examples/`` run them against the wall clock and the tests against made-up time.

- `EquatorialMotion`: RA/Dec slewing to a target at a slew rate on both axes, sidereal
  tracking (RA stays put while tracking; with tracking off the sky turns under the mount and
  RA grows with the sidereal time the owner passes, so on a rehearsal's sky clock running
  faster than the wall an idle or parked mount keeps up with the sky), slews to an hour angle (parking), manual motion, timed guide
  pulses (each axis on its own, beside tracking), sync, stop. It knows nothing of pier sides:
  the mount role chooses one at each slew (a German equatorial's behaviour).
- `LinearMotion`: a focuser's position (or a filter wheel's) moving to a target at a speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from indipycore.astro import SIDEREAL_HOURS_PER_SECOND
from indipycore.astro import hours_between
from indipycore.astro import wrap_hours

__all__ = ["EquatorialMotion", "LinearMotion", "idle_turn"]


def _toward(value: float, target: float, delta: float, step: float) -> float:
    """`value` moved `delta` (its way to `target`), but by at most `step` (>= 0): exactly
    `target` once within reach, so a move ends on its target whatever the rounding."""
    if abs(delta) <= step:
        return target
    return value + math.copysign(step, delta)


def idle_turn(seconds: float, before: float | None, after: float) -> float:
    """The hours of RA the sky turns under a mount standing still while the sidereal time
    goes from `before` to `after` (hours) in `seconds`: the sidereal time's change (the
    short way round, so one step must stay under 12 sidereal hours), or `seconds` at the
    sidereal rate when no earlier time is known (the first step)."""
    if before is None:
        return seconds * SIDEREAL_HOURS_PER_SECOND
    return hours_between(before, after)


@dataclass
class EquatorialMotion:
    """An equatorial mount's pointing, in JNow RA (hours, [0, 24)) and Dec (degrees).

    `slew_rate` is degrees per second on each axis (the RA axis turns 15 degrees per hour of
    RA). A slew ends exactly on its target; `slewing` is True until then. With `tracking` off
    the mount stands still against the ground, so its RA grows with sidereal time.
    """

    ra: float = 0.0
    dec: float = 90.0
    tracking: bool = False
    slew_rate: float = 3.0
    _target_ra: float | None = None
    _target_dec: float = 0.0
    _target_is_ha: bool = False
    _then: tuple[float, float] | None = None  # where a slew through the pole goes next
    _motion_ns: int = 0
    _motion_we: int = 0
    _motion_rate: float = 0.0
    _guide_ns: float = 0.0  # degrees per second, north positive
    _guide_ns_left: float = 0.0  # seconds of the pulse still to run
    _guide_we: float = 0.0  # degrees per second, west positive
    _guide_we_left: float = 0.0
    _lst: float | None = None  # the sidereal time `advance` was last given

    def __post_init__(self) -> None:
        if not self.slew_rate > 0:
            raise ValueError(f"slew_rate must be positive, not {self.slew_rate!r}")
        self.ra = wrap_hours(self.ra)
        self.dec = max(-90.0, min(90.0, self.dec))

    @property
    def slewing(self) -> bool:
        """Whether a slew (goto or park) is under way."""
        return self._target_ra is not None

    @property
    def moving(self) -> bool:
        """Whether a manual motion (north/south, west/east) is under way."""
        return bool(self._motion_ns or self._motion_we)

    @property
    def guiding(self) -> bool:
        """Whether a timed guide pulse is under way on either axis."""
        return self._guide_ns_left > 0 or self._guide_we_left > 0

    @property
    def guiding_ns(self) -> bool:
        """Whether a north or south pulse is under way."""
        return self._guide_ns_left > 0

    @property
    def guiding_we(self) -> bool:
        """Whether a west or east pulse is under way."""
        return self._guide_we_left > 0

    def slew_to(self, ra: float, dec: float, *, through_pole: bool = False) -> None:
        """Start a slew to RA (hours) and Dec (degrees); stops any manual motion or pulse.
        `through_pole`: a German equatorial mount's meridian flip, whose tube swings over
        the pole (the one on the Dec's side) and comes down on the other side of the pier."""
        self._target_is_ha = False
        self._motion_ns = self._motion_we = 0
        self._guide_ns_left = self._guide_we_left = 0.0
        self._then = None
        dec = max(-90.0, min(90.0, dec))
        if through_pole:
            self._then = (wrap_hours(ra), dec)
            self._target_ra, self._target_dec = self.ra, math.copysign(90.0, dec)
        else:
            self._target_ra, self._target_dec = wrap_hours(ra), dec

    def guide(self, north_south: int, west_east: int, rate: float, seconds: float) -> None:
        """A timed guide pulse of `seconds` at `rate` degrees per second on each axis whose
        direction is not 0 (`north_south` +1 north, -1 south; `west_east` +1 west, -1 east),
        replacing the pulse running on that axis. It runs beside tracking, for exactly the
        time `advance` lets pass: a west pulse takes RA down by `rate` x `seconds` of RA angle,
        as indilib's simulator does (not scaled by the Dec)."""
        if north_south not in (-1, 0, 1) or west_east not in (-1, 0, 1):
            raise ValueError("directions are -1, 0 or +1")
        if rate < 0 or seconds < 0:
            raise ValueError("a pulse's rate and length are not negative")
        # A pulse under a nanosecond is none: its remainder could otherwise outlive every
        # step `advance` can take (a subnormal float), leaving the axis guiding for ever.
        seconds = seconds if seconds >= 1e-9 else 0.0
        if north_south:
            self._guide_ns, self._guide_ns_left = north_south * rate, seconds
        if west_east:
            self._guide_we, self._guide_we_left = west_east * rate, seconds

    def slew_to_hour_angle(self, ha: float, dec: float) -> None:
        """Start a slew to a place fixed on the ground (hour angle in hours, Dec): a park
        position. The target's RA follows sidereal time while the mount gets there."""
        self.slew_to(ha, dec)
        self._target_is_ha = True

    def sync(self, ra: float, dec: float) -> None:
        """The mount is told where it points: the coordinates become these, nothing moves."""
        self.ra = wrap_hours(ra)
        self.dec = max(-90.0, min(90.0, dec))

    def stop(self) -> None:
        """Abort: end any slew and manual motion where the mount is now."""
        self._target_ra = None
        self._then = None
        self._motion_ns = self._motion_we = 0
        self._guide_ns_left = self._guide_we_left = 0.0

    def move(self, north_south: int, west_east: int, rate: float) -> None:
        """Manual motion at `rate` degrees per second: `north_south` +1 north, -1 south, 0 not;
        `west_east` +1 west, -1 east, 0 not. Both 0 stops. Ends any slew."""
        if north_south not in (-1, 0, 1) or west_east not in (-1, 0, 1):
            raise ValueError("directions are -1, 0 or +1")
        self._target_ra = None
        self._then = None
        self._motion_ns, self._motion_we, self._motion_rate = north_south, west_east, rate

    def advance(self, seconds: float, lst: float) -> None:
        """Let `seconds` pass; `lst` is the local sidereal time (hours) at their end.

        Slews, motions and pulses take `seconds` (the wall's: the hardware's own time); an
        untracked mount turns with the sky by `lst`'s change since the last call, which on a
        sky clock faster than the wall is more than `seconds` of sidereal rate (issue 90)."""
        if seconds <= 0:
            if self._lst is None:
                self._lst = lst
            return
        turned = idle_turn(seconds, self._lst, lst)
        self._lst = lst
        if not self.tracking:
            # Standing still against the ground: the sky (and the RA pointed at) turns.
            self.ra = wrap_hours(self.ra + turned)
        if self._target_ra is not None:
            target_ra = wrap_hours(lst - self._target_ra) if self._target_is_ha else self._target_ra
            step = self.slew_rate * seconds
            self.ra = wrap_hours(_toward(self.ra, target_ra, hours_between(self.ra, target_ra),
                                         step / 15.0))
            self.dec = _toward(self.dec, self._target_dec, self._target_dec - self.dec, step)
            if self.ra == target_ra and self.dec == self._target_dec:
                self._target_ra = None
                if self._then is not None:  # over the pole: now down to the target
                    (self._target_ra, self._target_dec), self._then = self._then, None
        elif self.moving:
            step = self._motion_rate * seconds
            self.dec = max(-90.0, min(90.0, self.dec + self._motion_ns * step))
            # Moving west takes the pointing towards larger hour angles: smaller RA.
            self.ra = wrap_hours(self.ra - self._motion_we * step / 15.0)
        if self._target_ra is not None:
            self._guide_ns_left = self._guide_we_left = 0.0  # a slew ends any pulse
        elif self.guiding:
            ns = min(seconds, self._guide_ns_left)
            we = min(seconds, self._guide_we_left)
            self._guide_ns_left -= ns
            self._guide_we_left -= we
            self.dec = max(-90.0, min(90.0, self.dec + self._guide_ns * ns))
            self.ra = wrap_hours(self.ra - self._guide_we * we / 15.0)


@dataclass
class LinearMotion:
    """A position moving to a target at `speed` units per second (a focuser's steps, a
    filter wheel's slots), never past it; `minimum`..`maximum` bound every target."""

    position: float = 0.0
    speed: float = 1000.0
    minimum: float = -math.inf
    maximum: float = math.inf
    _target: float | None = None

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, not {self.speed!r}")
        if self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")

    @property
    def moving(self) -> bool:
        return self._target is not None

    @property
    def target(self) -> float | None:
        return self._target

    def move_to(self, target: float) -> None:
        """Start moving to `target`; ValueError outside minimum..maximum."""
        if not self.minimum <= target <= self.maximum:
            raise ValueError(f"{target:g} is outside {self.minimum:g}..{self.maximum:g}")
        self._target = target
        if target == self.position:
            self._target = None

    def stop(self) -> None:
        """Stop where it is now."""
        self._target = None

    def seconds_left(self) -> float:
        """How long the move still takes (0 when not moving)."""
        return 0.0 if self._target is None else abs(self._target - self.position) / self.speed

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        if self._target is None or seconds <= 0:
            return
        self.position = _toward(self.position, self._target, self._target - self.position,
                                self.speed * seconds)
        if self.position == self._target:
            self._target = None
