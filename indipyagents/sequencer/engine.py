"""`Sequencer`: a plan run on the rig, one step at a time, each step journalled, so that a
restart (the server killed, the power gone) continues exactly where the run stopped.

The plan is expanded into steps with stable ids (a slew, a wait, one step per frame, the end);
a run skips the steps the journal (and the frames on disk: `reconcile`) say are done. Between
frames it takes the decisions a night needs, each a pure function of the plan's settings and
what it measured: a meridian flip once the target's hour angle passes the limit (the same
target slewed to again, then a settle; never while a frame is exposed: steps never overlap), a
dither when due (`rig.dither`: a random offset at the plate scale of the camera's pixel
behind the mount's focal length, as guide pulses at the mount's guide rates where it takes
them, else a small slew off the target; then a settle), an autofocus when due (the injected
`focus` run, its result journalled as a note and its HFR and position, AFHFR and AFPOS, in
the next frames' headers).

A run resumed after a restart (a new `Sequencer` on the journal) points the mount at the
target again before its next frame: the slew is journalled done, but a mount whose driver or
power came back may point anywhere (our simulator starts at the pole).

Failures: a `DeviceLost` retries the step by the project's retry policy (`Retry.call_with_retry`;
a frame not saved is simply taken again); once the retries are used up, or on a
`DeviceRefused`, the run pauses with the reason naming the device (the journal says so); a
later `run()` retries from that step. Every call on the rig is bounded here too, so a device
that stops answering is a `DeviceLost`, never a hang.

Pause and abort, at any time: `pause()` lets the step in hand end (a frame being exposed is
finished and saved, as INDIGO's pause does; a long wait for a time or an altitude is cut short
and waited again on resume), then the run returns PAUSED. `abort()` stops at once: the step's
task is cancelled and the camera aborted (that frame is not saved), then the End's park and
warm run, and the run returns ABORTED.

Safety (`set_safety`, the face's AGENT_SAFETY, a watchdog's verdict): unsafe cuts the step in
hand unless it needs no sky and the plan lets such steps go on (the frame being exposed is
aborted, not saved, and taken again later), then the run holds before the next step that
needs the sky (light and flat frames, slews, waits, and so the dithers, flips and autofocus
that come with a light frame). With the plan's ``sky_free_while_unsafe`` the dark and bias
frames not yet taken go first, in plan order. The hold is journalled (a `note` "safety"), so
a run resumed after a restart is held again. Safe again: the run goes on where it stopped,
the mount pointed at the target again (a watchdog may have parked it); a client's pause or
abort meanwhile stands. Still unsafe once the plan's ``night_end`` passed: the End's park and
warm, and the run ends ABORTED, `ENDED_UNSAFE`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import TypeVar

from indipycore import astro
from indipycore.fits import Card
from indipycore.fits import FITSError
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry

from ..journal import FrameStore
from ..journal import Journal
from ..journal import JournalState
from ..journal import reconcile
from ..plan.decisions import autofocus_due
from ..plan.decisions import dither_due
from ..plan.decisions import flip_due
from ..plan.decisions import hour_angle
from ..plan.model import Plan
from ..plan.model import Site
from ..plan.model import Target
from ..plan.steps import EndStep
from ..plan.steps import FrameStep
from ..plan.steps import SlewStep
from ..plan.steps import Step
from ..plan.steps import WaitStep
from ..plan.steps import expand
from ..rig.dither import apply
from ..rig.dither import plate_scale
from ..rig.dither import random_offset
from ..rig.protocols import DeviceLost
from ..rig.protocols import DeviceRefused
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from .contracts import FocusRun
from .contracts import Observer
from .contracts import Progress
from .contracts import RunState
from .headers import with_cards

__all__ = ["CLIENT_PAUSE", "DEFAULT_RETRY", "ENDED_UNSAFE", "SKY_FREE", "Sequencer"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The journalled reason of a client's pause: a night paused so is not resumed by a restart.
CLIENT_PAUSE = "paused by a client"
#: The reason a night still held once its night_end passed ends with.
ENDED_UNSAFE = "ended: unsafe past the end of the night"
#: Frame types that need no sky: taken while unsafe when the plan says so.
SKY_FREE = ("Dark", "Bias")
#: Seconds the camera's abort may take when unsafe cuts a frame (the watchdog waits ~10 s).
SAFETY_ABORT_BOUND = 5.0
#: A lost device's step is tried again after 2, 4, 8, 16 s, then the run pauses.
DEFAULT_RETRY = Retry(ExponentialBackoff(initial=2.0, cap=30.0), retries=4)
#: Seconds a camera may take past its exposure (download, a slow driver) before it is lost.
CAMERA_MARGIN = 120.0
#: Seconds a move (slew, park, wheel, focuser) or a question may take before its device is lost.
MOVE_BOUND = 600.0
#: The longest sleep of a wait between two looks at the sky and at a pause.
NAP = 30.0


class _Stopped(Exception):
    """An abort reached the step in hand."""


class _Paused(Exception):
    """A pause cut a wait short: the step is not done."""


class _Held(Exception):
    """Unsafe cut the step in hand short: it is not done, and is taken again once safe."""


class _Hold:
    """`_next_step`'s answer while unsafe with nothing the plan lets go on."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Silent:
    """The observer of a run nobody watches."""

    async def progress(self, progress: Progress) -> None:
        """Nobody to tell."""

    async def frame(self, name: str, data: bytes) -> None:
        """Nobody to show it to."""


