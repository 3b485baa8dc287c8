"""The schedule: a scheduled plan's targets placed in its nights, greedy as Ekos's.

At each moment the target taken is the one of highest priority (1 first; ties: the one whose
window closes first, then the plan's order) whose constraints hold and which still has frames
to take, and which can keep the telescope `min_minutes` (or for what its frames left take);
it keeps it until its window closes, its frames are done, or, `min_minutes` on, a target of
higher priority can begin. When none can, the schedule skips to the first moment one can, so
the telescope is busy whenever some target may be imaged. A block ends on a frame's end.
A block of another target than the last one begins once the mount has slewed there
(`slewing.slew_seconds`: its `slewing` seconds lie between the last block's end and its start,
or before its start when it waits for its window), so no frame is counted into a slew; the
night's first block slews from the park.
Night after night, each target's frames left are carried forward; what is left after the
last night is `Unschedulable`, with the reason. Pure: the site, the nights and what is left
are given (`replan` is the same from a moment of the night, after a hold or a restart).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import timedelta

from indipyagents.plan.constraints import TWILIGHT_SUN_ALTITUDE
from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.constraints import effective
from indipyagents.plan.model import Plan

from . import sky
from .darkblocks import dark_targets
from .darkblocks import placed_after
from .frames import Remaining
from .frames import fit
from .frames import remaining_of
from .frames import seconds_left
from .sky import Place
from .skyflatblocks import flat_spans
from .skyflatblocks import placed
from .skyflatblocks import sky_flat_targets
from .skyrules import Constraint
from .skyrules import constraints_of
from .slewing import slew_seconds
from .windows import NightSky
from .windows import Span
from .windows import Tally
from .windows import windows


@dataclass(frozen=True)
class Block:
    """`frames` frames of target number `index` (in the plan), named `target`, from `start`
    (the first frame's) to `end`; the slew to it takes the `slewing` seconds before `start`
    (0: the mount is already there)."""

    target: str
    start: datetime
    end: datetime
    frames: int
    index: int
    slewing: float = 0.0
    flats: str = ""  # "dusk" or "dawn": the target's sky flats (`skyflatblocks`)
    no_sky: bool = False  # darks or bias: no slew, after the night's last (`darkblocks`)


@dataclass(frozen=True)
class ScheduledNight:
    """The night that begins on the evening of `date` at the site: dusk and dawn of the
    schedule's twilight (None: no such night, as a summer night too short for it)."""

    date: date
    dusk: datetime | None
    dawn: datetime | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Unschedulable:
    """A target with frames left, and why; `never`: a constraint of its never held in the
    nights looked at (its reason says which), rather than its windows being too short."""

    target: str
    reason: str
    never: bool = False


@dataclass(frozen=True)
class Result:
    nights: tuple[ScheduledNight, ...]
    unschedulable: tuple[Unschedulable, ...]
    remaining: Remaining


@dataclass
class _Job:
    """A target while the nights are scheduled."""

    index: int
    name: str
    ra: float
    dec: float
    constraints: Constraints
    rules: tuple[Constraint, ...]
    tally: Tally
    spans: list[Span]


def schedule(plan: Plan, place: Place, first: date, nights: int = 1, *,
             remaining: Remaining | None = None, start: datetime | None = None,
             pointed: int | None = None) -> Result:
    """The nights from the one beginning on the evening of `first`; `remaining` frames of
    each target's batches (all of them unless given), from `start` (none earlier), the mount
    pointed at target `pointed` then (None: parked; every later night begins parked)."""
    settings = plan.schedule or Schedule()
    left = [list(counts) for counts in (remaining or remaining_of(plan))]
    jobs = [_Job(index, target.name, target.ra or 0.0, target.dec or 0.0, constraints,
                 constraints_of(constraints, settings.horizon), Tally(), [])
            for index, target in enumerate(plan.targets)
            for constraints in [effective(settings, target.constraints)]]
    brightest = max(TWILIGHT_SUN_ALTITUDE[job.constraints.twilight or "astronomical"]
                    for job in jobs)
    done = []
    sources = sky_flat_targets(plan)
    darks = dark_targets(plan)
    for number in range(nights):
        day = first + timedelta(days=number)
        noon = sky.local_noon(datetime(day.year, day.month, day.day), place)
        dark = sky.dark_spans(place, noon, noon + timedelta(days=1),
                              TWILIGHT_SUN_ALTITUDE[settings.twilight])
        blocks: list[Block] = []
        usable = sky.dark_spans(place, noon, noon + timedelta(days=1), brightest)
        begin = usable[0][0] if usable else None
        if start is not None and begin is not None:
            begin = max(begin, start)
        if begin is not None and begin < usable[-1][1]:
            # the sky flats, darks and bias: not in the dark
            held = {index: left[index] for index in (*sources, *darks)}
            for index in held:
                left[index] = [0] * len(left[index])
            blocks = _night(plan, settings, jobs, left, NightSky.sample(place, begin,
                                                                        usable[-1][1]),
                            pointed if number == 0 else None, place.latitude)
            left[:] = [held.get(index, counts) for index, counts in enumerate(left)]
            blocks = _with_sky_flats(plan, place, noon, blocks, sources, left, start)
        blocks = _with_darks(plan, settings, blocks, darks, left,
                             start if number == 0 else None)
        done.append(ScheduledNight(day, dark[0][0] if dark else None, dark[-1][1] if dark else None,
                          tuple(blocks)))
    result = tuple(tuple(counts) for counts in left)
    return Result(tuple(done), _unschedulable(plan, jobs, result), result)


def _with_sky_flats(plan: Plan, place: Place, noon: datetime, blocks: list[Block],
                    sources: dict[int, str], left: list[list[int]],
                    start: datetime | None) -> list[Block]:
    """`blocks` with the sky flats' before the first (dusk) and after the last (dawn), on a
    night with light frames; none begun before `start`."""
    if not sources or not blocks:
        return blocks
    first = blocks[0].start - timedelta(seconds=blocks[0].slewing)
    spans = list(flat_spans(place, noon, first, blocks[-1].end))
    for number, span in enumerate(spans):
        if span is not None and start is not None:
            spans[number] = None if span[1] <= start else (max(span[0], start), span[1])
    dusk: list[Block] = []
    dawn: list[Block] = []
    for index, frames, begin, end in placed(sources, left, spans):
        block = Block(plan.targets[index].name, begin, end, frames, index,
                      flats=sources[index])
        (dusk if sources[index] == "dusk" else dawn).append(block)
    return [*dusk, *blocks, *dawn]


def _with_darks(plan: Plan, settings: Schedule, blocks: list[Block], darks: list[int],
                left: list[list[int]], start: datetime | None) -> list[Block]:
    """`blocks` with the darks' and bias' after the last (`darkblocks`), or from `start`
    where tonight has no block (the lights done: a re-plan at dawn, a restart during the
    darks); none on a later night with no block."""
    begin = blocks[-1].end if blocks else start
    if not darks or begin is None:
        return blocks
    return [*blocks, *(Block(plan.targets[index].name, at, end, frames, index, no_sky=True)
                       for index, frames, at, end in placed_after(
                           plan, darks, left, begin, settings.frame_overhead))]


def replan(plan: Plan, place: Place, now: datetime, remaining: Remaining,
           nights: int = 1, pointed: int | None = None) -> Result:
    """The schedule again from `now` with what is left (after a hold, a restart): tonight is
    the night that began on the evening of `now`'s date at the site, or the day before."""
    return schedule(plan, place, night_of(place, now), nights, remaining=remaining, start=now,
                    pointed=pointed)


def night_of(place: Place, now: datetime) -> date:
    """The date of the evening the night of `now` began on at the site (local noon to noon)."""
    local = now + timedelta(hours=place.longitude / 15.0)
    return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)


