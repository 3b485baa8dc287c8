"""A scheduled plan's order of steps, pure: given tonight's blocks (`replan` from now with
what the journal says is left), the plan's steps, the steps done and the moment, what to do
next: a slew before a block's start (the block's `slewing` seconds before it, as the schedule
allowed for it), the block's target's next frame while it fits in the block,
a wait until the next block, a re-plan once a block has ended (whatever it took: a slew or
frames slower than planned leave frames the next schedule places) or when the block in hand
cannot take its next frame, or the night's end once no block is left.

A frame is taken only inside a block (it starts at or after the block's start and ends by its
end), and a block lies inside its target's window, so no frame falls outside its target's
constraints; a frame done is never taken again (tests/agents/schedule/test_schedule_order.py,
with hypothesis). The engine's side is sequencer/scheduledorder.py.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from indipyagents.plan.model import Plan
from indipyagents.plan.steps import FrameStep
from indipyagents.plan.steps import SlewStep
from indipyagents.plan.steps import Step

from .frames import remaining_after
from .greedy import Block
from .greedy import ScheduledNight
from .greedy import Unschedulable
from .greedy import replan
from .sky import Place

__all__ = ["BlockWait", "Finished", "Replan", "Take", "blocks_text", "choose", "in_hand",
           "never_imaged", "night_and_never", "the_night", "tonight"]


@dataclass(frozen=True)
class Take:
    """Run `step` now (a frame of the block in hand, or its slew)."""

    step: Step


@dataclass(frozen=True)
class BlockWait:
    """Nothing to take before `until`, the next block's start."""

    until: datetime


@dataclass(frozen=True)
class Replan:
    """The block in hand cannot take its target's next frame: schedule again from now."""


@dataclass(frozen=True)
class Finished:
    """No block left tonight: the night's close."""


Choice = Take | BlockWait | Replan | Finished


def tonight(plan: Plan, place: Place, now: datetime, done: Collection[str],
            pointed: int | None = None) -> tuple[Block, ...]:
    """Tonight's blocks from `now`, for the frames the steps `done` leave."""
    return the_night(plan, place, now, done, pointed).blocks


def the_night(plan: Plan, place: Place, now: datetime, done: Collection[str],
              pointed: int | None = None) -> ScheduledNight:
    """Tonight (its dusk, dawn and blocks) from `now`, for the frames `done` leave, the mount
    pointed at target `pointed` (None: parked, or not known)."""
    return night_and_never(plan, place, now, done, pointed)[0]


def never_imaged(plan: Plan, place: Place, now: datetime) -> tuple[Unschedulable, ...]:
    """The targets of a scheduled `plan` that one of their constraints keeps out of every
    night it asks for (`[schedule] nights`, from the night of `now`), each with its reason:
    said when the plan is loaded, before the run finds it out."""
    nights = plan.schedule.nights if plan.schedule is not None else 1
    result = replan(plan, place, now, remaining_after(plan, ()), nights=nights)
    return tuple(item for item in result.unschedulable if item.never)


def night_and_never(plan: Plan, place: Place, now: datetime, done: Collection[str],
                    pointed: int | None = None) -> tuple[ScheduledNight, tuple[Unschedulable, ...]]:
    """`the_night`, and the targets with frames left that one of their constraints keeps out
    of the rest of tonight (`Unschedulable.never`), each with its reason, so the run can
    name them rather than only count them."""
    result = replan(plan, place, now, remaining_after(plan, done), pointed=pointed)
    return result.nights[0], tuple(item for item in result.unschedulable if item.never)


def slew_of(block: Block) -> SlewStep:
    """The slew at `block`'s start: an id of its own, so a target's second block slews too."""
    return SlewStep(f"slew/{block.index}/{block.start.isoformat()}", block.index)


def choose(blocks: Sequence[Block], steps: Sequence[Step], done: Collection[str],
           now: datetime, pointed: int | None) -> Choice:
    """What to do at `now`; `pointed` the target the mount was last slewed to in this run."""
    frames = [frame for step in steps if (frame := step.as_frame) is not None
              and frame.id not in done]
    if any(block.end <= now for block in blocks):
        return Replan()  # a block ended (its frames taken or not: a slow slew, a frame late)
    for block in blocks:
        pending = [frame for frame in frames if frame.target_index == block.index]
        if not pending:
            continue  # done early: the next block
        if block.start > now:
            if pointed == block.index or block.no_sky:
                return BlockWait(block.start)
            slew_start = block.start - timedelta(seconds=block.slewing)
            if slew_start > now:
                return BlockWait(slew_start)
            return Take(slew_of(block))  # the slew the schedule allowed for
        if not _fits(pending[0], now, block):
            return Replan()
        if pointed != block.index and not block.no_sky:
            return Take(slew_of(block))  # darks and bias: no slew, the shutter closed
        return Take(pending[0])
    return Finished()


def _fits(frame: FrameStep, now: datetime, block: Block) -> bool:
    return now + timedelta(seconds=frame.batch.exposure) <= block.end


def in_hand(blocks: Sequence[Block], now: datetime) -> tuple[Block | None, Block | None]:
    """The block in hand at `now` (None: between blocks) and the next one."""
    later = [block for block in blocks if block.end > now]
    if later and later[0].start <= now:
        return later[0], later[1] if len(later) > 1 else None
    return None, later[0] if later else None


def block_line(block: Block) -> str:
    """``HH:MM-HH:MM target (N frames)``, UTC."""
    return f"{block.start:%H:%M}-{block.end:%H:%M} {block.target} ({block.frames} frames)"


def blocks_text(blocks: Sequence[Block]) -> str:
    """Tonight's blocks, one line each (AGENT_SCHEDULE)."""
    return "\n".join(block_line(block) for block in blocks) or "no block tonight"


def done_tonight(before: Sequence[Block], night: ScheduledNight | None, now: datetime) -> tuple[Block, ...]:
    """The blocks of tonight already done at `now`, kept for the picture when the schedule is
    made again from `now` (a new schedule starts at `now`, so what came before would vanish):
    the blocks `before` (done at an earlier re-plan) and those of the schedule being replaced
    that began before `now`, each cut at `now` (issue 89 item 11)."""
    if night is None:
        return tuple(before)
    begun = tuple(Block(b.target, b.start, min(b.end, now), b.frames, b.index, b.slewing)
                  for b in night.blocks if b.start < now)
    return (*before, *begun)