class Sequencer:
    """Runs `plan` on `rig`, journalled in `journal`, frames saved in `store`.

    `run()` runs (or continues) the plan and returns how it ended: DONE, PAUSED (`reason`
    names the device when a failure paused it) or ABORTED; call it again to resume. `clock`
    (an aware datetime), `sleep` and `rng` are injected so tests run a night in a moment;
    `move_bound` and `camera_margin` (real seconds) bound every call on the rig."""

    def __init__(self, plan: Plan, rig: Rig, journal: Journal, store: FrameStore, *,
                 plan_text: str = "", focus: FocusRun | None = None,
                 observer: Observer | None = None,
                 clock: Callable[[], datetime] = _utcnow,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 rng: random.Random | None = None, retry: Retry = DEFAULT_RETRY,
                 move_bound: float = MOVE_BOUND, camera_margin: float = CAMERA_MARGIN) -> None:
        self.plan = plan
        self.plan_text = plan_text
        self.rig = rig
        self.journal = journal
        self.store = store
        self.focus = focus
        self.observer: Observer = observer or _Silent()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.retry = retry
        self.move_bound = move_bound
        self.camera_margin = camera_margin
        self.steps: list[Step] = expand(plan)
        self.frame_steps = [step for step in self.steps if isinstance(step, FrameStep)]
        # Each frame's place in its batch (AGENT_IMAGER_STATS.FRAME), 1-based.
        self._in_batch: dict[str, int] = {}
        for step in self.frame_steps:
            key = f"{step.target_index}/{step.batch_index}"
            self._in_batch[key] = self._in_batch.get(key, 0) + 1
            self._in_batch[step.id] = self._in_batch[key]
        self.state = RunState.IDLE
        self.reason = ""
        self._done: set[str] = set()
        self._step_index = 0
        self._pause_asked = False
        self._abort_reason = ""
        self._wake = asyncio.Event()
        self._step_task: asyncio.Task[None] | None = None
        self._site: Site | None = None
        self._current: FrameStep | None = None
        # What the decisions between frames need; restored from the journal's notes.
        self._frames_since_dither = 0
        self._target_now: int | None = None
        self._last_filter: object = None
        self._pier_before: dict[int, str | None] = {}
        self._flipped: set[int] = set()
        # The targets this Sequencer pointed the mount at (empty after a restart).
        self._pointed: set[int] = set()
        self._focused_targets: set[int] = set()
        self._focus_time: datetime | None = None
        self._focus_temperature: float | None = None
        self._hfr: float | None = None
        self._focus_position: int | None = None
        # Safety: the verdict, whether a client told this run (else the journal's holds),
        # the step in hand, and whether unsafe cut it.
        self._unsafe = False
        self._cause = ""
        self._told = False
        self._held = False
        self._cut = False
        self._in_hand: Step | None = None
        self._stir = asyncio.Event()
        self._unsafe_now = asyncio.Event()

    @property
    def unsafe(self) -> bool:
        """Whether the run is told the sky is unsafe (by `set_safety`, or its journal)."""
        return self._unsafe

    @property
    def cause(self) -> str:
        return self._cause

    @classmethod
    def resume(cls, journal: Journal, store: FrameStore, rig: Rig, *,
               parse: Callable[[str, str], Plan], **options: Any) -> Sequencer:
        """The sequencer of the plan `journal` recorded (its very text, read again by `parse`,
        plan/toml.py's ``parse_plan(text, source)``), to `run()` on from where it stopped."""
        state = journal.state()
        if not state.plan_text:
            raise ValueError("the journal records no plan to resume")
        plan = parse(state.plan_text, state.plan_name or "journal")
        return cls(plan, rig, journal, store, plan_text=state.plan_text, **options)

    # -- from outside ----------------------------------------------------------------------

    def pause(self) -> None:
        """Stop after the step in hand (a frame is finished and saved first). Journalled at
        once: a restart before that frame ends must not resume a night its user paused."""
        if self.state is RunState.RUNNING and not self._pause_asked:
            self._pause_asked = True
            self._wake.set()
            self._stir.set()
            self.journal.paused(CLIENT_PAUSE)

    async def abort(self, reason: str = "aborted by a client") -> None:
        """Stop at once: the camera aborted, the frame in hand lost; then park and warm as the
        plan's End says. A run that is paused is aborted too (the journal says so, at once:
        a restart before the run has stopped must not resume it)."""
        if self.state is RunState.RUNNING:
            if not self._abort_reason:
                self.journal.aborted(reason)
            self._abort_reason = reason
            self._wake.set()
            self._stir.set()
            task = self._step_task
            if task is not None:
                task.cancel()
            await self._quietly(self.rig.camera.abort(), self.rig.camera.name, "abort")
        elif self.state in (RunState.PAUSED, RunState.IDLE):
            await self._aborted(reason)

    async def set_safety(self, safe: bool, cause: str = "") -> None:
        """The sky's verdict (AGENT_SAFETY). Unsafe: a step in hand that needs the sky is cut
        (the camera aborted, the frame not saved) and the run holds; safe: it goes on. Said to
        the journal while a run is under way, so a restart keeps the hold."""
        changed = self._unsafe == safe or (not safe and cause != self._cause)
        self._unsafe = not safe
        self._cause = "" if safe else cause
        self._told = True
        if safe:
            self._unsafe_now.clear()
        else:
            self._unsafe_now.set()
        if changed and self.state in (RunState.RUNNING, RunState.PAUSED):
            self.journal.note("safety", unsafe=self._unsafe, cause=self._cause)
        self._stir.set()
        if not safe and self.state is RunState.RUNNING:
            step, task = self._in_hand, self._step_task
            if step is not None and not self._allowed(step) and task is not None \
                    and task.cancel():
                self._cut = True
                logger.warning("unsafe (%s): %s cut short", cause or "no cause given", step.id)
                if isinstance(step, FrameStep):
                    await self._quietly(self.rig.camera.abort(), self.rig.camera.name, "abort",
                                        bound=SAFETY_ABORT_BOUND)
        if self.state is RunState.RUNNING:
            await self._report()

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> RunState:
        """Run the plan's steps not done yet, in order; returns how the run ended."""
        if self.state is RunState.RUNNING:
            raise RuntimeError("the sequence is already running")
        self._pause_asked = False
        self._abort_reason = ""
        self._wake.clear()
        self.reason = ""
        state = self.journal.state()
        if not state.plan_text:
            self.journal.start(self.plan.name, self.plan_text)
        elif state.finished:
            self.state = RunState.DONE
            self._done = set(state.done)  # reported as done, not "0 of N"
            await self._report()
            return self.state
        else:
            self.journal.resumed()
        self.store.sweep()
        self._done = reconcile(state, self.store,
                               [(step.id, step.file_name) for step in self.frame_steps],
                               self.journal)
        self._restore(state)
        self._journal_safety(state)
        self.state = RunState.RUNNING
        await self._report()
        try:
            await self._attempt(None)
            while not self._abort_reason:
                if self._pause_asked:
                    return await self._paused("")
                chosen = self._next_step()
                if chosen is None:
                    break
                if isinstance(chosen, _Hold):
                    if await self._hold():
                        await self._aborted(ENDED_UNSAFE)
                        return self.state
                    continue
                index, step = chosen
                self._step_index = index
                await self._report()
                try:
                    await self._attempt(step)
                except _Held:
                    continue
        except _Stopped:
            pass
        except _Paused:
            return await self._paused("")
        except RetriesExhausted as exhausted:
            lost = exhausted.__cause__
            return await self._paused(f"{lost} (tried {exhausted.failures + 1} times)")
        except RigError as refused:
            return await self._paused(str(refused))
        except (OSError, FITSError) as failed:
            return await self._paused(f"saving a frame failed: {failed}")
        if self._abort_reason:
            await self._aborted(self._abort_reason, journalled=True)
            return self.state
        self.journal.finished()
        self.state = RunState.DONE
        await self._report()
        return self.state

    async def _attempt(self, step: Step | None) -> None:
        """One step (None: the run's preparation), in a task an abort may cancel, retried by
        the retry policy while its device is lost."""
        async def once() -> None:
            if self._abort_reason:
                raise _Stopped
            if step is not None and self._unsafe and not self._allowed(step):
                raise _Held
            self._cut = False
            task = asyncio.ensure_future(self._execute(step))
            self._step_task = task
            self._in_hand = step
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not (current and current.cancelling()):
                    if self._abort_reason:
                        raise _Stopped from None
                    if self._cut:
                        raise _Held from None
                raise
            finally:
                self._step_task = None
                self._in_hand = None
                self._cut = False

        async def failed(error: BaseException) -> None:
            logger.warning("%s: %s", step.id if step else "preparing", error)
            self.reason = f"retrying: {error}"
            await self._report()

        await self.retry.call_with_retry(once, failed, errors=(DeviceLost,),
                                         sleep=lambda delay: self._nap(delay, pausable=True))
        self.reason = ""

    async def _execute(self, step: Step | None) -> None:
        if step is None:
            await self._prepare()
            return
        self.journal.begin(step.id)
        if isinstance(step, SlewStep):
            await self._slew(step.target_index)
        elif isinstance(step, WaitStep):
            await self._wait(self.plan.targets[step.target_index])
        elif isinstance(step, FrameStep):
            await self._frame(step)
            return  # journalled done with the frame
        elif isinstance(step, EndStep):
            await self._end()
        self.journal.done(step.id)
        self._done.add(step.id)

    async def _prepare(self) -> None:
        """Name the wheel, mount and focuser the camera's header reads (ACTIVE_DEVICES)."""
        rig = self.rig
        await self._bounded(rig.camera.name_devices(
            mount=rig.mount.name if rig.mount else "",
            focuser=rig.focuser.name if rig.focuser else "",
            wheel=rig.wheel.name if rig.wheel else ""), self.move_bound, rig.camera.name)

    # -- the steps -------------------------------------------------------------------------

    async def _slew(self, index: int) -> None:
        target = self.plan.targets[index]
        mount = self.rig.mount
        if mount is None or target.ra is None or target.dec is None:
            logger.warning("%s: no mount or no coordinates, the slew is skipped", target.name)
            return
        await self._bounded(mount.unpark(), self.move_bound, mount.name)
        await self._bounded(mount.slew_to(target.ra, target.dec), self.move_bound, mount.name)
        side = await self._bounded(mount.pier_side(), self.move_bound, mount.name)
        self._pier_before[index] = side
        self._flipped.discard(index)
        self._pointed.add(index)
        self._frames_since_dither = 0
        self.journal.note("slew", target=index, pier_side=side)

    async def _wait(self, target: Target) -> None:
        until = target.wait.until
        while until is not None and self.clock() < until:
            await self._nap(min(NAP, (until - self.clock()).total_seconds()), pausable=True)
        wanted = target.wait.altitude
        if wanted is None or target.ra is None or target.dec is None:
            return
        site = await self._where()
        who = self.rig.mount.name if self.rig.mount else "the plan"
        if site is None:
            raise DeviceRefused(who, "waiting for an altitude needs the site "
                                     "(the mount's GEOGRAPHIC_COORD or the plan's [site])")
        highest = 90.0 - abs(site.latitude - target.dec)
        if highest < wanted:
            raise DeviceRefused(who, f"{target.name} never rises above {highest:.1f} degrees, "
                                     f"so never to {wanted:g}")
        started = self.clock()
        while self._altitude(target, site) < wanted:
            if (self.clock() - started).total_seconds() > astro.SIDEREAL_DAY_SECONDS:
                raise DeviceRefused(who, f"{target.name} did not reach {wanted:g} degrees "
                                         "within a day")
            await self._nap(NAP, pausable=True)

    async def _frame(self, step: FrameStep) -> None:
        target = self.plan.targets[step.target_index]
        batch = step.batch
        rig = self.rig
        first_of_target = self._target_now != step.target_index
        self._target_now = step.target_index
        self._current = step
        sky = batch.frame_type not in SKY_FREE
        if sky and target.slew and rig.mount is not None \
                and step.target_index not in self._pointed:
            await self._repoint(step.target_index, target)
        if batch.frame_type == "Light" and target.slew and rig.mount is not None \
                and not await self._flip_if_due(step.target_index, target) \
                and dither_due(self._frames_since_dither, self.plan.dither_for(target)):
            await self._dither(target, batch.binning)
        if sky or not self._unsafe:
            await self._focus_if_due(step.target_index, target, batch.filter, first_of_target)
        if batch.filter is not None and rig.wheel is not None:
            await self._bounded(rig.wheel.select(batch.filter), self.move_bound, rig.wheel.name)
        await self._report()
        frame = await self._bounded(
            rig.camera.expose(batch.exposure, binning=batch.binning,
                              frame_type=batch.frame_type, gain=batch.gain,
                              offset=batch.offset),
            batch.exposure + self.camera_margin, rig.camera.name)
        data = frame.data
        if frame.format.lower().startswith(".fits"):
            data = with_cards(data, self._cards(step, target))
        self.store.save(step.file_name, data)
        self.journal.frame_saved(step.id, step.file_name, len(data),
                                 hashlib.sha256(data).hexdigest())
        self.journal.done(step.id)
        self._done.add(step.id)
        self._last_filter = batch.filter
        if batch.frame_type == "Light":
            self._frames_since_dither += 1
        await self._report()
        await self._tell(self.observer.frame(step.file_name, data))

    async def _repoint(self, index: int, target: Target) -> None:
        """The target slewed to again: its slew was done before a restart, but the mount may
        no longer point there. The flip's memory is kept (the mount picks the side)."""
        mount = self.rig.mount
        assert mount is not None and target.ra is not None and target.dec is not None
        logger.info("%s: pointing the mount at it again after the restart", target.name)
        await self._bounded(mount.unpark(), self.move_bound, mount.name)
        await self._bounded(mount.slew_to(target.ra, target.dec), self.move_bound, mount.name)
        self._pointed.add(index)
        self.journal.note("repoint", target=index)

    async def _end(self) -> None:
        end = self.plan.end
        mount = self.rig.mount
        if end.park and mount is not None:
            await self._bounded(mount.park(), self.move_bound, mount.name)
        if end.warm:
            await self._bounded(self.rig.camera.warm(), self.move_bound, self.rig.camera.name)

    # -- the decisions between frames --------------------------------------------------------

    async def _flip_if_due(self, index: int, target: Target) -> bool:
        """Flip once per target, after its hour angle passed the limit; True if it flipped."""
        mount = self.rig.mount
        if mount is None or index in self._flipped or target.ra is None or target.dec is None:
            return False
        site = await self._where()
        if site is None:
            return False
        now = self.clock()
        ra, _dec = astro.precess_from_j2000(target.ra, target.dec, now)
        angle = hour_angle(ra, astro.local_sidereal_time(now, site.longitude))
        flip = self.plan.flip_for(target)
        if not flip_due(angle, flip, self._pier_before.get(index)):
            return False
        logger.info("%s: hour angle %.2f degrees, past %.2f: meridian flip", target.name,
                    angle, flip.hour_angle_limit)
        await self._bounded(mount.slew_to(target.ra, target.dec), self.move_bound, mount.name)
        side = await self._bounded(mount.pier_side(), self.move_bound, mount.name)
        self._flipped.add(index)
        self._pointed.add(index)
        self.journal.note("flip", target=index, hour_angle=angle, pier_side=side)
        self._frames_since_dither = 0
        await self._nap(flip.settle, pausable=False)
        return True

    async def _dither(self, target: Target, binning: int) -> None:
        """Up to the plan's pixels (of the frame about to be taken: `binning` x the sensor's)
        at the rig's plate scale: the camera's pixel behind the mount's focal length."""
        mount = self.rig.mount
        assert mount is not None and target.ra is not None and target.dec is not None
        dither = self.plan.dither_for(target)
        scale = plate_scale(self.rig.camera.pixel_size(), mount.focal_length()) * binning
        offset = random_offset(self.rng, dither.pixels, scale)
        pulses = dither.method == "pulse" and mount.can_pulse()
        await self._bounded(apply(mount, offset, target=(target.ra, target.dec),
                                  rates=mount.guide_rates(), by_pulses=pulses),
                            self.move_bound, mount.name)
        self._frames_since_dither = 0
        self.journal.note("dither", method="pulse" if pulses else "offset",
                          north_arcsec=offset.north, west_arcsec=offset.west,
                          arcsec_per_pixel=scale)
        await self._nap(dither.settle, pausable=False)

    async def _focus_if_due(self, index: int, target: Target, filter: object,
                            first_of_target: bool) -> None:
        focuser = self.rig.focuser
        if self.focus is None or focuser is None:
            return
        settings = self.plan.autofocus_for(target)
        now = self.clock()
        temperature = await self._bounded(focuser.temperature(), self.move_bound, focuser.name)
        reason = autofocus_due(
            settings,
            first_of_target=first_of_target and index not in self._focused_targets,
            filter_changed=self._last_filter is not None and filter != self._last_filter,
            minutes_since=None if self._focus_time is None
            else (now - self._focus_time).total_seconds() / 60.0,
            temperature_moved=None if temperature is None or self._focus_temperature is None
            else temperature - self._focus_temperature)
        if reason is None:
            return
        logger.info("autofocus: %s", reason)
        if settings.filter is not None and self.rig.wheel is not None:
            await self._bounded(self.rig.wheel.select(settings.filter), self.move_bound,
                                self.rig.wheel.name)
        bound = settings.points * (settings.exposure + self.camera_margin) + self.move_bound
        result = await self._bounded(self.focus(self.rig.camera, focuser, settings), bound,
                                     focuser.name)
        self._focused_targets.add(index)
        self._focus_time = self.clock()
        self._focus_temperature = temperature
        if result.ok:
            self._hfr = result.hfr
            self._focus_position = result.position
        else:
            logger.warning("autofocus failed (%s): imaging goes on", result.reason)
        self.journal.note("autofocus", target=index, why=reason, ok=result.ok,
                          position=result.position, hfr=result.hfr, frames=result.frames,
                          reason=result.reason, at=self._focus_time.isoformat(),
                          temperature=temperature)

    def _restore(self, state: JournalState) -> None:
        """The decisions' memory from the journal's notes, after a restart."""
        notes = state.notes
        slew = notes.get("slew")
        if slew is not None:
            self._pier_before[int(slew["target"])] = slew.get("pier_side")
        flip = notes.get("flip")
        if flip is not None:
            self._flipped.add(int(flip["target"]))
        focus = notes.get("autofocus")
        if focus is not None:
            self._focused_targets.add(int(focus["target"]))
            self._focus_time = datetime.fromisoformat(str(focus["at"]))
            self._focus_temperature = focus.get("temperature")
            if focus.get("ok"):
                self._hfr = float(focus["hfr"])
                if focus.get("position") is not None:
                    self._focus_position = int(focus["position"])

    # -- safety ------------------------------------------------------------------------------

    def _allowed(self, step: Step) -> bool:
        """Whether `step` may run while unsafe: a dark or bias frame when the plan says so,
        and the End (it parks and warms)."""
        if isinstance(step, EndStep):
            return True
        return isinstance(step, FrameStep) and step.batch.frame_type in SKY_FREE \
            and self.plan.safety.sky_free_while_unsafe

    def _next_step(self) -> tuple[int, Step] | _Hold | None:
        """The next step not done (None: all done); while unsafe, the first one the plan lets
        go on (the End only once it is the last left), else `_Hold`."""
        pending = [(index, step) for index, step in enumerate(self.steps, start=1)
                   if step.id not in self._done]
        if not pending:
            return None
        if not self._unsafe:
            return pending[0]
        for index, step in pending:
            if self._allowed(step) and (not isinstance(step, EndStep) or len(pending) == 1):
                return index, step
        return _Hold()

    async def _hold(self) -> bool:
        """Wait, while unsafe, until safe, a pause, an abort, or the plan's night_end (True:
        the night is over). The mount is pointed again before the next sky frame."""
        self._pointed.clear()
        self._held = True
        self.reason = ""
        logger.warning("held: unsafe (%s)", self._cause or "no cause given")
        await self._report()
        try:
            while self._unsafe and not self._abort_reason and not self._pause_asked:
                self._stir.clear()
                end = self.plan.safety.night_end
                left = None if end is None else (end - self.clock()).total_seconds()
                if left is not None and left <= 0:
                    logger.warning("still unsafe past the end of the night (%s)",
                                   end.isoformat() if end else "")
                    return True
                waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._stir.wait())}
                if left is not None:
                    waiters.add(asyncio.ensure_future(self.sleep(min(NAP, left))))
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            self._held = False
        if not self._unsafe:
            logger.info("safe again: the sequence goes on")
        await self._report()
        return False

    def _journal_safety(self, state: JournalState) -> None:
        """At a run's start: the hold the journal recorded is restored, unless a client told
        this run otherwise (then the journal is told)."""
        recorded = state.notes.get("safety")
        was_unsafe = bool(recorded and recorded.get("unsafe"))
        if not self._told:
            if was_unsafe and recorded is not None:
                self._unsafe, self._cause = True, str(recorded.get("cause", ""))
                self._unsafe_now.set()
                logger.warning("the journal says unsafe (%s): held until safe",
                               self._cause or "no cause given")
        elif was_unsafe != self._unsafe or (recorded is not None and self._unsafe
                                            and recorded.get("cause") != self._cause):
            self.journal.note("safety", unsafe=self._unsafe, cause=self._cause)

    # -- helpers ---------------------------------------------------------------------------

    def _cards(self, step: FrameStep, target: Target) -> list[Card]:
        cards: list[Card] = [("OBJECT", target.name, "the plan's target"),
                             ("PLAN", self.plan.name[:60], "the sequencer's plan"),
                             ("SEQSTEP", step.id[:60], "the plan's step")]
        if self._hfr is not None:
            cards.append(("AFHFR", round(self._hfr, 3), "HFR of the last autofocus, pixels"))
        if self._focus_position is not None:
            # The camera's FOCUSPOS (where it snoops a focuser) is where the focuser is now;
            # this says where autofocus left it, whatever camera took the frame.
            cards.append(("AFPOS", self._focus_position,
                          "focuser position of the last autofocus"))
        return cards

    async def _where(self) -> Site | None:
        if self._site is None:
            mount = self.rig.mount
            if mount is not None:
                self._site = await self._bounded(mount.site(), self.move_bound, mount.name)
            if self._site is None:
                self._site = self.plan.site
        return self._site

    def _altitude(self, target: Target, site: Site) -> float:
        assert target.ra is not None and target.dec is not None
        now = self.clock()
        ra, dec = astro.precess_from_j2000(target.ra, target.dec, now)
        ha = astro.hour_angle(astro.local_sidereal_time(now, site.longitude), ra)
        return astro.altitude(ha, dec, site.latitude)

    async def _nap(self, seconds: float, *, pausable: bool) -> None:
        """Sleep, cut short by an abort (`_Stopped`) and, if `pausable`, by a pause."""
        if seconds <= 0:
            return
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        wakers = {asyncio.ensure_future(self._wake.wait())}
        in_hand = self._in_hand
        holds = pausable and in_hand is not None and not self._allowed(in_hand)
        if holds:
            wakers.add(asyncio.ensure_future(self._unsafe_now.wait()))
        try:
            await asyncio.wait({sleeper, *wakers}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waker in wakers:
                waker.cancel()
        if self._abort_reason:
            sleeper.cancel()
            raise _Stopped
        if self._pause_asked and pausable:
            sleeper.cancel()
            raise _Paused
        if holds and self._unsafe:
            sleeper.cancel()
            raise _Held
        await sleeper

    async def _bounded(self, call: Awaitable[T], seconds: float, device: str) -> T:
        """`call`, or `DeviceLost` naming `device` when it has not answered in `seconds`."""
        try:
            return await asyncio.wait_for(call, seconds)
        except TimeoutError:
            raise DeviceLost(device, f"no answer within {seconds:g} s") from None

    async def _quietly(self, call: Awaitable[object], device: str, what: str, *,
                       bound: float | None = None) -> None:
        """A call of the abort's path: a failure is logged, the abort goes on."""
        try:
            await self._bounded(call, self.move_bound if bound is None else bound, device)
        except (RigError, OSError) as exc:
            logger.warning("%s: %s failed: %s", device, what, exc)

    async def _tell(self, call: Awaitable[object]) -> None:
        try:
            await call
        except Exception:
            logger.exception("the sequencer's observer failed")

    async def _report(self) -> None:
        done = [step for step in self.frame_steps if step.id in self._done]
        current = self._current
        target = self.plan.targets[current.target_index] if current else None
        await self._tell(self.observer.progress(Progress(
            state=self.state, step=self._step_index, steps=len(self.steps),
            frames_done=len(done), frames_total=len(self.frame_steps),
            exposure_done=sum(step.batch.exposure for step in done),
            exposure_total=sum(step.batch.exposure for step in self.frame_steps),
            target=target.name if target else "",
            target_index=current.target_index + 1 if current else 0,
            batch=current.batch_index + 1 if current else 0,
            frame=self._in_batch[current.id] if current else 0,
            frames_in_batch=current.batch.count if current else 0,
            hfd=2.0 * self._hfr if self._hfr is not None else 0.0,
            reason=self.reason, unsafe=self._unsafe, held=self._held, cause=self._cause)))

    async def _paused(self, reason: str) -> RunState:
        """The run stops PAUSED: for `reason` (a failure), or for a client's `pause()`, which
        journalled it already and stays the journal's last word."""
        self.reason = reason
        if reason:
            self.journal.paused(reason)
            logger.warning("the sequence paused: %s", reason)
        if reason and self._pause_asked or not reason and not self._pause_asked:
            self.journal.paused(CLIENT_PAUSE)
        self.state = RunState.PAUSED
        await self._report()
        return self.state

    async def _aborted(self, reason: str, *, journalled: bool = False) -> None:
        if not journalled:
            self.journal.aborted(reason)
        self.reason = reason
        end = self.plan.end
        if end.park and self.rig.mount is not None:
            await self._quietly(self.rig.mount.park(), self.rig.mount.name, "park")
        if end.warm:
            await self._quietly(self.rig.camera.warm(), self.rig.camera.name, "warm")
        self.state = RunState.ABORTED
        await self._report()
