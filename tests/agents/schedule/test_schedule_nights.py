"""Tonight spent, frames left (issue 82, items 2 and 4: the agent carries each target's frames
left to the next night): `nights.after_tonight` decides, pure: the next night's first block
(the slew before it), the targets no night left can take (named, never waited for), or the
plan's end when nothing is left."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.schedule.frames import remaining_of
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.nights import GiveUp
from indipyagents.schedule.nights import NextNight
from indipyagents.schedule.nights import after_tonight
from indipyagents.schedule.nights import nights_left
from indipyagents.schedule.sky import Place

PARIS = Place(48.0, 2.0, 100.0)
NIGHT = date(2026, 12, 3)


def plan_of(*targets: Target, nights: int = 30) -> Plan:
    return Plan("nights", targets, devices=Devices(mount="Mount"),
                schedule=Schedule(min_altitude=30, nights=nights))


def target(name: str, ra: float, dec: float, count: int, **constraints: object) -> Target:
    return Target(name, ra, dec, batches=(Batch(count, 300.0),),
                  constraints=Constraints(**constraints))  # type: ignore[arg-type]


M42 = target("M42", 5.588, -5.39, 200)
SOUTH = target("South", 18.0, -60.0, 5)  # never 30 degrees high from 48 N


def dawn_of(plan: Plan) -> datetime:
    night, = schedule(plan, PARIS, NIGHT).nights
    assert night.dawn is not None
    return night.dawn


def test_frames_left_at_dawn_wait_for_the_next_nights_first_block() -> None:
    plan = plan_of(M42)
    tonight, = schedule(plan, PARIS, NIGHT).nights
    left = schedule(plan, PARIS, NIGHT).remaining
    assert sum(map(sum, left)) > 0  # 200 frames of 5 minutes: more than a night
    decision = after_tonight(plan, PARIS, dawn_of(plan), NIGHT, left)
    assert isinstance(decision, NextNight)
    assert decision.night.date == NIGHT + timedelta(days=1)
    first = decision.night.blocks[0]
    assert first.target == "M42" and first.slewing > 0  # from the park
    assert decision.until == first.start - timedelta(seconds=first.slewing)
    assert decision.until > tonight.dawn  # type: ignore[operator]
    assert decision.unschedulable == ()
    # it is the night the agent makes again when it wakes
    again = schedule(plan, PARIS, NIGHT + timedelta(days=1), remaining=left).nights[0]
    assert again.blocks == decision.night.blocks


def test_nothing_left_is_the_plans_end() -> None:
    plan = plan_of(M42)
    assert after_tonight(plan, PARIS, dawn_of(plan), NIGHT, ((0,),)) is None


def test_a_target_never_schedulable_is_given_up_not_waited_for() -> None:
    plan = plan_of(M42, SOUTH)
    decision = after_tonight(plan, PARIS, dawn_of(plan), NIGHT, ((0,), (5,)))
    assert isinstance(decision, GiveUp)
    assert [(u.target, u.reason) for u in decision.unschedulable] == [
        ("South", "never 30 degrees high while dark")]
    # with other frames left, the wait goes on for them and says which will not be taken
    waiting = after_tonight(plan, PARIS, dawn_of(plan), NIGHT, ((10,), (5,)))
    assert isinstance(waiting, NextNight)
    assert [u.target for u in waiting.unschedulable] == ["South"]


def test_the_schedules_nights_are_counted_from_the_first() -> None:
    plan = plan_of(M42, nights=3)
    left = ((50,),)
    dawn = dawn_of(plan)
    assert isinstance(after_tonight(plan, PARIS, dawn, NIGHT, left), NextNight)
    # the third night of three is the last: its dawn gives up
    last = after_tonight(plan, PARIS, dawn + timedelta(days=2), NIGHT, left)
    assert isinstance(last, GiveUp)
    assert last.unschedulable[0].reason == "50 frames left after the schedule's 3 nights " \
                                           "from 2026-12-03"
    assert nights_left(Schedule(nights=3), NIGHT, NIGHT) == 2
    assert nights_left(Schedule(nights=3), NIGHT, NIGHT + timedelta(days=5)) == 0


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 120), st.integers(0, 40), st.integers(1, 6), st.integers(0, 5),
       st.integers(-300, 300))
def test_any_remainder_waits_for_a_later_night_inside_the_nights_or_gives_up(
        m42: int, m31: int, nights: int, day: int, minutes: int) -> None:
    plan = plan_of(M42, target("M31", 0.712, 41.27, 40), SOUTH, nights=nights)
    now = dawn_of(plan) + timedelta(days=day, minutes=minutes)
    left = ((m42,), (m31,), (0,))
    decision = after_tonight(plan, PARIS, now, NIGHT, left)
    if m42 == m31 == 0:
        assert decision is None
    elif isinstance(decision, NextNight):
        assert decision.until > now
        assert NIGHT < decision.night.date < NIGHT + timedelta(days=nights)
        assert all(any(left[block.index]) for block in decision.night.blocks)
        assert decision.night.blocks[0].start > now
    else:
        assert isinstance(decision, GiveUp)
        assert {u.target for u in decision.unschedulable} == {
            name for name, count in (("M42", m42), ("M31", m31)) if count}


def test_the_wait_is_at_the_sites_next_night_not_the_same_day() -> None:
    """At 03:00 UTC (tonight's blocks spent early), the next night is the evening's."""
    plan = plan_of(M42)
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    decision = after_tonight(plan, PARIS, now, NIGHT, remaining_of(plan))
    assert isinstance(decision, NextNight) and decision.night.date == date(2026, 12, 4)
