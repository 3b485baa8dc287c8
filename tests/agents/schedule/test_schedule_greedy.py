"""The greedy schedule (issue 82, item 2): priority first, a target kept `min_minutes`, the
night filled whenever some target may be imaged, frames carried from night to night, a
target never imaged listed with its reason, a re-plan from a moment of the night."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import pytest
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
from indipyagents.schedule.frames import fit
from indipyagents.schedule.frames import remaining_of
from indipyagents.schedule.frames import seconds_left
from indipyagents.schedule.greedy import Result
from indipyagents.schedule.greedy import replan
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.sky import Place
from indipyagents.schedule.skyrules import constraints_of
from indipyagents.schedule.slewing import separation
from indipyagents.schedule.slewing import slew_seconds
from indipyagents.schedule.windows import EDGE
from indipyagents.schedule.windows import NightSky
from indipyagents.schedule.windows import windows

PARIS = Place(48.0, 2.0, 100.0)
NIGHT = date(2026, 12, 3)  # a Moon in its last quarter, low in the evening


def target(name: str, ra: float, dec: float, count: int, exposure: float = 300.0,
           **constraints: object) -> Target:
    return Target(name, ra, dec, batches=(Batch(count, exposure),),
                  constraints=Constraints(**constraints))  # type: ignore[arg-type]


def plan_of(*targets: Target, **schedule_settings: object) -> Plan:
    return Plan("test", targets, devices=Devices(mount="Mount"),
                schedule=Schedule(**schedule_settings))  # type: ignore[arg-type]


def test_the_highest_priority_target_is_taken_when_both_may_be() -> None:
    """M81 and M82 stand side by side: the priority decides, whatever the plan's order."""
    plan = plan_of(target("M82", 9.93, 69.68, 10, priority=5),
                   target("M81", 9.926, 69.07, 10, priority=2), min_altitude=20)
    first, = schedule(plan, PARIS, NIGHT).nights
    assert [block.target for block in first.blocks] == ["M81", "M82"]
    # M82 begins once the mount has come from M81 (0.6 degree) and settled
    assert first.blocks[0].end + timedelta(seconds=first.blocks[1].slewing) == \
        first.blocks[1].start
    assert 30.0 < first.blocks[1].slewing < 31.0
    assert first.blocks[0].frames == 10


def test_a_target_is_kept_min_minutes_then_yields_to_a_higher_priority() -> None:
    """M31 (priority 5) is up at dusk; M42 (priority 1) rises past 30 degrees later: M31
    keeps the telescope until then (its min_minutes long passed), M42 takes it at once."""
    plan = plan_of(target("M42", 5.588, -5.39, 30, priority=1),
                   target("M31", 0.712, 41.27, 200, priority=5), min_altitude=30)
    night, = schedule(plan, PARIS, NIGHT).nights
    names = [block.target for block in night.blocks]
    assert names[:2] == ["M31", "M42"]
    m31, m42 = night.blocks[:2]
    assert m31.end + timedelta(seconds=m42.slewing) == m42.start  # the slew between
    # M42 begins within one frame of the moment it reached 30 degrees.
    rules = constraints_of(effective(plan.schedule or Schedule(), plan.targets[0].constraints),
                           ())
    sky = NightSky.sample(PARIS, night.blocks[0].start, night.dawn or m42.end)
    rise = windows(sky, 5.588, -5.39, rules)[0][0]
    assert rise <= m42.start <= rise + timedelta(seconds=305)


