"""`progress_of`: what a run reports (`Progress`, SEQUENCE_STATE and AGENT_IMAGER_STATS), read
from where it stands: its control's ledger, the frame in hand, the schedule, the triggers'
cards, the night's flats given up (`flatwork`). Apart from the engine, which only says when to report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..plan.model import Plan
from ..plan.steps import FrameStep
from ..plan.steps import place_in_batch
from .contracts import Progress
from .control import Control
from .control import Phase
from .scheduledorder import AnyStep
from .scheduledorder import ScheduledOrder
from .stepwork import StepWork
from .triggers import Trigger

__all__ = ["Running", "progress_of"]


class Running(Protocol):
    """What a report reads of a run (the engine's `Sequencer`)."""

    plan: Plan
    frame_steps: list[FrameStep]
    control: Control[AnyStep]
    order: ScheduledOrder | None
    triggers: list[Trigger]
    work: StepWork
    reason: str
    current: FrameStep | None   # the frame in hand, or the last one
    step_index: int             # 1-based index of the step in hand
    lost: str                   # the device lost past the retries, waited for

    @property
    def cause(self) -> str: ...


def progress_of(run: Running, steps: int) -> Progress:
    """The report of `run`, a plan of `steps` steps."""
    control, current = run.control, run.current
    done = [step for step in run.frame_steps if step.id in control.done]
    target = run.plan.targets[current.target_index] if current else None
    order = run.order
    return Progress(
        state=control.state, step=run.step_index, steps=steps,
        frames_done=len(done), frames_total=len(run.frame_steps),
        exposure_done=sum(step.batch.exposure for step in done),
        exposure_total=sum(step.batch.exposure for step in run.frame_steps),
        target=target.name if target else "",
        target_index=current.target_index + 1 if current else 0,
        batch=current.batch_index + 1 if current else 0,
        frame=place_in_batch(run.frame_steps, current) if current else 0,
        frames_in_batch=current.batch.count if current else 0,
        hfd=_hfd(run.triggers),
        reason=run.reason, unsafe=control.unsafe,
        held=control.phase is Phase.HELD, cause=run.cause,
        waiting=run.lost if control.phase is Phase.WAITING else "",
        block=order.in_hand() if order else "",
        schedule=order.listing() if order else "",
        picture=order.picture() if order else "",
        given_up=run.work.flats.given_up, sky_short=run.work.sky_flats.short,
        frames_given_up=run.work.grades.given_up)


def _hfd(triggers: Sequence[Trigger]) -> float:
    """2 x the HFR of the last autofocus, as the frames' AFHFR says it; 0: none."""
    for trigger in triggers:
        for keyword, value, _comment in trigger.cards():
            if keyword == "AFHFR" and isinstance(value, int | float):
                return 2.0 * value
    return 0.0
