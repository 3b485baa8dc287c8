"""`ScheduledOrder`: the engine's next step for a plan with a ``[schedule]``, from tonight's
schedule instead of the plan's order (schedule/order.py decides, pure; this is its thin side).

Tonight's blocks are made (`replan` from now with what the journal says is left) at the run's
start, so at a restart after a crash; after a hold (unsafe weather; a lost device pauses the
run, and its START is a restart); and when the block in hand cannot take its next frame. At a
block's start the mount slews to its target; between blocks the run waits (`BlockWaitStep`, a
step a pause or an abort cuts short, and unsafe cuts as any step needing the sky). While
unsafe the control's own choice stands (darks and bias, or the hold).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from ..plan.model import Plan
from ..plan.steps import EndStep
from ..plan.steps import SlewStep
from ..plan.steps import Step
from ..schedule.greedy import Block
from ..schedule.greedy import Night
from ..schedule.order import BlockWait
from ..schedule.order import Finished
from ..schedule.order import Replan
from ..schedule.order import block_line
from ..schedule.order import blocks_text
from ..schedule.order import choose
from ..schedule.order import in_hand
from ..schedule.order import the_night
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
#: The longest nap of a wait between two looks at a pause.
NAP = 30.0


@dataclass(frozen=True)
class BlockWaitStep:
    """Wait until `until`, the next block's start; needs the sky (unsafe cuts it)."""

    id: str
    until: datetime
    needs_sky: ClassVar[bool] = True
    closing: ClassVar[bool] = False
    as_frame: ClassVar[None] = None

    async def by(self, work: StepWork) -> Done | None:
        hands = work.hands
        while hands.clock() < self.until:
            left = (self.until - hands.clock()).total_seconds()
            if not await hands.nap(min(NAP, left), pausable=True):
                return None
        return Done()


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
        self.night: Night | None = None
        self.place: Place | None = None
        self._picture: tuple[object, str] = (None, "")
        self._pointed: int | None = None     # the target the last slew of this run reached
        self._slewing: tuple[str, int] | None = None
        self._ids = itertools.count(1)

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
            end = next(step for step in self.steps if isinstance(step, EndStep))
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

    def _schedule(self, place: Place, now: datetime) -> None:
        self.night = the_night(self.plan, place, now, self.control.done, self._pointed)
        self.blocks, self.place = self.night.blocks, place
        logger.info("tonight's schedule from %s: %s", now.isoformat(),
                    blocks_text(self.blocks).replace("\n", "; "))

    def in_hand(self) -> str:
        """The block in hand and the next, for SEQUENCE_STATE's and PLAN_STATUS's message."""
        if not self.blocks:
            return ""
        current, coming = in_hand(self.blocks, self.hands.clock())
        parts = [f"block {block_line(current)}"] if current else []
        if coming is not None:
            parts.append(f"next {block_line(coming)}")
        return "; ".join(parts)

    def picture(self) -> str:
        """Tonight as SVG (`picture.night_svg`), drawn again when the schedule or the block
        in hand changes; "" before it is made."""
        night, place = self.night, self.place
        if night is None or place is None:
            return ""
        now = self.hands.clock()
        current = in_hand(night.blocks, now)[0]
        key = (id(night), current)
        if self._picture[0] != key:
            self._picture = (key, night_svg(self.plan, place, night, now=now, in_hand=current))
        return self._picture[1]

    def listing(self) -> str:
        """Tonight's blocks, a line each (AGENT_SCHEDULE); "" before it is made."""
        return "" if self.blocks is None else blocks_text(self.blocks)
