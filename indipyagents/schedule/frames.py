"""A target's frames left, as the scheduler counts them: per batch, in the plan's order; a
frame takes its exposure plus the schedule's overhead. Pure."""

from __future__ import annotations

import math
from collections.abc import Collection
from collections.abc import Sequence

from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frames

#: Each target's frames left, batch by batch (the plan's order).
Remaining = tuple[tuple[int, ...], ...]


def remaining_of(plan: Plan, done: Sequence[Sequence[int]] | None = None) -> Remaining:
    """Every batch's count, less the frames `done` (per target, per batch) where given."""
    return tuple(
        tuple(max(0, batch.count - (done[t][b] if done is not None else 0))
              for b, batch in enumerate(target.batches))
        for t, target in enumerate(plan.targets))


def remaining_after(plan: Plan, done: Collection[str]) -> Remaining:
    """What is left once the frame steps whose ids are in `done` are taken: the journal's
    record of a night (held, or its agent restarted) turned into what a re-plan schedules.
    A frame graded rejected is not done (`journal.records.fold`, the control's `undo`), so
    across nights only accepted frames count."""
    counts = [[0] * len(target.batches) for target in plan.targets]
    for frame in frames(expand(plan)):
        if frame.id in done:
            counts[frame.target_index][frame.batch_index] += 1
    return remaining_of(plan, counts)


def seconds_left(target: Target, counts: Sequence[int], overhead: float) -> float:
    return sum(count * (batch.exposure + overhead)
               for batch, count in zip(target.batches, counts, strict=True))


def fit(target: Target, counts: Sequence[int], seconds: float, overhead: float,
        most: int | None = None) -> tuple[int, float, list[int]]:
    """The frames left that fit in `seconds`, taken in the batches' order (at most `most`):
    how many, the seconds they take, and the counts left after them."""
    left = list(counts)
    taken, used = 0, 0.0
    for index, batch in enumerate(target.batches):
        each = batch.exposure + overhead
        while left[index] and used + each <= seconds and (most is None or taken < most):
            if each == 0.0:  # a bias with no overhead takes no time: all of them at once
                taken += left[index]
                left[index] = 0
                break
            room = left[index] if math.isinf(seconds) else int((seconds - used) // each)
            now = min(left[index], room, (most - taken) if most is not None else room)
            if now <= 0:
                break
            taken += now
            used += now * each
            left[index] -= now
        if left[index]:
            break  # the next batch waits for this one
    return taken, used, left