def _night(plan: Plan, settings: Schedule, jobs: list[_Job], left: list[list[int]],
           night: NightSky, pointed: int | None, latitude: float) -> list[Block]:
    """One night's blocks; `now` is when the mount is free (the last block's end), each
    target begun `slew` seconds later."""
    for job in jobs:
        job.spans = windows(night, job.ra, job.dec, job.rules, job.tally) \
            if any(left[job.index]) else []
    blocks: list[Block] = []
    now, end = night.times[0], night.times[-1]
    while now < end:
        origin = None if pointed is None else (jobs[pointed].ra, jobs[pointed].dec)
        slews = {job.index: 0.0 if job.index == pointed else
                 slew_seconds(settings, origin, (job.ra, job.dec), latitude)
                 for job in jobs if any(left[job.index])}
        ready = [(job, span) for job in jobs if job.index in slews
                 for span in [_span_at(job, now + timedelta(seconds=slews[job.index]),
                                       _need(plan, settings, job, left))]
                 if span is not None]
        if not ready:
            later = [moment - timedelta(seconds=slews[job.index])
                     for job in jobs if job.index in slews
                     for moment in [_first_ready(job, now + timedelta(seconds=slews[job.index]),
                                                 _need(plan, settings, job, left))]
                     if moment is not None]
            if not later:
                break
            now = min(later)
            continue
        job, span = min(ready, key=lambda pair: (pair[0].constraints.priority, pair[1][1],
                                                 pair[0].index))
        going_on = bool(blocks) and blocks[-1].index == job.index and blocks[-1].end == now
        begin = now + timedelta(seconds=slews[job.index])
        since = blocks[-1].start if going_on else begin
        frames, seconds = _block(plan, settings, jobs, left, job, span, begin, since)
        if going_on:
            last = blocks.pop()
            blocks.append(Block(job.name, last.start, begin + timedelta(seconds=seconds),
                                last.frames + frames, job.index, last.slewing))
        else:
            blocks.append(Block(job.name, begin, begin + timedelta(seconds=seconds), frames,
                                job.index, slews[job.index]))
        pointed = job.index
        now = begin + timedelta(seconds=seconds)
    return blocks


