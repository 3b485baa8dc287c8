"""`ScheduledOrder`: the engine's next step for a plan with a ``[schedule]``, from tonight's
schedule instead of the plan's order (schedule/order.py decides, pure; this is its thin side).

Tonight's blocks are made (`replan` from now with what the journal says is left) at the run's
start, so at a restart after a crash; after a hold (unsafe weather; a lost device pauses the
run, and its START is a restart); and when the block in hand cannot take its next frame. At a
block's start the mount slews to its target; between blocks the run waits (`BlockWaitStep`, a
step a pause or an abort cuts short, and unsafe cuts as any step needing the sky). While
unsafe the control's own choice stands (darks and bias, or the hold).

Once tonight's blocks are spent with frames left, `nights.after_tonight` decides: the mount
parks (and the dome closes) as the plan's end says and the run sleeps until the slew before
the next night's first block (`BlockWaitStep` with `night_over`; a pause or an abort cuts it as
any wait), or the targets no night left can take are named and the plan's end follows.
The nights are counted from the one the run began on (the journal's note "schedule", so a
restart counts the same).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from typing import ClassVar

from ..plan.model import Plan
from ..plan.steps import SlewStep
from ..plan.steps import Step
from ..schedule.frames import remaining_after
from ..schedule.greedy import Block
from ..schedule.greedy import ScheduledNight
from ..schedule.greedy import Unschedulable
from ..schedule.greedy import night_of
from ..schedule.nights import GiveUp
from ..schedule.nights import NextNight
from ..schedule.nights import after_tonight
from ..schedule.order import BlockWait
from ..schedule.order import Finished
from ..schedule.order import Replan
from ..schedule.order import block_line
from ..schedule.order import blocks_text
from ..schedule.order import choose
from ..schedule.order import done_tonight
from ..schedule.order import in_hand
from ..schedule.order import night_and_never
from ..schedule.picture import night_svg
from ..schedule.sky import Place
from .control import Control
from .control import Hold
from .hands import Hands
from .stepwork import Done
from .stepwork import StepWork

logger = logging.getLogger(__name__)

#: Seconds waited before scheduling again when a fresh schedule's block cannot take a frame.
RETRY_WAIT = 60.0


@dataclass(frozen=True)
class BlockWaitStep:
    """Wait until `until`: the next block's start; or, `night_over` (tonight spent, frames
    left), the slew before the next night's first block, parked first (and the dome closed)
    as the plan's end says. Needs the sky (unsafe cuts it)."""

    id: str
    until: datetime
    night_over: bool = False
    needs_sky: ClassVar[bool] = True
    closing: ClassVar[bool] = False
    as_frame: ClassVar[None] = None

    async def by(self, work: StepWork) -> Done | None:
        if self.night_over:
            await work.close_night(quietly=False, warm=False)
        return Done() if await work.hands.nap_until(self.until) else None


AnyStep = Step | BlockWaitStep


