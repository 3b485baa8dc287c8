"""The guider's calibration (`Calibrator`, held by `GuiderMachine`, pure): West pulses
until the star moved MIN_CALIBRATION_DRIFT pixels, East back, North pulses to clear the Dec
backlash until it moves, North pulses measured, South back; a star that does not move enough
in MAX_CALIBRATION_STEPS fails with the reason; a star missing from a frame or two is looked
for again, and one lost goes on with the next best one (`calretry`), failing only when none
remains.

The `Calibrator` holds the calibration under way (`cal`, and the settle its guide asked for);
what it needs of the machine (its state, the star's position and lock, choosing a star and
starting to guide) is `CalibrationHost`, a Protocol the machine meets: composition, not a
mixin whose hooks raise NotImplementedError.
"""

from __future__ import annotations

import math
from typing import Protocol

from .calkeep import rebinned
from .calretry import MISSED_FRAMES
from .calretry import next_star
from .events import Alert
from .events import Calibrating
from .events import CalibrationComplete
from .events import CalibrationFailed
from .events import LockPositionSet
from .guidemath import Calibration
from .guidemath import CalSteps
from .guidemath import did_not_move
from .guidemath import trusted_rate
from .guidetypes import Seen
from .guidetypes import Star
from .guidetypes import Step
from .guidetypes import Tuning
from .phd2wire import Settle
from .reasons import Reason
from .reasons import said
from .states import AppState
from .states import CalPhase
from .states import Move
from .states import moved

__all__ = ["RETURN_PULSE_MS", "CalibrationHost", "Calibrator"]

#: The longest pulse a frame of calibration's way back (East, South) sends, ms (shorter when
#: the star would move more than 3/4 of the search radius: `_stays_near`).
RETURN_PULSE_MS = 5000

#: The pulse's direction in each leg (the backlash's are North pulses).
PULSE = {CalPhase.WEST: "W", CalPhase.EAST: "E", CalPhase.BACKLASH: "N", CalPhase.NORTH: "N",
         CalPhase.SOUTH: "S"}


class CalibrationHost(Protocol):
    """What a `Calibrator` needs of the machine it calibrates for (`GuiderMachine`)."""

    mount: str
    tuning: Tuning
    state: AppState
    calibration: Calibration | None
    position: tuple[float, float] | None
    lock: tuple[float, float] | None

    def _near(self, stars: tuple[Star, ...], where: tuple[float, float]) -> Star | None: ...

    def _select(self, step: Step, star: Star) -> None: ...

    def _start_guiding(self, step: Step, star: Star, settle: Settle, now: float) -> None: ...

    def _end_settle(self, step: Step, why: str) -> None: ...


