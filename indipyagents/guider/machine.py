"""The guider's state machine, pure: commands and measured frames in, guide pulses and PHD2's
events out (`Step`). Time, the random source and the frames are passed in; nothing waits, so
every path is tested without a camera (hypothesis: any sequence of commands and frames gives
steps, never an exception; a guide request ends in SettleDone or CalibrationFailed).

States are PHD2's (`get_app_state`): Stopped, Looping, Calibrating, Guiding, LostLock, Paused.
A guide request is taken while looping: the first frame with a usable star selects it (the
brightest that does not saturate, away from the edges), then calibrates (unless calibrated and
not asked to recalibrate) and guides. Calibration is `calibrating`'s (a star lost during it
goes on with the next best star, `calretry`).
Guiding: the error split on the calibrated axes, each axis's PI controller, pulses against it;
a frame without the star is StarLost (LostLock), no pulse until it is found near the lock. A dither moves the lock by up to `amount` pixels along
the axes and settles again. A slewing mount pauses the corrections; a frame on the other pier
side than the calibration's flips it (PHD2's flip_calibration: RA, and Dec as
FLIP_REVERSES_DEC says). After a slew the star (and the lock) is chosen again if the field
turned or the star is not near: guiding goes on by itself on the calibration kept (PHD2 waits
for its client to call guide again).
"""

from __future__ import annotations

import math
import random

from .calibrating import Calibrator
from .events import Alert
from .events import CalibrationDataFlipped
from .events import CalibrationFailed
from .events import GuideStep
from .events import GuidingDithered
from .events import GuidingStopped
from .events import LockPositionSet
from .events import LoopingExposures
from .events import LoopingExposuresStopped
from .events import Paused
from .events import Resumed
from .events import SettleBegin
from .events import SettleDone
from .events import StarLost
from .events import StarSelected
from .events import StartCalibration
from .events import StartGuiding
from .guidemath import AxisController
from .guidemath import Calibration
from .guidemath import SettleTracker
from .guidemath import axes_of
from .guidemath import rms
from .guidetypes import Refused
from .guidetypes import Seen
from .guidetypes import Star
from .guidetypes import Step
from .guidetypes import Tuning
from .guidetypes import guide_star
from .guidetypes import nearest
from .phd2wire import Settle
from .reasons import Reason
from .reasons import said
from .states import TABLE
from .states import AppState
from .states import Move
from .states import NoMove
from .states import moved

__all__ = ["GuiderMachine", "Refused", "Seen", "Star", "Step", "Tuning"]

#: A pulse's direction as GuideStep says it.
DIRECTIONS = {"W": "West", "E": "East", "N": "North", "S": "South"}