def test_min_minutes_holds_off_a_higher_priority_target() -> None:
    """A low-priority target chosen just before a higher one can begin keeps the telescope
    its min_minutes all the same."""
    base = plan_of(target("M42", 5.588, -5.39, 30, priority=1),
                   target("M31", 0.712, 41.27, 200, priority=5), min_altitude=30)
    rise = schedule(base, PARIS, NIGHT).nights[0].blocks[1].start
    late = replace(base.targets[1], constraints=Constraints(
        priority=5, min_minutes=60, after=rise - timedelta(minutes=10)))
    night, = schedule(replace(base, targets=(base.targets[0], late)), PARIS, NIGHT).nights
    m31 = next(block for block in night.blocks if block.target == "M31")
    # Its window opens then (to the windows' precision, 5 s).
    assert abs(m31.start - (rise - timedelta(minutes=10))) <= timedelta(seconds=5)
    assert m31.end - m31.start >= timedelta(minutes=60)


def test_frames_are_carried_to_the_next_night() -> None:
    plan = plan_of(target("M42", 5.588, -5.39, 100, min_altitude=30))
    result = schedule(plan, PARIS, NIGHT, 3)
    taken = [sum(block.frames for block in night.blocks) for night in result.nights]
    assert taken[0] > 0 and taken[1] > 0
    assert sum(taken) == 100
    assert result.remaining == ((0,),) and result.unschedulable == ()


def test_a_target_never_imaged_is_listed_with_the_reason() -> None:
    plan = plan_of(
        target("low", 18.0, -60.0, 5, min_altitude=10),
        target("window", 5.588, -5.39, 5,
               after=datetime(2027, 6, 1, tzinfo=UTC)),
        target("moon", 5.588, -5.39, 5, moon_separation=175),
        target("many", 0.712, 41.27, 10_000, min_altitude=30),
        target("bright", 0.712, 41.27, 5, min_altitude=95.0 - 90.0))
    result = schedule(plan, PARIS, NIGHT, 2)
    reasons = {item.target: item.reason for item in result.unschedulable}
    assert reasons["low"] == "never 10 degrees high while dark"
    assert reasons["window"].startswith("its time window (after 2027-06-01")
    assert reasons["moon"] == ("always within 175 degrees of the Moon while high and dark")
    assert reasons["many"].endswith("taken by targets of higher priority")
    assert "bright" not in reasons


def test_a_replan_after_a_hold_starts_from_now_with_what_is_left() -> None:
    plan = plan_of(target("M42", 5.588, -5.39, 40, min_altitude=30),
                   target("M31", 0.712, 41.27, 40, min_altitude=30))
    whole, = schedule(plan, PARIS, NIGHT).nights
    now = whole.blocks[0].start + timedelta(hours=1)
    left = remaining_of(plan, [[5], [0]])
    again = replan(plan, PARIS, now, left)
    night, = again.nights
    assert night.date == NIGHT
    assert night.blocks[0].start == now + timedelta(seconds=night.blocks[0].slewing)
    assert night.blocks[0].slewing > 30.0  # from the park: nothing said of the mount
    pointed = replan(plan, PARIS, now, left, pointed=night.blocks[0].index).nights[0]
    assert pointed.blocks[0].start == now and pointed.blocks[0].slewing == 0.0
    assert sum(b.frames for b in night.blocks if b.target == "M31") <= 40
    assert sum(b.frames for b in night.blocks if b.target == "M42") <= 35


# --- properties over any targets -------------------------------------------------------------

def _slew(plan: Plan, pointed: int | None, index: int) -> float:
    """The seconds the schedule must allow to slew from target `pointed` to `index`."""
    if index == pointed:
        return 0.0
    targets = plan.targets
    origin = None if pointed is None else (targets[pointed].ra or 0.0,
                                           targets[pointed].dec or 0.0)
    return slew_seconds(plan.schedule or Schedule(), origin,
                        (targets[index].ra or 0.0, targets[index].dec or 0.0), PARIS.latitude)


