"""What a scheduled night does once tonight's blocks are spent, pure: frames left go on to the
first block of a later night (`NextNight`: the agent parks as the plan's end says and sleeps
until the slew before it), within the ``[schedule]``'s `nights` counted from the night the
run began on; what no night left can take is given up (`GiveUp`, each target with its
reason, never waited for); nothing left: None, the plan's end.

The nights are scheduled afresh from what the journal says is left (`greedy.schedule`, the
mount parked at each night's start), so the next night's blocks are the ones the agent will
make again when it wakes. The engine's side is sequencer/scheduledorder.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Plan

from .frames import Remaining
from .greedy import ScheduledNight
from .greedy import Unschedulable
from .greedy import night_of
from .greedy import schedule
from .sky import Place

__all__ = ["GiveUp", "NextNight", "after_tonight", "nights_left"]


@dataclass(frozen=True)
class NextNight:
    """Sleep until `until` (the slew before `night`'s first block); `unschedulable`: the
    targets the nights left will not finish, said while waiting."""

    until: datetime
    night: ScheduledNight
    unschedulable: tuple[Unschedulable, ...]


@dataclass(frozen=True)
class GiveUp:
    """No night left takes the frames left: the plan's end, these targets named."""

    unschedulable: tuple[Unschedulable, ...]


def nights_left(settings: Schedule, first: date, tonight: date) -> int:
    """The nights after `tonight` that the schedule still covers (`nights` from `first`)."""
    return max(0, settings.nights - (tonight - first).days - 1)


def after_tonight(plan: Plan, place: Place, now: datetime, first: date,
                  remaining: Remaining) -> NextNight | GiveUp | None:
    """Tonight's blocks are spent at `now` (the run began on the night of `first`) with
    `remaining` frames left: the next night's first block, the targets given up, or None
    when nothing is left."""
    if not any(map(any, remaining)):
        return None
    settings = plan.schedule or Schedule()
    tonight = night_of(place, now)
    count = nights_left(settings, first, tonight)
    if count == 0:
        return GiveUp(tuple(
            Unschedulable(target.name, f"{sum(counts)} frames left after the schedule's "
                          f"{settings.nights} nights from {first.isoformat()}")
            for target, counts in zip(plan.targets, remaining, strict=True) if any(counts)))
    result = schedule(plan, place, tonight + timedelta(days=1), count, remaining=remaining)
    for night in result.nights:
        if night.blocks:
            block = night.blocks[0]
            return NextNight(block.start - timedelta(seconds=block.slewing), night,
                             result.unschedulable)
    return GiveUp(result.unschedulable)