class ScheduledOrder:
    """The next step of `plan` (scheduled) for the engine's `control`, on `hands`' clock and
    site."""

    def __init__(self, plan: Plan, steps: list[Step], control: Control[AnyStep],
                 hands: Hands) -> None:
        self.plan = plan
        self.steps = steps
        self.control = control
        self.hands = hands
        self.blocks: tuple[Block, ...] | None = None
        self.night: ScheduledNight | None = None
        self.place: Place | None = None
        self._picture: tuple[object, str] = (None, "")
        self.done: tuple[Block, ...] = ()  # tonight's blocks done: drawn, marked done
        self._pointed: int | None = None     # the target the last slew of this run reached
        self._slewing: tuple[str, int] | None = None
        self._ids = itertools.count(1)
        self._first: date | None = None     # the night the run began on (the journal's)
        self.coming: NextNight | None = None  # tonight spent: the night waited for
        self.given_up: GiveUp | None = None
        #: Tonight's targets with frames left that a constraint keeps out of it, with why.
        self.never: tuple[Unschedulable, ...] = ()

    def again(self, *, moved: bool) -> None:
        """Schedule again at the next step (`moved`: the mount may point elsewhere now)."""
        self.blocks = None
        if moved:
            self._pointed, self._slewing = None, None

    async def next(self) -> tuple[int, AnyStep] | Hold | None:
        """The next step with its 1-based index in the plan's steps (0: a step of the
        schedule's own), HOLD while unsafe with nothing to go on, None once all is done."""
        control = self.control
        if control.unsafe:
            return control.choose()
        site = await self.hands.site()
        if site is None:
            logger.warning("no site (the mount's GEOGRAPHIC_COORD or the plan's [site]): "
                           "the plan is taken in order")
            return control.choose()
        place = Place(site.latitude, site.longitude, site.elevation)
        if self._slewing is not None and self._slewing[0] in control.done:
            self._pointed, self._slewing = self._slewing[1], None
        now = self.hands.clock()
        if self.blocks is None:
            self._schedule(place, now)
        assert self.blocks is not None
        choice = choose(self.blocks, self.steps, control.done, now, self._pointed)
        if isinstance(choice, Replan):
            self._schedule(place, now)
            choice = choose(self.blocks, self.steps, control.done, now, self._pointed)
            if isinstance(choice, Replan):
                self.blocks = None
                return 0, self._wait(now.timestamp() + RETRY_WAIT, now)
        if isinstance(choice, BlockWait):
            return 0, self._wait(choice.until.timestamp(), now)
        if isinstance(choice, Finished):
            waiting = self._tomorrow(place, now)
            if waiting is not None:
                return 0, waiting
            end = next(step for step in self.steps if step.closing)
            return None if end.id in control.done else (len(self.steps), end)
        step = choice.step
        if isinstance(step, SlewStep):  # the block's slew: an id of its own each time
            step = SlewStep(f"{step.id}/{next(self._ids)}", step.target_index)
            self._slewing = (step.id, step.target_index)
        index = next((number for number, known in enumerate(self.steps, start=1)
                      if known.id == step.id), 0)
        return index, step

    def _wait(self, until: float, now: datetime) -> BlockWaitStep:
        moment = datetime.fromtimestamp(until, now.tzinfo)
        return BlockWaitStep(f"wait/{moment.isoformat()}/{next(self._ids)}", moment)

    def _tomorrow(self, place: Place, now: datetime) -> BlockWaitStep | None:
        """Tonight spent: the wait for the next night's first block, or None (the plan's
        end: nothing left, or what is left given up, and said)."""
        decision = after_tonight(self.plan, place, now, self._first_night(place, now),
                                 remaining_after(self.plan, self.control.done))
        self.coming, self.given_up = None, None
        if isinstance(decision, NextNight):
            self.coming = decision
            logger.info("tonight's blocks are spent: parked until %s, the night of %s",
                        decision.until.isoformat(), decision.night.date.isoformat())
            self._pointed, self._slewing = None, None
            self.blocks = None  # made again once awake: that night's
            return BlockWaitStep(f"night/{decision.night.date.isoformat()}/{next(self._ids)}",
                            decision.until, night_over=True)
        if isinstance(decision, GiveUp):
            self.given_up = decision
            for item in decision.unschedulable:
                logger.warning("not imaged: %s (%s)", item.target, item.reason)
        return None

    def _first_night(self, place: Place, now: datetime) -> date:
        """The night the run began on: the journal's note, else tonight (noted)."""
        if self._first is None:
            noted = self.hands.journal.state().notes.get("schedule", {}).get("first")
            if isinstance(noted, str):
                self._first = date.fromisoformat(noted)
            else:
                self._first = night_of(place, now)
                self.hands.journal.note("schedule", first=self._first.isoformat())
        return self._first

    def _schedule(self, place: Place, now: datetime) -> None:
        self._first_night(place, now)
        self.coming = None
        night, never = night_and_never(self.plan, place, now, self.control.done,
                                       self._pointed)
        same = self.night is not None and self.night.date == night.date
        self.done = done_tonight(self.done if same else (), self.night if same else None, now)
        self.night = night
        self.blocks, self.place = self.night.blocks, place
        if never != self.never:
            for item in never:
                logger.warning("not tonight: %s (%s)", item.target, item.reason)
        self.never = never
        logger.info("tonight's schedule from %s: %s", now.isoformat(),
                    blocks_text(self.blocks).replace("\n", "; "))

    def in_hand(self) -> str:
        """The block in hand and the next, for SEQUENCE_STATE's and PLAN_STATUS's message;
        between two nights, the night waited for; at the end, what was given up."""
        if self.coming is not None:
            first = self.coming.night.blocks[0]
            return (f"tonight's blocks done, parked until the night of "
                    f"{self.coming.night.date.isoformat()}: next {block_line(first)}")
        if self.given_up is not None and self.given_up.unschedulable:
            return "not imaged: " + "; ".join(f"{item.target} ({item.reason})"
                                              for item in self.given_up.unschedulable)
        parts = []
        if self.blocks:
            current, coming = in_hand(self.blocks, self.hands.clock())
            parts = [f"block {block_line(current)}"] if current else []
            if coming is not None:
                parts.append(f"next {block_line(coming)}")
        if self.never:
            parts.append("not tonight: " + "; ".join(f"{item.target} ({item.reason})"
                                                     for item in self.never))
        return "; ".join(parts)

    def picture(self) -> str:
        """Tonight as SVG (`picture.night_svg`), drawn again when the schedule or the block
        in hand changes; "" before it is made."""
        night, place = self.coming.night if self.coming else self.night, self.place
        if night is None or place is None:
            return ""
        now = self.hands.clock()
        current = in_hand(night.blocks, now)[0]
        done = () if self.coming else self.done
        key = (id(night), current, done)
        if self._picture[0] != key:
            self._picture = (key, night_svg(self.plan, place, night, now=now, in_hand=current,
                                            done=done))
        return self._picture[1]

    def listing(self) -> str:
        """Tonight's blocks, a line each (AGENT_SCHEDULE); "" before it is made."""
        if self.coming is not None:
            return blocks_text(self.coming.night.blocks)
        return "" if self.blocks is None else blocks_text(self.blocks)