class Calibrator:
    """The calibration's frames for `host`: `begin`, then `frame` each frame until it is
    done (guiding starts) or failed (`fail`)."""

    def __init__(self, host: CalibrationHost) -> None:
        self.host = host
        self.cal: CalSteps | None = None  # the calibration under way
        self.pending_settle: Settle | None = None  # its guide's settle, begun once guiding

    def begin(self, step: Step, seen: Seen, star: Star, settle: Settle) -> None:
        """A calibration on `star`, its guide's `settle` kept for when it guides."""
        self.cal = CalSteps(start=(star.x, star.y))
        self.pending_settle = settle
        self.frame(step, seen)

    def rebinned(self, old: int, new: int) -> Step:
        """The guide camera's binning changed from `old` to `new` while the guider runs:
        the calibration, lock and star scaled to the new pixels (guiding goes on); a
        calibration under way, its steps measured in the old pixels, begins again."""
        host = self.host
        step = Step()
        k = old / new
        if host.calibration is not None:
            host.calibration = rebinned(host.calibration, old, new)
        if host.lock is not None:
            host.lock = (host.lock[0] * k, host.lock[1] * k)
            step.say(LockPositionSet(x=round(host.lock[0], 3), y=round(host.lock[1], 3)))
        if host.position is not None:
            host.position = (host.position[0] * k, host.position[1] * k)
        what = "calibration scaled" if host.calibration is not None else ""
        if self.cal is not None and host.position is not None:
            self.cal = CalSteps(start=host.position)
            what = "calibrating again"
        if what:
            step.say(Alert(level="info", msg=f"guide camera binning {old} to {new}: {what}"))
        return step

    # -- calibration -------------------------------------------------------------------

    def fail(self, step: Step, reason: str) -> None:
        host = self.host
        step.say(CalibrationFailed(mount=host.mount, reason=reason))
        self.cal = None
        host.state = moved(host.state, Move.CALIBRATION_FAILED)
        host._end_settle(step, f"calibration failed: {reason}")

    def frame(self, step: Step, seen: Seen) -> None:
        """One frame of the calibration under way."""
        cal, host = self.cal, self.host
        assert cal is not None and cal.start is not None
        if seen.slewing:
            self.fail(step, said(Reason.SLEWED_CALIBRATING))
            return
        star = None if seen.stars is None or host.position is None \
            else host._near(seen.stars, host.position)
        if star is None:
            if cal.missed < MISSED_FRAMES:
                cal.missed += 1  # looked for again in the next frame; no pulse meanwhile
                return
            self._cal_lost(step, seen, cal)
            return
        cal.missed = 0
        pos = host.position = (star.x, star.y)
        t = host.tuning

        def moved_since_start() -> tuple[float, float, float]:
            assert cal is not None and cal.start is not None
            ddx, ddy = pos[0] - cal.start[0], pos[1] - cal.start[1]
            return ddx, ddy, math.hypot(ddx, ddy)

        dx, dy, moved = moved_since_start()
        step.say(Calibrating(
            mount=host.mount,
            direction=CalPhase.NORTH if cal.phase is CalPhase.BACKLASH else cal.phase,
            dist=round(moved, 3), dx=round(dx, 3), dy=round(dy, 3),
            pos=(round(pos[0], 3), round(pos[1], 3)), step=cal.steps,
            state=f"{cal.phase} step {cal.steps}"))
        if cal.phase is CalPhase.WEST:
            if cal.steps and moved >= t.cal_drift:
                cal.ra, why = trusted_rate(cal.measured(dx, dy, t.step_ms, CalPhase.EAST),
                                           t.expected_ra)
                if why:
                    step.say(Alert(msg=why, level="warning"))
            elif cal.steps >= t.cal_steps:
                self.fail(step, did_not_move("RA", moved, t.cal_drift, cal.steps, t.step_ms))
                return
        if cal.phase is CalPhase.EAST and cal.back_ms <= 0:
            cal.phase, cal.steps, cal.start = CalPhase.BACKLASH, 0, pos
        if cal.phase is CalPhase.BACKLASH:
            dx, dy, moved = moved_since_start()
            if cal.steps and (moved >= t.bl_drift or cal.steps >= t.bl_steps):
                cal.phase, cal.steps, cal.start = CalPhase.NORTH, 0, pos
        if cal.phase is CalPhase.NORTH:
            dx, dy, moved = moved_since_start()
            if cal.steps and moved >= t.cal_drift:
                assert cal.ra is not None
                dec = cal.measured(dx, dy, t.step_ms, CalPhase.SOUTH)
                host.calibration = Calibration(cal.ra, dec, seen.pier_side)
            elif cal.steps >= t.cal_steps:
                self.fail(step, did_not_move("Dec", moved, t.cal_drift, cal.steps, t.step_ms))
                return
        if cal.phase is CalPhase.SOUTH and cal.back_ms <= 0:
            self._cal_done(step, star, seen.now)
            return
        direction = PULSE[cal.phase]
        ms = t.step_ms
        if cal.phase in (CalPhase.EAST, CalPhase.SOUTH):
            ms = min(cal.back_ms, RETURN_PULSE_MS, self._stays_near(cal))
            cal.back_ms -= ms
        step.pulses[direction] = ms
        cal.steps += 1

    def _cal_lost(self, step: Step, seen: Seen, cal: CalSteps) -> None:
        """The star lost: said, and the calibration begun again on the next best star (it
        failed when none remains: `calretry`)."""
        host = self.host
        assert host.position is not None
        x, y = host.position
        lost = cal.lost + ((x, y),)
        chosen = next_star(seen.stars, seen.width, seen.height, host.tuning.edge,
                           host.tuning.search, lost)
        problem = f" ({seen.problem})" if seen.problem else ""
        if isinstance(chosen, str):
            self.fail(step, chosen + problem)
            return
        step.say(Alert(level="warning", msg=said(Reason.LOST_CALIBRATING,
                                                 f" at ({x:.0f}, {y:.0f}){problem}")))
        host._select(step, chosen)
        self.cal = CalSteps(start=(chosen.x, chosen.y), lost=lost)
        self.frame(step, seen)

    def _stays_near(self, cal: CalSteps) -> int:
        """The longest return pulse that moves the star 3/4 of the search radius at the rate
        measured: a longer one (a fast guide rate in Dec) jumps it out of sight."""
        rate = cal.ra if cal.phase is CalPhase.EAST else \
            None if self.host.calibration is None else self.host.calibration.dec
        speed = 0.0 if rate is None else math.hypot(*rate)
        return max(1, int(0.75 * self.host.tuning.search / speed)) if speed > 0 \
            else RETURN_PULSE_MS

    def _cal_done(self, step: Step, star: Star, now: float) -> None:
        self.cal = None
        step.say(CalibrationComplete(mount=self.host.mount))
        settle = self.pending_settle or Settle()
        self.pending_settle = None
        self.host._start_guiding(step, star, settle, now)
