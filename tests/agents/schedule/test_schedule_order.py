"""A scheduled plan's order of steps (issue 82, item 4), pure: a night run by
`schedule.order.choose`, with holds (the clock jumps, tonight is made again from what the
journal says is done) anywhere: nothing is taken twice, no frame falls outside its target's
constraints, and a re-plan schedules only the frames left."""

from __future__ import annotations

import functools
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.constraints import effective
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.steps import FrameStep
from indipyagents.plan.steps import expand
from indipyagents.schedule.frames import remaining_after
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.order import BlockWait
from indipyagents.schedule.order import Finished
from indipyagents.schedule.order import Replan
from indipyagents.schedule.order import Take
from indipyagents.schedule.order import blocks_text
from indipyagents.schedule.order import choose
from indipyagents.schedule.order import in_hand
from indipyagents.schedule.order import tonight
from indipyagents.schedule.sky import Place
from indipyagents.schedule.sky import local_noon
from indipyagents.schedule.skyrules import constraints_of
from indipyagents.schedule.windows import NightSky
from indipyagents.schedule.windows import Placed
from indipycore import astro

PARIS = Place(48.0, 2.0, 100.0)
NIGHT = date(2026, 12, 3)
OVERHEAD = 10.0


def the_plan() -> Plan:
    """Three targets of different priorities whose windows cross in the night."""
    return Plan("order", (
        Target("M42", 5.588, -5.39, batches=(Batch(12, 300.0, "Red"), Batch(6, 300.0, "Blue")),
               constraints=Constraints(priority=1)),
        Target("M31", 0.712, 41.27, batches=(Batch(30, 240.0),),
               constraints=Constraints(priority=3, min_minutes=30)),
        Target("M81", 9.926, 69.07, batches=(Batch(20, 300.0),),
               constraints=Constraints(priority=2)),
    ), devices=Devices(mount="Mount"),
        schedule=Schedule(min_altitude=30, frame_overhead=OVERHEAD))


PLAN = the_plan()
SLEWS: list[tuple[datetime, datetime | None]] = []
STEPS = expand(PLAN)
DUSK = schedule(PLAN, PARIS, NIGHT).nights[0].dusk


def run_night(holds: list[tuple[int, int]], first: datetime) -> tuple[
        list[tuple[FrameStep, datetime, datetime]], set[str]]:
    """The night from `first`, frames taking their exposure and the overhead; at the frames
    numbered in `holds`, the clock jumps that many minutes and tonight is made again (a hold
    or a restart: only the journal's done steps are known). A slew takes what the schedule
    allowed for it; `SLEWS` gets each slew's end and the start of the frame after it."""
    SLEWS.clear()
    done: set[str] = set()
    taken: list[tuple[FrameStep, datetime, datetime]] = []
    now, pointed = first, None
    blocks = tonight(PLAN, PARIS, now, done)
    jumps = dict(holds)
    for _ in range(2000):
        choice = choose(blocks, STEPS, done, now, pointed)
        if isinstance(choice, Finished):
            break
        if isinstance(choice, BlockWait):
            assert choice.until > now
            now = choice.until
        elif isinstance(choice, Replan):
            blocks = tonight(PLAN, PARIS, now, done, pointed)
            again = choose(blocks, STEPS, done, now, pointed)
            assert not isinstance(again, Replan)
        else:
            assert isinstance(choice, Take)
            step = choice.step
            frame = step.as_frame
            if frame is None:
                pointed = step.target_index  # type: ignore[union-attr]
                block = next(b for b in blocks if b.index == pointed and b.end > now)
                # begun no earlier than the schedule's slew before the block
                assert now >= block.start - timedelta(seconds=block.slewing)
                now += timedelta(seconds=block.slewing or 60.0)
                SLEWS.append((now, None))
                continue
            assert frame.id not in done, f"{frame.id} taken twice"
            current = in_hand(blocks, now)[0]
            assert current is not None and current.index == frame.target_index
            assert current.start <= now  # no frame in the time allowed for the slew
            if SLEWS and SLEWS[-1][1] is None:
                SLEWS[-1] = (SLEWS[-1][0], now)
            end = now + timedelta(seconds=frame.batch.exposure)
            taken.append((frame, now, end))
            done.add(frame.id)
            now = end + timedelta(seconds=OVERHEAD)
            if len(taken) in jumps:
                now += timedelta(minutes=jumps[len(taken)])
                pointed = None
                before = remaining_after(PLAN, done)
                blocks = tonight(PLAN, PARIS, now, done)
                # what a re-plan schedules is only what is left
                for block in blocks:
                    assert block.start >= now
                assert all(sum(b.frames for b in blocks if b.index == index)
                           <= sum(before[index]) for index in range(len(PLAN.targets)))
    else:
        raise AssertionError("the night never ended")
    return taken, done