def _block(plan: Plan, settings: Schedule, jobs: list[_Job], left: list[list[int]],
           job: _Job, span: Span, now: datetime, since: datetime) -> tuple[int, float]:
    """The frames `job` takes from `now` (chosen at `since`): until its window closes, or the
    frame in hand when a target of higher priority can begin, `min_minutes` after `since`;
    its frames left updated."""
    stop = span[1]
    guard = since + timedelta(minutes=job.constraints.min_minutes or 0.0)
    for other in jobs:
        if other.constraints.priority < job.constraints.priority and any(left[other.index]):
            moment = _first_ready(other, max(guard, now), _need(plan, settings, other, left))
            if moment is not None and moment < stop:
                stop = moment
    target = plan.targets[job.index]
    frames, seconds, left[job.index] = fit(target, left[job.index],
                                           (stop - now).total_seconds(),
                                           settings.frame_overhead)
    if stop < span[1] and (now + timedelta(seconds=seconds) < stop or not frames):
        # The frame under way when the other can begin is finished first (and a block
        # begun takes one at least: the other may begin during this one's slew).
        more, extra, left[job.index] = fit(target, left[job.index],
                                           (span[1] - now).total_seconds() - seconds,
                                           settings.frame_overhead, most=1)
        frames, seconds = frames + more, seconds + extra
    return frames, seconds


def _need(plan: Plan, settings: Schedule, job: _Job, left: list[list[int]]) -> float:
    """The seconds a target's window must still last for it to be begun: `min_minutes`, or
    what its frames left take, and at least its next frame."""
    target = plan.targets[job.index]
    total = seconds_left(target, left[job.index], settings.frame_overhead)
    first = fit(target, left[job.index], float("inf"), settings.frame_overhead, most=1)[1]
    return max(first, min((job.constraints.min_minutes or 0.0) * 60.0, total))


def _span_at(job: _Job, now: datetime, need: float) -> Span | None:
    for start, end in job.spans:
        if start <= now < end:
            return (start, end) if (end - now).total_seconds() >= need else None
    return None


def _first_ready(job: _Job, after: datetime, need: float) -> datetime | None:
    """The first moment from `after` when the target can begin."""
    for start, end in job.spans:
        moment = max(start, after)
        if (end - moment).total_seconds() >= need:
            return moment
    return None


def _unschedulable(plan: Plan, jobs: Sequence[_Job], left: Remaining) -> tuple[
        Unschedulable, ...]:
    found = []
    for job in jobs:
        counts = left[job.index]
        if not any(counts):
            continue
        reason = job.tally.never(job.rules)
        never = reason is not None
        if reason is None:
            total = sum(batch.count for batch in plan.targets[job.index].batches)
            reason = (f"{sum(counts)} of its {total} frames left: its windows are too short "
                      f"(min_minutes {job.constraints.min_minutes:g}) or taken by targets "
                      "of higher priority")
        found.append(Unschedulable(job.name, reason, never))
    return tuple(found)
