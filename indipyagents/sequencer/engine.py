"""`Sequencer`: a plan run on the rig, one step at a time, each step journalled, so that a
restart (the server killed, the power gone) continues exactly where the run stopped.

The plan is expanded into steps with stable ids (a slew, a wait, one step per frame, the end); a
run skips the steps the journal (and the frames on disk: `reconcile`) say are done. Where the run
stands is `control.py`'s table; this class carries out what its phase asks (a step, a hold, the
abort's park, dome close and warm) and feeds it what happened. The steps are carried out by
`stepwork.py`; between frames the triggers (`triggers/`: the dome opened, re-point, meridian flip,
dither, autofocus) each decide and act with their own memory, restored from the journal's notes.

Failures: a `DeviceLost` retries the step by the retry policy (a client's DISCONNECT not:
`toolwait.POLICY`); past the retries the run waits (Alert naming it, `toolwait`) for the device its
`Presence` sees back, or its tool's (the solver's) `retry_after`; else (a `DeviceRefused` too) it
pauses naming it (journalled). Every rig call is bounded (`Hands`): a silent device is lost.

Pause and abort, at any time: `pause()` lets the step in hand end (a frame being exposed is
finished and saved, as INDIGO's pause does; a wait is cut short and waited again on resume), then
the run returns PAUSED. `abort()` stops at once: the step's task is cancelled and the camera
aborted (that frame is not saved), then the End's park and warm, and the run returns ABORTED.

Safety (`set_safety`, the face's AGENT_SAFETY, a watchdog's verdict): see ``holding.py``. A
plan with a [schedule] runs by tonight's schedule (`ScheduledOrder`), made again at a restart,
after a hold and once a lost device is back.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from typing import Any

from indipycore.fits import FITSError
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry

from ..astrometry.solver import Solver
from ..journal import FrameStore
from ..journal import Journal
from ..journal import JournalState
from ..journal import reconcile
from ..journal.flatbook import FlatBook
from ..plan.model import Plan
from ..plan.steps import SKY_FREE
from ..plan.steps import FrameStep
from ..plan.steps import Step
from ..plan.steps import expand
from ..plan.steps import frame_steps
from ..plan.steps import frames
from ..rig.protocols import DeviceLost
from ..rig.protocols import Rig
from ..rig.protocols import RigError
from . import toolwait
from .contracts import FocusRun
from .contracts import Observer
from .contracts import RunState
from .contracts import Silent
from .contracts import utcnow
from .control import Control
from .control import Event
from .control import Hold
from .control import Phase
from .hands import Framing
from .hands import Hands
from .hands import Held
from .hands import News
from .holding import Woke
from .holding import wait_held
from .progressof import progress_of
from .scheduledorder import AnyStep
from .scheduledorder import ScheduledOrder
from .stepwork import Done
from .stepwork import StepWork
from .triggers import triggers

__all__ = ["CLIENT_PAUSE", "DEFAULT_RETRY", "ENDED_UNSAFE", "SKY_FREE", "Sequencer"]

logger = logging.getLogger(__name__)

#: The journalled reason of a client's pause: a night paused so is not resumed by a restart.
CLIENT_PAUSE = "paused by a client"
#: The reason a night still held once its night_end passed ends with.
ENDED_UNSAFE = "ended: unsafe past the end of the night"
#: Seconds the camera's abort may take when unsafe cuts a frame (the watchdog waits ~10 s).
SAFETY_ABORT_BOUND = 5.0
#: A lost device's step is tried again after 2, 4, 8, 16 s, then the run pauses.
DEFAULT_RETRY = Retry(ExponentialBackoff(initial=2.0, cap=30.0), retries=4)
#: Seconds a camera may take past its exposure (download, a slow driver) before it is lost.
CAMERA_MARGIN = 120.0
#: Seconds a move (slew, park, wheel, focuser) or a question may take before its device is lost.
MOVE_BOUND = 600.0


class Sequencer:
    """Runs `plan` on `rig`, journalled in `journal`, frames saved in `store`.

    `run()` runs (or continues) the plan and returns how it ended: DONE, PAUSED (`reason`
    names the device when a failure paused it) or ABORTED; call it again to resume. `clock`,
    `sleep`, `rng` are injected (a night in a moment); `move_bound`, `camera_margin` bound
    every rig call; `solver` is the centring's (`Hands`); `flat_book` the flats learnt.
    Where the run stands is `control` (control.py's table); this class carries out what its
    phase says and feeds it what happened."""

    def __init__(self, plan: Plan, rig: Rig, journal: Journal, store: FrameStore, *,
                 plan_text: str = "", focus: FocusRun | None = None,
                 observer: Observer | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 rng: random.Random | None = None, retry: Retry = DEFAULT_RETRY,
                 move_bound: float = MOVE_BOUND, camera_margin: float = CAMERA_MARGIN,
                 solver: Solver | None = None, flat_book: FlatBook | None = None) -> None:
        self.plan, self.plan_text = plan, plan_text
        self.journal = journal
        self.store = store
        self.observer: Observer = observer or Silent()
        self.retry = retry
        self.steps: list[Step] = expand(plan)
        self.frame_steps = frames(self.steps)
        self.control: Control[AnyStep] = Control(self.steps,
                                                 sky_free=plan.safety.sky_free_while_unsafe)
        self.hands = Hands(plan, rig, journal, focus=focus, clock=clock, sleep=sleep,
                           rng=rng or random.Random(), move_bound=move_bound,
                           camera_margin=camera_margin, solver=solver,
                           listeners=lambda: (*self.triggers, self),
                           pausing=lambda: self.control.pausing)
        self.triggers = triggers(self.hands)
        self.work = StepWork(self.hands, store, self.triggers,
                             unsafe=lambda: self.control.unsafe, report=self._report,
                             flat_book=flat_book, control=self.control)
        self.order = None if plan.schedule is None else \
            ScheduledOrder(plan, self.steps, self.control, self.hands)
        self.reason = ""
        self._cause = ""
        self._told = False  # a client said safe or unsafe (else the journal's hold stands)
        self._ending = ""   # the abort's reason, which the run ends with
        self.lost, self._after = "", 0.0  # what the run waits for, how long (`toolwait.ToolWait`)
        self.step_index = 0  # these three as `progressof.Running` reads them
        self.current: FrameStep | None = None
        self._task: asyncio.Task[Done | None] | None = None
        self._stir = asyncio.Event()

    @property
    def state(self) -> RunState:
        return self.control.state

    @property
    def unsafe(self) -> bool:
        """Whether the run is told the sky is unsafe (by `set_safety`, or its journal)."""
        return self.control.told_unsafe

    @property
    def cause(self) -> str:
        return self._cause or (self.work.grades.clouds.cause if self.control.clouded else "")

    @property
    def rig(self) -> Rig:
        return self.hands.rig

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
        if self.control.allows(Event.PAUSE):  # the table says when (a second one: no row)
            self.control.feed(Event.PAUSE)
            self.hands.ring()
            self._stir.set()
            self.journal.paused(CLIENT_PAUSE)

    async def abort(self, reason: str = "aborted by a client") -> None:
        """Stop at once: the camera aborted, the frame in hand lost; then park and warm as the
        plan's End says. A run that is paused is aborted too (the journal says so, at once:
        a restart before the run has stopped must not resume it)."""
        if not self.control.allows(Event.ABORT):  # aborting, aborted or done already
            return
        returned = not self.control.active  # no run() to carry the abort out
        self.journal.aborted(reason)
        self._ending = reason
        self.control.feed(Event.ABORT)
        if returned:
            await self._wind_up()
            return
        self._stir.set()
        if self._task is not None:
            self._task.cancel()
        await self.hands.quietly(self.rig.camera.abort(), self.rig.camera.name, "abort")

    async def set_safety(self, safe: bool, cause: str = "") -> None:
        """The sky's verdict (AGENT_SAFETY). Unsafe: a step in hand that needs the sky is cut
        (the camera aborted, the frame not saved) and the run holds; safe: it goes on. Said to
        the journal while a run is under way, so a restart keeps the hold."""
        control = self.control
        changed = control.told_unsafe == safe or (not safe and cause != self._cause)
        control.feed(Event.SAFE if safe else Event.UNSAFE)
        self._cause, self._told = ("" if safe else cause), True
        if not safe:  # a watchdog may park the mount now, while sky-free frames go on
            self.hands.tell(Held())
        if changed and self.state in (RunState.RUNNING, RunState.PAUSED):
            self.journal.note("safety", unsafe=control.told_unsafe, cause=self._cause)
        self._stir.set()
        step, task = control.in_hand, self._task
        if not safe and control.cuts() and step is not None and task is not None and task.cancel():
            logger.warning("unsafe (%s): %s cut short", cause or "no cause given", step.id)
            if step.as_frame is not None:  # the camera stops exposing it
                await self.hands.quietly(self.rig.camera.abort(), self.rig.camera.name, "abort",
                                    bound=SAFETY_ABORT_BOUND)
        if self.state is RunState.RUNNING:
            await self._report()

    def hear(self, news: News) -> None:
        """The frame in hand, for the reports."""
        if isinstance(news, Framing):
            self.current = news.step

    # -- the run: what each phase asks ------------------------------------------------------

    async def run(self) -> RunState:
        """Run the plan's steps not done yet, in order; returns how the run ended."""
        control = self.control
        if control.active:
            raise RuntimeError("the sequence is already running")
        self.reason = ""
        state = self.journal.state()
        if state.finished:
            control.begin(set(state.done))  # reported as done, not "0 of N"
            control.feed(Event.RESTART)
            control.feed(Event.ALL_DONE)
            await self._report()
            return self.state
        if not state.plan_text:
            self.journal.start(self.plan.name, self.plan_text)
        else:
            self.journal.resumed()
        self.store.sweep(name for _, name in frame_steps(self.steps))
        control.begin(reconcile(state, self.store, frame_steps(self.steps), self.journal))
        for trigger in self.triggers:
            trigger.restore(state.notes)
        self._journal_safety(state)
        control.feed(Event.RESTART if state.plan_text else Event.START)
        if self.order is not None:
            self.order.again(moved=True)
        await self._report()
        await self._ended(*await self._attempt(None))
        carry_out = {Phase.RUNNING: self._next, Phase.PAUSING: self._next,
                     Phase.HELD: self._hold, Phase.WAITING: self._wait_device,
                     Phase.ABORTING: self._wind_up}
        try:
            while control.active:
                await carry_out[control.phase]()
        finally:  # the night's measuring worker ended with its run
            await self.work.grades.close()
        return self.state

    async def _next(self) -> None:
        """A step boundary: the pause asked takes effect, else the next step, the hold, or
        the end of the plan."""
        control = self.control
        if control.feed(Event.NEXT) is Phase.PAUSED:
            self.reason = ""
            await self.work.rest()  # verdicts taken in, the guider stopped
            await self._report()
            return
        chosen = control.choose() if self.order is None else await self.order.next()
        if control.phase is not Phase.RUNNING:
            return  # a pause or an abort while the schedule was made: carried out next
        if chosen is None:
            control.feed(Event.ALL_DONE)
            self.journal.finished()
            await self._report()
        elif isinstance(chosen, Hold):
            control.feed(Event.HOLD)
            self.hands.tell(Held())
        else:
            self.step_index, step = chosen
            await self._report()
            await self._ended(*await self._attempt(step))

    async def _attempt(self, step: AnyStep | None) -> tuple[Event, Done | None]:
        """One step (None: the run's preparation) in a task an abort or unsafe may cancel,
        retried by the retry policy while its device is lost; its outcome as an event."""
        if step is not None and not self.control.take(step):
            return Event.STEP_CUT, None
        tries = 0

        async def once() -> Done | None:
            nonlocal tries
            tries += 1
            if tries > 1 and self.control.pausing:
                return None  # a pause cut the retry's wait
            if step is None:
                return await self.work.prepare()
            self.journal.begin(step.id)
            return await step.by(self.work)

        async def failed(error: BaseException) -> None:
            logger.warning("%s: %s", step.id if step else "preparing", error)
            self.reason = f"retrying: {error}"
            await self._report()

        task = asyncio.ensure_future(self.retry.call_with_retry(
            once, failed, errors=(DeviceLost,), retryable=toolwait.retried,
            sleep=lambda delay: self.hands.nap(delay, pausable=True)))
        self._task = task
        try:
            done = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return Event.STEP_CUT, None  # an abort or unsafe cut it
        except (RetriesExhausted, DeviceLost) as failure:  # `toolwait.POLICY` gave up on it
            lost, self.reason = toolwait.given_up(failure)
            wait = toolwait.wait_for(lost, self.rig.presence is not None)
            if wait is not None:  # a device back, or a tool's next try on the clock
                self.lost, self._after = wait.device, wait.after
                return Event.DEVICE_LOST, None
            return Event.STEP_FAILED, None
        except RigError as refused:
            self.reason = str(refused)
            return Event.STEP_FAILED, None
        except (OSError, FITSError) as error:
            self.reason = f"saving a frame failed: {error}"
            return Event.STEP_FAILED, None
        finally:
            self._task = None
        self.reason = ""
        if done is None:
            return Event.STEP_CUT, None
        if step is not None:
            self.journal.done(step.id)
        return Event.STEP_DONE, done

    async def _ended(self, event: Event, done: Done | None) -> None:
        """A step's outcome fed to the control; a frame shown, a failure journalled."""
        pausing = self.control.phase is Phase.PAUSING
        if self.control.feed(event) is Phase.WAITING:
            self.journal.note("device", lost=self.lost, reason=self.reason)
            logger.warning("waiting for %s: %s", self.lost, self.reason)
            self.hands.tell(Held())  # a device started again may point elsewhere
        elif event in (Event.STEP_FAILED, Event.DEVICE_LOST):
            self.journal.paused(self.reason)
            logger.warning("the sequence paused: %s", self.reason)
            if pausing:  # the client's pause stays the journal's last word
                self.journal.paused(CLIENT_PAUSE)
            await self._report()
        elif done is not None and done.shown is not None:
            await self._report()
            await self._tell(self.observer.frame(*done.shown))

    async def _hold(self) -> None:
        """Wait, while held, until safe, a pause, an abort, or the plan's night_end (then the
        night ends: NIGHT_OVER). The mount is pointed again before the next sky frame."""
        self.reason = ""
        logger.warning("held: unsafe (%s)", self.cause or "no cause given")
        await self._report()
        if await self._held(Phase.HELD, self.work.grades.clouds.testing()) is Woke.NIGHT_OVER:
            self._night_over(ENDED_UNSAFE)
            return
        if not self.control.unsafe:
            logger.info("safe again: the sequence goes on")
        if self.order is not None:
            self.order.again(moved=True)
        await self._report()

    async def _wait_device(self) -> None:
        """Wait for the device lost past the retries (the rig's `Presence`), a pause, an
        abort, or the night_end. Back: journalled, and on as a restart would: the camera
        prepared again, a schedule made again from what remains, the step taken again."""
        device, why, presence = self.lost, self.reason, self.rig.presence
        self.reason = toolwait.waiting_said(why, device, self._after, self.hands.clock())
        await self._report()
        woke = await self._held(Phase.WAITING, self.hands.sleep(self._after) if self._after
                                else None if presence is None else presence.back(device))
        self.reason = why  # a client's pause meanwhile: paused naming the device
        if woke is Woke.NIGHT_OVER:
            self._night_over(f"ended: waiting for {device} past the end of the night")
        elif woke is Woke.BACK:
            self.journal.note("device", back=device, at=self.hands.clock().isoformat())
            logger.info("%s is back: the sequence goes on", device)
            self.control.feed(Event.DEVICE_BACK)
            self.lost = self.reason = ""
            if self.order is not None:
                self.order.again(moved=True)
            await self._report()
            await self._ended(*await self._attempt(None))
        elif self.control.phase is Phase.PAUSED:
            await self._report()

    async def _held(self, phase: Phase, back: Awaitable[object] | None = None) -> Woke:
        return await wait_held(lambda: self.control.phase is phase, self._stir,
                               night_end=self.plan.safety.night_end, clock=self.hands.clock,
                               sleep=self.hands.sleep, back=back)

    def _night_over(self, reason: str) -> None:
        """Still held once the plan's night_end passed: the night ends (park and warm)."""
        end = self.plan.safety.night_end
        logger.warning("%s (%s)", reason, end.isoformat() if end else "")
        self.journal.aborted(reason)
        self._ending = reason
        self.control.feed(Event.NIGHT_OVER)

    async def _wind_up(self) -> None:
        """The abort carried out: park, close the dome and warm as the plan's End says, each
        failure logged."""
        self.reason = self._ending
        await self.work.close_night(quietly=True)
        self.control.feed(Event.ABORT_DONE)
        await self._report()

    # -- helpers ---------------------------------------------------------------------------

    def _journal_safety(self, state: JournalState) -> None:
        """At a run's start: the hold the journal recorded is restored, unless a client told
        this run otherwise (then the journal is told)."""
        recorded = state.notes.get("safety")
        was_unsafe = bool(recorded and recorded.get("unsafe"))
        unsafe = self.control.told_unsafe
        if not self._told:
            if was_unsafe and recorded is not None:
                self.control.feed(Event.UNSAFE)
                self._cause = str(recorded.get("cause", ""))
                logger.warning("the journal says unsafe (%s): held until safe",
                               self._cause or "no cause given")
        elif was_unsafe != unsafe or (recorded is not None and unsafe
                                      and recorded.get("cause") != self._cause):
            self.journal.note("safety", unsafe=unsafe, cause=self._cause)

    async def _tell(self, call: Awaitable[object]) -> None:
        try:
            await call
        except Exception:
            logger.exception("the sequencer's observer failed")

    async def _report(self) -> None:
        await self._tell(self.observer.progress(progress_of(self, len(self.steps))))
