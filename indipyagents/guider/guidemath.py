"""The guider's arithmetic, pure: calibration, the PI controller of each axis, settling.

Directions are PHD2's: a star's error is the star's position minus the lock position (camera
pixels); the calibration measures how far a West pulse and a North pulse move the star
(pixels a millisecond, a vector each), and the error is split on those two vectors (they need
not be square to each other: the 2 x 2 system is solved), giving the error along RA and Dec
in pixels. A correction pulses against it: an error along West is undone by East.

Each axis's controller is INDIGO's PI with PHD2's hysteresis and minimum move: the error below
MIN_ERROR is left alone (seeing, not drift); otherwise the correction is AGGRESSIVITY of the
error smoothed by HYSTERESIS (a share of the last correction kept), plus I_GAIN times the mean
of the last STACK errors (what a steady drift leaves), clamped to MIN_PULSE..MAX_PULSE.

Settling is PHD2's: within `pixels` of the lock for `time` seconds running, else done with
an error at `timeout` seconds from its start.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from dataclasses import replace

from .events import SettleDone
from .events import Settling
from .phd2wire import Settle
from .states import CalPhase

__all__ = [
    "AxisController",
    "Calibration",
    "ControllerSettings",
    "SettleTracker",
    "axes_of",
    "expected_rate",
    "rms",
    "step_ms",
    "trusted_rate",
]

#: The sidereal rate, arcseconds a second.
SIDEREAL_ARCSEC_PER_S = 15.041


@dataclass(frozen=True, slots=True)
class Calibration:
    """Pixels a millisecond the star moves under a West pulse (`ra`) and a North pulse
    (`dec`), the pier side it was measured on (None: unknown) and the declination."""

    ra: tuple[float, float]
    dec: tuple[float, float]
    pier_side: str | None = None
    declination: float = 0.0

    def flipped(self, dec_too: bool = True) -> Calibration:
        """After a meridian flip, as PHD2's flip_calibration: the camera turned half round
        with the tube, so a West pulse moves the star the other way on the frame. A North
        pulse does too on a mount that still moves north after the flip (`dec_too`: ours
        and indilib's simulators, PHD2's "decFlipRequired"); on one whose Dec reverses with
        the pier side the turned camera undoes it, and Dec stays (PHD2's default)."""
        side = {"PIER_EAST": "PIER_WEST", "PIER_WEST": "PIER_EAST"}.get(self.pier_side or "")
        dec = (-self.dec[0], -self.dec[1]) if dec_too else self.dec
        return replace(self, ra=(-self.ra[0], -self.ra[1]), dec=dec, pier_side=side)

    @property
    def angle(self) -> float:
        """The RA axis's angle on the frame, degrees (PHD2's xAngle)."""
        return math.degrees(math.atan2(self.ra[1], self.ra[0]))


@dataclass
class CalSteps:
    """A calibration under way: its phase, the pulses given, where it started."""

    phase: CalPhase = CalPhase.WEST
    steps: int = 0
    start: tuple[float, float] | None = None
    ra: tuple[float, float] | None = None
    back_ms: int = 0  # the way back (East, South) still to pulse
    lost: tuple[tuple[float, float], ...] = ()  # where the stars lost so far were last seen
    missed: int = 0  # the frames in a row the star was missing from

    def measured(self, dx: float, dy: float, step_ms: int, back: CalPhase) -> tuple[float, float]:
        """The phase's pulses measured (the star moved `dx`, `dy` pixels): its rate, pixels
        a millisecond of pulse along x and y; the phase turned to `back` (East after West,
        South after North), as many milliseconds to pulse back as were pulsed."""
        rate = dx / (self.steps * step_ms), dy / (self.steps * step_ms)
        self.back_ms, self.phase, self.steps = self.steps * step_ms, back, 0
        return rate


def did_not_move(axis: str, moved: float, wanted: float, steps: int, step_ms: int) -> str:
    """PHD2's reason for a calibration whose star did not move `wanted` pixels in `steps`
    pulses: RA's West ones (perhaps no pulse reaches the mount), or Dec's North ones."""
    direction, hint = ("West", "; does the mount take pulses?") if axis == "RA" else ("North", "")
    return (f"{axis} calibration failed: the star did not move enough ({moved:.1f} of "
            f"{wanted:g} px in {steps} {direction} pulses of {step_ms} ms{hint})")


def axes_of(calibration: Calibration, dx: float, dy: float) -> tuple[float, float]:
    """The error (`dx`, `dy` pixels) along the RA and Dec axes, pixels: (a, b) with
    a * ra_unit + b * dec_unit = (dx, dy)."""
    rl, dl = math.hypot(*calibration.ra), math.hypot(*calibration.dec)
    ux, uy = calibration.ra[0] / rl, calibration.ra[1] / rl
    vx, vy = calibration.dec[0] / dl, calibration.dec[1] / dl
    det = ux * vy - uy * vx
    if abs(det) < 1e-6:  # the two axes the same line: project on each instead
        return dx * ux + dy * uy, dx * vx + dy * vy
    return (dx * vy - dy * vx) / det, (ux * dy - uy * dx) / det


def step_ms(distance_px: float, scale_arcsec: float, guide_rate: float, declination: float,
            steps: int = 8) -> int:
    """The calibration pulse (ms) that moves the star `distance_px` in about `steps` pulses
    at `guide_rate` (a fraction of sidereal) at `declination` (RA shrinks by its cosine),
    50..2000 ms, as INDIGO's and PHD2's calibration step sizes itself."""
    speed = max(guide_rate, 0.05) * SIDEREAL_ARCSEC_PER_S \
        * max(math.cos(math.radians(declination)), 0.2)
    return int(min(2000, max(50, distance_px * scale_arcsec / speed / steps * 1000)))


def expected_rate(scale_arcsec: float, guide_rate: float, declination: float) -> float:
    """Pixels a millisecond a West pulse moves the star, from what the mount says: its guide
    rate (a fraction of sidereal) at `declination`, at `scale_arcsec` a pixel."""
    return guide_rate * SIDEREAL_ARCSEC_PER_S * math.cos(math.radians(declination)) \
        / scale_arcsec / 1000


#: How far a measured RA rate may stray from the mount's own before it is not believed.
RATE_TOLERANCE = 0.25


def trusted_rate(measured: tuple[float, float],
                 expected: float) -> tuple[tuple[float, float], str]:
    """The RA calibration vector to use, and why it is not the measured one ("" when it is).

    The mount's tracking error moves the star during the West leg as much as the pulses may
    (15" of periodic error over 60 s: up to 0.6 px/s, against 2.7 px/s of pulse at 0.5x
    sidereal, pulsing a sixth of the time), so the leg's length can be off by 2x either way;
    PHD2's calibration sanity check says so. Where the mount's guide rate is known (`expected`
    > 0, px/ms) and the measured length strays more than RATE_TOLERANCE from it, the measured
    direction is kept at the expected length: a controller whose rate is 1.7x too high
    corrects 0.4 of each error and fell 5 px behind (bench/guider.py)."""
    length = math.hypot(*measured)
    # A leg that hardly moved the star (a millionth of the rate) is no direction to keep:
    # the calibration's own check refuses it ("the star did not move").
    if expected <= 0 or length <= expected * 1e-6 or \
            abs(length / expected - 1) <= RATE_TOLERANCE:
        return measured, ""
    k = expected / length
    return (measured[0] * k, measured[1] * k), (
        f"the RA calibration measured {length * 1000:.2f} px/s, the mount's guide rate says "
        f"{expected * 1000:.2f}: the tracking error moved the star during it; the guide "
        "rate's is used")


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    """One axis's controller (INDIGO's AGENT_GUIDER_SETTINGS members by name)."""

    aggressivity: float = 0.7  # AGGRESSIVITY_RA / _DEC, a fraction here (% on the vector)
    i_gain: float = 0.1  # I_GAIN_RA / _DEC
    stack: int = 10  # STACK: the integral's frames
    hysteresis: float = 0.1  # PHD2's hysteresis: the last correction's share kept
    min_error: float = 0.15  # MIN_ERROR, pixels
    min_pulse: float = 0.02  # MIN_PULSE, seconds
    max_pulse: float = 1.5  # MAX_PULSE, seconds


class AxisController:
    """One axis: errors (pixels) in, the correction (pixels to move, signed) out."""

    def __init__(self, settings: ControllerSettings) -> None:
        self.settings = settings
        self.errors: deque[float] = deque(maxlen=max(1, settings.stack))
        self.last = 0.0

    def reset(self) -> None:
        self.errors.clear()
        self.last = 0.0

    def correction(self, error: float) -> float:
        """The pixels to move the star back (the opposite sign of `error` or 0)."""
        s = self.settings
        self.errors.append(error)
        if abs(error) < s.min_error:
            self.last = 0.0
            return 0.0
        smoothed = (1 - s.hysteresis) * error + s.hysteresis * self.last
        integral = sum(self.errors) / len(self.errors)
        move = s.aggressivity * smoothed + s.i_gain * integral
        self.last = move
        return -move

    def pulse_ms(self, correction_px: float, rate_px_per_ms: float) -> int:
        """The correction as a pulse's length (ms, MIN_PULSE..MAX_PULSE; 0 below)."""
        if rate_px_per_ms <= 0 or correction_px == 0:
            return 0
        ms = abs(correction_px) / rate_px_per_ms
        if ms < self.settings.min_pulse * 1000:
            return 0
        return int(min(ms, self.settings.max_pulse * 1000))


class SettleTracker:
    """PHD2's settle after a guide start or a dither: `update` each frame with the distance
    from the lock (None: no star), until it returns done."""

    def __init__(self, settle: Settle, start: float) -> None:
        self.settle = settle
        self.start = start
        self.in_range_since: float | None = None
        self.frames = 0
        self.dropped = 0

    def update(self, now: float, distance: float | None) -> tuple[Settling, str | None, bool]:
        """(the Settling event, the error when it failed, whether it is done)."""
        self.frames += 1
        if distance is None:
            self.dropped += 1
            self.in_range_since = None
        elif distance <= self.settle.pixels:
            if self.in_range_since is None:
                self.in_range_since = now
        else:
            self.in_range_since = None
        held = 0.0 if self.in_range_since is None else now - self.in_range_since
        said = Settling(distance=round(distance if distance is not None else 0.0, 2),
                        time=round(held, 1), settle_time=float(self.settle.time),
                        star_locked=distance is not None)
        if self.in_range_since is not None and held >= self.settle.time:
            return said, None, True
        if now - self.start >= self.settle.timeout:
            return said, "timed-out waiting for guider to settle", True
        return said, None, False

    def done(self, error: str | None) -> SettleDone:
        """The SettleDone that ends it (`error` None: settled)."""
        return SettleDone(status=0 if error is None else 1, error=error,
                          total_frames=self.frames, dropped_frames=self.dropped)


def rms(errors: list[tuple[float, float]]) -> tuple[float, float]:
    """The RMS of `errors` along RA and Dec (pixels); (0, 0) when there are none."""
    if not errors:
        return 0.0, 0.0
    n = len(errors)
    return (math.sqrt(sum(e[0] ** 2 for e in errors) / n),
            math.sqrt(sum(e[1] ** 2 for e in errors) / n))