@functools.cache
def the_sky() -> NightSky:
    noon = local_noon(datetime(NIGHT.year, NIGHT.month, NIGHT.day), PARIS)
    return NightSky.sample(PARIS, noon, noon + timedelta(days=1))


def inside_constraints(frame: FrameStep, start: datetime, end: datetime) -> bool:
    target = PLAN.targets[frame.target_index]
    assert target.ra is not None and target.dec is not None and DUSK is not None
    rules = constraints_of(effective(PLAN.schedule or Schedule(), target.constraints), ())
    # the target where it is that night (J2000 precessed, as the schedule's windows take it:
    # 26 years move M31 a third of a degree, two minutes of its setting)
    placed = Placed.of(*astro.precess_from_j2000(target.ra, target.dec, start))
    margin = timedelta(seconds=1)
    sky = the_sky()
    return all(all(rule(sky.sky_when(moment, placed)) for rule in rules)
               for moment in (start + margin, end - margin))


def test_a_night_without_holds_follows_the_schedule() -> None:
    """Blocks are taken in the schedule's order, each slewed to, every frame inside."""
    assert DUSK is not None
    blocks = tonight(PLAN, PARIS, DUSK, set())
    taken, _ = run_night([], DUSK)
    order: list[int] = []
    for frame, _, _ in taken:
        if not order or order[-1] != frame.target_index:
            order.append(frame.target_index)
    assert order == [block.index for block in blocks if block.frames]
    assert all(inside_constraints(*each) for each in taken)
    # the schedule allowed for each slew: the first frame follows it at once
    assert len(SLEWS) == len(order)
    assert all(slewed == first for slewed, first in SLEWS), SLEWS


@settings(max_examples=15, deadline=None)
@given(holds=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 120)), max_size=3),
       late=st.integers(0, 300))
def test_holds_and_restarts_take_nothing_twice_nor_outside_the_window(
        holds: list[tuple[int, int]], late: int) -> None:
    assert DUSK is not None
    taken, done = run_night(holds, DUSK + timedelta(minutes=late))
    ids = [frame.id for frame, _, _ in taken]
    assert len(ids) == len(set(ids))
    assert all(inside_constraints(*each) for each in taken)
    # after the night, a re-plan from the end has nothing of what was done
    left = remaining_after(PLAN, done)
    assert sum(map(sum, left)) == sum(
        1 for step in STEPS if step.as_frame is not None) - len(done)


def test_in_hand_and_the_listing() -> None:
    assert DUSK is not None
    blocks = tonight(PLAN, PARIS, DUSK, set())
    current, coming = in_hand(blocks, blocks[0].start + timedelta(minutes=1))
    assert current == blocks[0] and coming == blocks[1]
    assert in_hand(blocks, DUSK - timedelta(hours=1)) == (None, blocks[0])
    lines = blocks_text(blocks).splitlines()
    assert len(lines) == len(blocks)
    assert lines[0] == (f"{blocks[0].start:%H:%M}-{blocks[0].end:%H:%M} {blocks[0].target} "
                        f"({blocks[0].frames} frames)")
    assert blocks_text(()) == "no block tonight"
    assert blocks[0].start.tzinfo is UTC