def _check(plan: Plan, result: Result) -> None:
    settings_ = plan.schedule or Schedule()
    rules = [constraints_of(effective(settings_, t.constraints), settings_.horizon)
             for t in plan.targets]
    left = [list(counts) for counts in remaining_of(plan)]
    for night in result.nights:
        if not night.blocks:
            continue
        start, end = night.blocks[0].start - timedelta(hours=6), night.blocks[-1].end
        sky = NightSky.sample(PARIS, start, end + timedelta(hours=6))
        spans = [windows(sky, t.ra or 0, t.dec or 0, r) for t, r in zip(plan.targets, rules,
                                                                         strict=True)]
        moment = night.blocks[0].start - timedelta(seconds=night.blocks[0].slewing)
        pointed: int | None = None  # each night begins parked
        for block in night.blocks:
            # ordered, no overlap, and the slew from the last block's target before it
            assert block.slewing == _slew(plan, pointed, block.index)
            assert block.start >= moment + timedelta(seconds=_slew(plan, pointed, block.index))
            # Every block lies in one of its target's windows (to their precision, EDGE: the
            # windows here are sampled from another moment than the schedule's).
            assert any(a - EDGE <= block.start and block.end <= b + EDGE
                       for a, b in spans[block.index])
            # Busy whenever a target could have begun: none could in the gap before it (its
            # slew begun before this block's).
            for index, own in enumerate(spans):
                if not any(left[index]):
                    continue
                need = max(fit(plan.targets[index], left[index], float("inf"),
                               settings_.frame_overhead, most=1)[1],
                           min((effective(settings_, plan.targets[index].constraints)
                                .min_minutes or 0) * 60,
                               seconds_left(plan.targets[index], left[index],
                                            settings_.frame_overhead)))
                for a, b in own:
                    begin = max(a, moment + timedelta(seconds=_slew(plan, pointed, index)))
                    if (b - begin).total_seconds() >= need:
                        assert begin - timedelta(seconds=_slew(plan, pointed, index)) >= \
                            block.start - timedelta(seconds=block.slewing) - EDGE
                        break
            frames, used, left[block.index] = fit(plan.targets[block.index], left[block.index],
                                                  float("inf"), settings_.frame_overhead,
                                                  most=block.frames)
            assert frames == block.frames
            # the block is its frames' time, all of it: none counted into the slew before it
            assert abs((block.end - block.start).total_seconds() - used) < 1e-3
            moment, pointed = block.end, block.index
    assert tuple(tuple(counts) for counts in left) == result.remaining
    assert sorted(u.target for u in result.unschedulable) == sorted(
        t.name for t, counts in zip(plan.targets, result.remaining, strict=True) if any(counts))


targets_ = st.builds(
    lambda n, ra, dec, count, exposure, priority, minutes, altitude: target(
        f"T{n}", ra, dec, count, exposure, priority=priority, min_minutes=minutes,
        min_altitude=altitude),
    st.integers(0, 999), st.floats(0, 23.99), st.floats(-30, 89), st.integers(1, 60),
    st.sampled_from([30.0, 120.0, 300.0, 600.0]), st.integers(1, 20),
    st.sampled_from([0.0, 10.0, 30.0, 90.0]), st.sampled_from([10.0, 30.0, 50.0]))


@settings(max_examples=25, deadline=None)
@given(st.lists(targets_, min_size=1, max_size=6))
def test_any_targets_are_scheduled_by_the_rules(targets: list[Target]) -> None:
    plan = plan_of(*targets, moon_separation=20)
    _check(plan, schedule(plan, PARIS, NIGHT, 2))


def test_the_frames_a_journal_says_are_done_are_not_scheduled_again() -> None:
    """`remaining_after` turns the frame steps done (their ids, as the journal keeps them)
    into what a re-plan schedules: nothing taken twice."""
    from indipyagents.plan.steps import FrameStep
    from indipyagents.plan.steps import expand
    from indipyagents.schedule.frames import remaining_after

    plan = plan_of(target("M42", 5.588, -5.39, 12, min_altitude=30),
                   Target("M31", 0.712, 41.27, batches=(Batch(4, 60.0), Batch(6, 120.0))))
    frames = [step for step in expand(plan) if isinstance(step, FrameStep)]
    done = {step.id for step in frames if step.target_index == 0 and step.number <= 5}
    done |= {step.id for step in frames if step.target_index == 1 and step.batch_index == 0}
    assert remaining_after(plan, done) == ((7,), (0, 6))
    assert remaining_after(plan, set()) == remaining_of(plan)
    assert remaining_after(plan, {step.id for step in frames}) == ((0,), (0, 0))