class GuiderMachine:
    """PHD2's guider: `loop`, `guide`, `dither`, `stop`, `set_paused`, `flip`,
    `clear_calibration` and `frame` each return a `Step`."""

    def __init__(self, mount: str = "Mount", tuning: Tuning | None = None,
                 rng: random.Random | None = None) -> None:
        self.mount = mount
        self.tuning = tuning or Tuning()
        self.rng = rng or random.Random()
        self.state: AppState = AppState.STOPPED
        self.calibration: Calibration | None = None
        self.lock: tuple[float, float] | None = None
        self.position: tuple[float, float] | None = None
        self.star: Star | None = None
        self.wanted: tuple[Settle, bool] | None = None  # a guide request not started yet
        self.calibrator = Calibrator(self)  # the calibration under way (`cal`)
        self.settling: SettleTracker | None = None
        self.no_star = 0
        self.paused = False
        self.paused_full = False  # PHD2's PAUSE_FULL: no exposures either until resumed
        self.moved = self.turned = False  # slewed, flipped since the last frame guided
        self.axes = (AxisController(self.tuning.ra), AxisController(self.tuning.dec))
        self.history: list[tuple[float, float]] = []  # guiding errors, RA and Dec pixels
        self.since_dither: list[tuple[float, float]] = []
        self.last_error = (0.0, 0.0)

    # -- commands ----------------------------------------------------------------------

    @property
    def app_state(self) -> AppState:
        if self.paused and self.state in (AppState.GUIDING, AppState.LOST_LOCK,
                                          AppState.LOOPING):
            return AppState.PAUSED
        return self.state

    @property
    def capturing(self) -> bool:
        """Frames wanted now (none while paused "full", PHD2's PAUSE_FULL)."""
        return self.state != AppState.STOPPED and not self.paused_full

    def loop(self) -> Step:
        self.state = moved(self.state, Move.LOOP)
        return Step()

    def guide(self, settle: Settle, recalibrate: bool = False) -> Step:
        """Start guiding (or calibrating first); a guide while guiding only settles again."""
        step = Step()
        if Move.SETTLE in TABLE[self.state] and not recalibrate:
            self.state = moved(self.state, Move.SETTLE)
            self._settle_begin(step, settle, self.position_time)
            return step
        try:
            self.state = moved(self.state, Move.GUIDE)
        except NoMove:
            raise Refused("cannot guide while calibrating") from None
        self.wanted, self.no_star = (settle, recalibrate), 0
        return step

    position_time = 0.0  # the last frame's time (a settle begun by a command starts there)

    def dither(self, amount: float, ra_only: bool, settle: Settle) -> Step:
        if Move.DITHER not in TABLE[self.state] or self.lock is None \
                or self.calibration is None:
            raise Refused("cannot dither if not guiding")
        self.state = moved(self.state, Move.DITHER)
        step = Step()
        ra_off = self.rng.uniform(-1.0, 1.0) * amount
        dec_off = 0.0 if ra_only else self.rng.uniform(-1.0, 1.0) * amount
        c = self.calibration
        rl, dl = math.hypot(*c.ra), math.hypot(*c.dec)
        dx = ra_off * c.ra[0] / rl + dec_off * c.dec[0] / dl
        dy = ra_off * c.ra[1] / rl + dec_off * c.dec[1] / dl
        self.lock, self.since_dither = (self.lock[0] + dx, self.lock[1] + dy), []
        for axis in self.axes:
            axis.reset()
        step.say(GuidingDithered(dx=round(dx, 3), dy=round(dy, 3)))
        step.say(LockPositionSet(x=round(self.lock[0], 3), y=round(self.lock[1], 3)))
        self._settle_begin(step, settle, self.position_time)
        return step

    def stop(self) -> Step:
        step = Step()
        if self.state in (AppState.GUIDING, AppState.LOST_LOCK, AppState.CALIBRATING):
            step.say(GuidingStopped())
        elif self.state == AppState.LOOPING:
            step.say(LoopingExposuresStopped())
        self._end_settle(step, "guiding stopped")
        self.state = moved(self.state, Move.STOP)
        self.wanted, self.calibrator.cal, self.paused = None, None, False
        self.paused_full = False
        return step

    def mount_parked(self, reason: str) -> Step:
        """The mount parked under guiding or calibration: stopped, `reason` said first (PHD2's
        Alert), not pulses the parked mount refuses (issue 89 item 7)."""
        if self.state not in (AppState.GUIDING, AppState.LOST_LOCK, AppState.CALIBRATING):
            return Step()
        step = Step(events=[Alert(msg=reason, level="warning")])
        step.events += self.stop().events
        return step

    def set_paused(self, paused: bool, full: bool = False) -> Step:
        """PHD2's MyFrame::SetPaused: a pause while paused keeps its kind; `full` stops the
        exposures too. Resuming clears the controllers' history, as PHD2's
        NotifyGuidingResumed clears its algorithms'."""
        step = Step()
        if paused and not self.paused:
            self.paused, self.paused_full = True, full
            step.say(Paused())
        elif not paused and self.paused:
            self.paused = self.paused_full = False
            for axis in self.axes:
                axis.reset()
            step.say(Resumed())
        return step

    def flip(self) -> Step:
        if self.calibration is None:
            raise Refused("could not flip calibration: not calibrated")
        self.calibration = self.calibration.flipped(self.tuning.flip_dec)
        step = Step()
        step.say(CalibrationDataFlipped(mount=self.mount))
        return step

    def rebinned(self, old: int, new: int) -> Step:
        """The guide camera's binning changed from `old` to `new` (`Calibrator.rebinned`)."""
        return self.calibrator.rebinned(old, new)

    def clear_calibration(self) -> Step:
        """Forget the calibration. While guiding (or lost) the guide is asked again, so the
        next star chosen is calibrated before it is guided on: a guide on no calibration
        would have no way to turn its error into pulses."""
        self.calibration = None
        if self.state not in (AppState.GUIDING, AppState.LOST_LOCK):
            return Step()
        step = self.guide(Settle(), recalibrate=True)
        step.say(Alert(level="info", msg="calibration cleared while guiding: calibrating "
                       "again before guiding"))
        return step

    def find_star(self, stars: tuple[Star, ...], width: int, height: int) -> tuple[float, float]:
        star = self._choose(stars, width, height)
        if isinstance(star, str):
            raise Refused(f"could not find star: {star}")
        self._select(Step(), star)
        assert self.lock is not None
        return self.lock

    def pulse_failed(self, reason: str) -> Step:
        """The mount refused a pulse: a calibration fails with `reason`; guiding says it
        (PHD2's Alert) and goes on."""
        step = Step()
        if self.state == AppState.CALIBRATING:
            self.calibrator.fail(step, reason)
        elif self.state in (AppState.GUIDING, AppState.LOST_LOCK):
            step.say(Alert(msg=reason, level="error"))
        return step

    # -- frames ------------------------------------------------------------------------

    def frame(self, seen: Seen) -> Step:
        """One frame measured: what to do about it."""
        step = Step()
        self.position_time = seen.now
        if self.state == AppState.STOPPED:
            return step
        if self.calibration is not None and seen.pier_side and self.calibration.pier_side \
                and seen.pier_side != self.calibration.pier_side:
            self.calibration = self.calibration.flipped(self.tuning.flip_dec)
            self.turned = True
            step.say(CalibrationDataFlipped(mount=self.mount))
        if self.state == AppState.LOOPING:
            self._looping(step, seen)
        elif self.state == AppState.CALIBRATING:
            self.calibrator.frame(step, seen)
        elif self.state in (AppState.GUIDING, AppState.LOST_LOCK):
            self._guiding(step, seen)
        return step

    def _looping(self, step: Step, seen: Seen) -> None:
        star = None if self.position is None or seen.stars is None \
            else self._near(seen.stars, self.position)
        step.say(LoopingExposures(frame=seen.number) if star is None else LoopingExposures(
            frame=seen.number, star_mass=round(star.flux), snr=round(star.snr, 2),
            hfd=round(star.hfd, 2)))
        if self.wanted is None:
            return
        settle, recalibrate = self.wanted
        if star is None:
            chosen = self._choose(seen.stars, seen.width, seen.height)
            if isinstance(chosen, str):
                self.no_star += 1
                if self.no_star >= self.tuning.no_star_frames:
                    self._fail_guide(step, seen, chosen)
                return
            star = chosen
            self._select(step, star)
        if (self.calibration is None or recalibrate) and seen.slewing:
            # No start for a calibration (the mount moved, or was heard to late on a loaded
            # machine): the next still frame is, within no_star_frames.
            self.no_star += 1
            if self.no_star >= self.tuning.no_star_frames:
                self._fail_guide(step, seen, Reason.SLEWED.text)
            return
        self.wanted = None
        if self.calibration is None or recalibrate:
            self.state = moved(self.state, Move.CALIBRATE)
            step.say(StartCalibration(mount=self.mount))
            self.calibrator.begin(step, seen, star, settle)
            return
        self._start_guiding(step, star, settle, seen.now)

    def _fail_guide(self, step: Step, seen: Seen, reason: str) -> None:
        self.wanted = None
        text = f"no usable guide star: {reason}" + (f" ({seen.problem})" if seen.problem else "")
        if self.calibration is None:
            step.say(CalibrationFailed(mount=self.mount, reason=text))
        else:
            step.say(StarLost(frame=seen.number, time=0.0, star_mass=0, snr=0.0, avg_dist=0.0,
                              error_code=1, status=text))
        step.say(SettleDone(status=1, error=text, total_frames=self.no_star,
                            dropped_frames=self.no_star))

    def _select(self, step: Step, star: Star) -> None:
        self.position = self.lock = (star.x, star.y)
        self.star = star
        for axis in self.axes:
            axis.reset()
        step.say(StarSelected(x=round(star.x, 3), y=round(star.y, 3)))
        step.say(LockPositionSet(x=round(star.x, 3), y=round(star.y, 3)))

    def _start_guiding(self, step: Step, star: Star, settle: Settle, now: float) -> None:
        self.state = moved(self.state, Move.START_GUIDING)
        self.moved = self.turned = False
        self.lock = self.position = (star.x, star.y)
        for axis in self.axes:
            axis.reset()
        self.history, self.since_dither = [], []
        step.say(StartGuiding())
        step.say(LockPositionSet(x=round(star.x, 3), y=round(star.y, 3)))
        self._settle_begin(step, settle, now)

    def _settle_begin(self, step: Step, settle: Settle, now: float) -> None:
        self._end_settle(step, "a new settle began")
        self.settling = SettleTracker(settle, now)
        step.say(SettleBegin())

    def _end_settle(self, step: Step, why: str) -> None:
        if self.settling is not None:
            step.say(self.settling.done(why))
            self.settling = None
        if self.calibrator.pending_settle is not None:
            step.say(SettleDone(status=1, error=why, total_frames=0, dropped_frames=0))
            self.calibrator.pending_settle = None

    # -- guiding -----------------------------------------------------------------------

    def _guiding(self, step: Step, seen: Seen) -> None:
        assert self.lock is not None and self.calibration is not None
        if seen.slewing:
            self.moved = True
            return
        star = None if seen.stars is None or self.position is None \
            else self._near(seen.stars, self.position)
        if self.moved or self.turned:
            star = self._after_slew(step, seen, None if self.turned else star)
        if star is None:
            self.state = moved(self.state, Move.STAR_LOST)
            reason = seen.problem or said(Reason.STAR_LOST,
                                          f" {self.tuning.search:g} px of where it was")
            step.say(StarLost(frame=seen.number, time=round(seen.now, 3), star_mass=0, snr=0.0,
                              avg_dist=0.0, error_code=2, status=reason))
            self._settle_frame(step, seen.now, None)
            return
        self.state = moved(self.state, Move.STAR_FOUND)
        self.position = (star.x, star.y)
        dx, dy = star.x - self.lock[0], star.y - self.lock[1]
        ra_err, dec_err = axes_of(self.calibration, dx, dy)
        self.last_error = (ra_err, dec_err)
        distance = math.hypot(dx, dy)
        if self.paused:
            # PHD2 (guider.cpp, UpdateGuideState): a paused frame only schedules a
            # dead-reckoning move, zero for its default algorithms, and Mount::MoveOffset
            # returns before the step is recorded: no GuideStep, no pulse, no statistics.
            self._settle_frame(step, seen.now, distance)
            return
        self.history = (self.history + [(ra_err, dec_err)])[-100:]
        self.since_dither.append((ra_err, dec_err))
        ra_move = self.axes[0].correction(ra_err)
        dec_move = self.axes[1].correction(dec_err)
        c = self.calibration
        ra_ms = self.axes[0].pulse_ms(ra_move, math.hypot(*c.ra))
        dec_ms = self.axes[1].pulse_ms(dec_move, math.hypot(*c.dec))
        ra_dir = "W" if ra_move > 0 else "E"
        dec_dir = "N" if dec_move > 0 else "S"
        if ra_ms:
            step.pulses[ra_dir] = ra_ms
        if dec_ms:
            step.pulses[dec_dir] = dec_ms
        step.say(GuideStep(
            frame=seen.number, time=round(seen.now, 3), mount=self.mount, dx=round(dx, 3),
            dy=round(dy, 3), ra_distance_raw=round(ra_err, 3),
            dec_distance_raw=round(dec_err, 3), ra_distance_guide=round(-ra_move, 3),
            dec_distance_guide=round(-dec_move, 3), ra_duration=ra_ms or None,
            ra_direction=(DIRECTIONS[ra_dir] if ra_ms else None),
            dec_duration=dec_ms or None, dec_direction=(DIRECTIONS[dec_dir] if dec_ms else None),
            star_mass=round(star.flux), snr=round(star.snr, 2), hfd=round(star.hfd, 2),
            avg_dist=round(distance, 2)))
        self._settle_frame(step, seen.now, distance)

    def _after_slew(self, step: Step, seen: Seen, star: Star | None) -> Star | None:
        """After a slew: `star`, else a guide star chosen and locked on, else None."""
        chosen = star or self._choose(seen.stars, seen.width, seen.height)
        if isinstance(chosen, str):
            return None
        if star is None:
            self._select(step, chosen)
        self.moved = self.turned = False
        return chosen

    def _settle_frame(self, step: Step, now: float, distance: float | None) -> None:
        if self.settling is None:
            return
        settling, error, done = self.settling.update(now, distance)
        step.say(settling)
        if done:
            step.say(self.settling.done(error))
            self.settling = None

    # -- stars -------------------------------------------------------------------------

    def _near(self, stars: tuple[Star, ...], where: tuple[float, float]) -> Star | None:
        return nearest(stars, where, self.tuning.search)

    def _choose(self, stars: tuple[Star, ...] | None, width: int, height: int) -> Star | str:
        return guide_star(stars, width, height, self.tuning.edge)

    # -- statistics --------------------------------------------------------------------

    def rms(self, errors: list[tuple[float, float]] | None = None) -> tuple[float, float]:
        """The RMS error along RA and Dec (pixels) over `errors` (the last 100 frames)."""
        return rms(self.history if errors is None else errors)
