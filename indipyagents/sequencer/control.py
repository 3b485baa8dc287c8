"""The sequencer's control as pure code: where a run stands (`Phase`), what moves it
(`Event`), and `TABLE`, every move in one place; `Control` follows the table and keeps the
ledger of steps (done, in hand) and chooses the next step, holding while unsafe.

The engine (`engine.py`) only carries out what the phase says: RUNNING or PAUSING, the step
boundary (`NEXT`) then a step; HELD, a wait for safe; ABORTING, the park and warm. A step's
outcome comes back as an event: STEP_DONE, STEP_CUT (a pause cut a wait short, unsafe or an
abort cut the step: it stays pending and is taken again), DEVICE_LOST (a device lost past the
retries, on a rig that can tell when it is back), STEP_FAILED (a device refusing, or lost on a
rig that cannot tell). An event a phase has no row for is refused (`NoRow`, as h11's
LocalProtocolError refuses what its state machine has no move for), changing nothing: the
engine asks the table (`allows`) before a client's PAUSE or ABORT, and feeds nothing else a
phase has no row for (tests/agents/sequencer and tests/agents/night would fail on it). The
sky's verdict (SAFE, UNSAFE) has a row in every phase, as a step's outcome has in every phase
a step may be in hand (RUNNING, PAUSING, ABORTING). Clouds (CLOUDS, CLEAR: the frames'
grading, `cloudhold.py`) are a second verdict of the sky, kept apart from the client's so that
neither ends the other's hold: the run is unsafe while either says so.

A client's pause is the phase alone (PAUSING, then PAUSED; `pausing`): what cuts a wait short
(`Hands.nap`) and stops a retry reads it there, nowhere else.

Rules the table keeps (tests/agents/sequencer/test_control.py, with hypothesis):

- PAUSE lets the step in hand end: PAUSING, then PAUSED at the next step boundary; a pause
  while held pauses at once, and stands through SAFE (only a client's START runs again).
- UNSAFE never loses a step: the step cut is still pending, and chosen again once safe
  (`choose` lets only steps needing no sky go while unsafe, the close only once it is last).
- A device lost past the retries holds the run (WAITING, the step cut still pending) until
  DEVICE_BACK (the device defined again and connected), then it runs on as a RESTART would:
  the journal says what is done. A client's PAUSE or ABORT meanwhile stands (no resume after
  them); a device refusing (STEP_FAILED) waits for a human's START.
- ABORT ends: from any phase, ABORT then ABORT_DONE (the park and warm carried out) reaches a
  final phase. A run held past the plan's night_end aborts the same way (NIGHT_OVER).

No asyncio and no clock: any sequence of events is tested as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Generic
from typing import Protocol
from typing import TypeVar

from .contracts import RunState

__all__ = ["FINAL", "HOLD", "TABLE", "Control", "Event", "Hold", "NoRow", "Phase", "StepNeeds"]


class Phase(enum.Enum):
    IDLE = "idle"            # never run
    RUNNING = "running"      # taking steps
    PAUSING = "pausing"      # a pause asked: the step in hand ends first
    PAUSED = "paused"        # by a client; START runs on
    HELD = "held"            # unsafe, nothing the plan lets go on: waiting for safe
    WAITING = "waiting"      # a device lost past the retries: waiting for it to be back
    ABORTING = "aborting"    # the step in hand cut; the park and warm to carry out
    DONE = "done"
    ABORTED = "aborted"
    FAILED = "failed"        # a device refusing (or lost, unwatched); START retries


class Event(enum.Enum):
    START = "start"              # run() on a new journal
    RESTART = "restart"          # run() on a journal begun (a pause, a failure, an abort, a kill)
    NEXT = "next"                # a step boundary: the step in hand (if any) has ended
    PAUSE = "pause"              # a client's pause
    ABORT = "abort"              # a client's abort
    UNSAFE = "unsafe"            # the sky's verdict
    SAFE = "safe"
    CLOUDS = "clouds"            # the frames' stars collapsed: unsafe until a test frame
    CLEAR = "clear"              # a cloud hold's test frame showed the stars again
    STEP_DONE = "step done"
    STEP_CUT = "step cut"        # not done: stays pending
    STEP_FAILED = "step failed"  # a device refusing (or lost, on a rig that cannot tell)
    DEVICE_LOST = "device lost"  # a device lost past the retries: wait for it
    DEVICE_BACK = "device back"  # the device waited for is defined again and connected
    HOLD = "hold"                # unsafe, and no pending step may go on
    ALL_DONE = "all done"
    NIGHT_OVER = "night over"    # held past the plan's night_end
    ABORT_DONE = "abort done"    # the abort's park and warm carried out


def _stays(phase: Phase, *events: Event) -> dict[Event, Phase]:
    """Rows that keep `phase`: what is heard there and moves nothing."""
    return dict.fromkeys(events, phase)


#: The sky's verdicts, heard in any phase (the ledger's `unsafe`).
_SKY = (Event.UNSAFE, Event.SAFE, Event.CLOUDS, Event.CLEAR)
#: A step's outcome, heard where a step may be in hand.
_ENDED = (Event.STEP_DONE, Event.STEP_CUT)


def _begin(phase: Phase) -> dict[Event, Phase]:
    return {**_stays(phase, *_SKY), Event.START: Phase.RUNNING, Event.RESTART: Phase.RUNNING,
            Event.ABORT: Phase.ABORTING}


#: Every move: phase -> event -> next phase. An event not in a phase's row is refused.
TABLE: dict[Phase, dict[Event, Phase]] = {
    Phase.IDLE: _begin(Phase.IDLE),
    Phase.RUNNING: {**_stays(Phase.RUNNING, *_SKY, *_ENDED, Event.NEXT),
                    Event.PAUSE: Phase.PAUSING,
                    Event.ABORT: Phase.ABORTING, Event.STEP_FAILED: Phase.FAILED,
                    Event.DEVICE_LOST: Phase.WAITING,
                    Event.HOLD: Phase.HELD, Event.ALL_DONE: Phase.DONE},
    # A client's pause asked: nobody waits for the device, a human's START retries.
    Phase.PAUSING: {**_stays(Phase.PAUSING, *_SKY, *_ENDED),
                    Event.NEXT: Phase.PAUSED, Event.ABORT: Phase.ABORTING,
                    Event.STEP_FAILED: Phase.FAILED, Event.DEVICE_LOST: Phase.FAILED},
    # Safe or clear moves on: the next boundary holds again while the other verdict stands.
    Phase.HELD: {Event.UNSAFE: Phase.HELD, Event.SAFE: Phase.RUNNING,
                 Event.CLOUDS: Phase.HELD, Event.CLEAR: Phase.RUNNING,
                 Event.PAUSE: Phase.PAUSED,
                 Event.ABORT: Phase.ABORTING, Event.NIGHT_OVER: Phase.ABORTING},
    Phase.WAITING: {**_stays(Phase.WAITING, *_SKY),
                    Event.DEVICE_BACK: Phase.RUNNING, Event.PAUSE: Phase.PAUSED,
                    Event.ABORT: Phase.ABORTING, Event.NIGHT_OVER: Phase.ABORTING},
    # The step cut by the abort may end any way (its task done before the cancel came).
    Phase.ABORTING: {**_stays(Phase.ABORTING, *_SKY, *_ENDED, Event.STEP_FAILED,
                              Event.DEVICE_LOST),
                     Event.ABORT_DONE: Phase.ABORTED},
    Phase.PAUSED: _begin(Phase.PAUSED),
    Phase.FAILED: _begin(Phase.FAILED),
    Phase.ABORTED: {**_stays(Phase.ABORTED, *_SKY), Event.START: Phase.RUNNING,
                    Event.RESTART: Phase.RUNNING},
    Phase.DONE: {**_stays(Phase.DONE, *_SKY), Event.START: Phase.RUNNING,
                 Event.RESTART: Phase.RUNNING},
}

#: Where a run() returns.
FINAL = frozenset({Phase.IDLE, Phase.PAUSED, Phase.FAILED, Phase.ABORTED, Phase.DONE})

#: What a client sees of each phase (SEQUENCE_STATE): a failure is a pause with a reason.
RUN_STATE: dict[Phase, RunState] = {
    Phase.IDLE: RunState.IDLE, Phase.RUNNING: RunState.RUNNING,
    Phase.PAUSING: RunState.RUNNING, Phase.HELD: RunState.RUNNING,
    Phase.WAITING: RunState.RUNNING,
    Phase.ABORTING: RunState.RUNNING, Phase.PAUSED: RunState.PAUSED,
    Phase.FAILED: RunState.PAUSED, Phase.ABORTED: RunState.ABORTED, Phase.DONE: RunState.DONE}


class NoRow(Exception):
    """An event fed in a phase that has no row for it: refused, nothing changed."""

    def __init__(self, phase: Phase, event: Event) -> None:
        super().__init__(f"the sequencer's control has no row for {event.value!r} while "
                         f"{phase.value}")
        self.phase, self.event = phase, event


class StepNeeds(Protocol):
    """What the control asks of a step (plan/steps.py's steps fit)."""

    @property
    def id(self) -> str: ...

    @property
    def needs_sky(self) -> bool: ...

    @property
    def closing(self) -> bool: ...


S = TypeVar("S", bound=StepNeeds)


class Hold:
    """`choose`'s answer while unsafe with no pending step the plan lets go on."""

    def __repr__(self) -> str:
        return "HOLD"


HOLD = Hold()


class Control(Generic[S]):
    """The table followed, with the ledger: `done` (step ids), `in_hand` (the step taken, not
    yet ended), `told_unsafe` (a client's verdict) and `clouded` (the frames'); `unsafe`
    while either. `sky_free` is the plan's ``sky_free_while_unsafe``."""

    def __init__(self, steps: Sequence[S], *, sky_free: bool = False) -> None:
        self.steps = list(steps)
        self.sky_free = sky_free
        self.phase = Phase.IDLE
        self.told_unsafe = False
        self.clouded = False
        self.done: set[str] = set()
        self.in_hand: S | None = None

    @property
    def state(self) -> RunState:
        return RUN_STATE[self.phase]

    @property
    def unsafe(self) -> bool:
        """Whether the sky is unsafe: a client says so, or clouds hold the run."""
        return self.told_unsafe or self.clouded

    @property
    def active(self) -> bool:
        """A run() is under way (it has not returned)."""
        return self.phase not in FINAL

    @property
    def pausing(self) -> bool:
        """A client's pause asked, the step in hand still to end: the one place it is kept."""
        return self.phase is Phase.PAUSING

    def allows(self, event: Event) -> bool:
        """Whether the phase has a row for `event`."""
        return event in TABLE[self.phase]

    def feed(self, event: Event) -> Phase:
        """The phase after `event` (the table's row), the ledger kept; `NoRow` (nothing
        changed) when the phase has no row for it."""
        if not self.allows(event):
            raise NoRow(self.phase, event)
        if event in (Event.UNSAFE, Event.SAFE):
            self.told_unsafe = event is Event.UNSAFE
        elif event in (Event.CLOUDS, Event.CLEAR):
            self.clouded = event is Event.CLOUDS
        elif event in (Event.STEP_DONE, Event.STEP_CUT, Event.STEP_FAILED,
                       Event.DEVICE_LOST):
            # Whatever the phase: a frame saved while an abort came is still done.
            if event is Event.STEP_DONE and self.in_hand is not None:
                self.done.add(self.in_hand.id)
            self.in_hand = None
        self.phase = TABLE[self.phase][event]
        if self.phase in FINAL:
            self.in_hand = None  # a run that returned holds nothing
        return self.phase

    def begin(self, done: set[str]) -> None:
        """A run's start: the steps its journal (and the frames on disk) say are done."""
        if self.active:
            raise RuntimeError("the sequence is already running")
        self.done = set(done)
        self.in_hand = None

    def undo(self, step_id: str) -> None:
        """`step_id` no longer done: its frame was rejected, and is taken again."""
        self.done.discard(step_id)

    def may_go_on(self, step: StepNeeds) -> bool:
        """Whether `step` may run while unsafe: the close (it parks and warms), or a step
        needing no sky (darks, bias) when the plan says so."""
        return step.closing or (not step.needs_sky and self.sky_free)

    def choose(self) -> tuple[int, S] | Hold | None:
        """The next step not done, with its 1-based index (None: all done); while unsafe,
        the first one that may go on (the close only once it is the last left), else HOLD."""
        pending = [(index, step) for index, step in enumerate(self.steps, start=1)
                   if step.id not in self.done]
        if not pending:
            return None
        if not self.unsafe:
            return pending[0]
        for index, step in pending:
            if self.may_go_on(step) and (not step.closing or len(pending) == 1):
                return index, step
        return HOLD

    def take(self, step: S) -> bool:
        """`step` in hand, if it may start now (running or pausing, not done, and not held
        back by unsafe); False: it may not, and the engine does not start it."""
        if self.phase not in (Phase.RUNNING, Phase.PAUSING) or step.id in self.done \
                or self.in_hand is not None or (self.unsafe and not self.may_go_on(step)):
            return False
        self.in_hand = step
        return True

    def cuts(self) -> bool:
        """Whether the step in hand must be cut now: it needs the sky and it is unsafe."""
        step = self.in_hand
        return step is not None and self.unsafe and not self.may_go_on(step)