# --- the slew between two blocks (a block's start allows for it) ------------------------------

def test_the_separation_is_the_angle_on_the_sky() -> None:
    assert separation(0.0, 0.0, 6.0, 0.0) == pytest.approx(90.0)
    assert separation(5.0, 89.0, 17.0, 89.0) == pytest.approx(2.0)
    assert separation(3.0, -20.0, 3.0, 40.0) == pytest.approx(60.0)
    assert separation(1.0, 10.0, 1.0, 10.0) == 0.0


@given(st.floats(0, 24), st.floats(-90, 90), st.floats(0, 24), st.floats(-90, 90))
def test_the_separation_is_symmetric_and_within_180(ra1: float, dec1: float, ra2: float,
                                                    dec2: float) -> None:
    angle = separation(ra1, dec1, ra2, dec2)
    assert 0.0 <= angle <= 180.0 + 1e-9
    assert angle == pytest.approx(separation(ra2, dec2, ra1, dec1), abs=1e-9)
    # never more than the declinations' difference plus the way round the pole
    assert angle >= abs(dec1 - dec2) - 1e-9


def test_a_slew_takes_the_angle_at_the_rate_plus_the_settle() -> None:
    settings_ = Schedule(slew_rate=2.0, settle=30.0)
    assert slew_seconds(settings_, (0.0, 0.0), (6.0, 0.0), 48.0) == pytest.approx(75.0)
    # from the park: the pole of the site's hemisphere
    assert slew_seconds(settings_, None, (5.0, 60.0), 48.0) == pytest.approx(45.0)
    assert slew_seconds(settings_, None, (5.0, -60.0), -35.0) == pytest.approx(45.0)


def test_the_next_block_begins_after_the_slew_from_the_last_one() -> None:
    """M31 then M42 (priority 1 once it is 30 degrees high): M42's first frame starts once
    the mount has come the 81 degrees from M31 at 1 degree a second and settled 40 s; the
    first block of the night waits for its slew from the pole too."""
    plan = plan_of(target("M42", 5.588, -5.39, 30, priority=1),
                   target("M31", 0.712, 41.27, 200, priority=5), min_altitude=30,
                   slew_rate=1.0, settle=40.0)
    night, = schedule(plan, PARIS, NIGHT).nights
    m31, m42 = night.blocks[:2]
    angle = separation(0.712, 41.27, 5.588, -5.39)
    assert 80 < angle < 82
    assert m42.slewing == pytest.approx(angle + 40.0)
    assert m42.start == m31.end + timedelta(seconds=m42.slewing)
    assert m31.slewing == pytest.approx(90.0 - 41.27 + 40.0)
    quick = schedule(replace(plan, schedule=Schedule(min_altitude=30, slew_rate=90.0,
                                                     settle=0.0)), PARIS, NIGHT).nights[0]
    # the slew's time is not taken from the frames: as many of M42's in both
    assert sum(b.frames for b in quick.blocks if b.target == "M42") == sum(
        b.frames for b in night.blocks if b.target == "M42") == 30


@settings(max_examples=20, deadline=None)
@given(st.lists(targets_, min_size=1, max_size=5), st.sampled_from([0.5, 2.0, 10.0]),
       st.sampled_from([0.0, 30.0, 300.0]))
def test_any_slew_rate_and_settle_keep_the_rules(targets: list[Target], rate: float,
                                                 settle: float) -> None:
    plan = plan_of(*targets, moon_separation=20, slew_rate=rate, settle=settle)
    _check(plan, schedule(plan, PARIS, NIGHT, 2))
