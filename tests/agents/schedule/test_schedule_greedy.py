"""The greedy schedule (issue 82, item 2): priority first, a target kept `min_minutes`, the
night filled whenever some target may be imaged, frames carried from night to night, a
target never imaged listed with its reason, a re-plan from a moment of the night."""

from __future__ import annotations

from dataclasses import replace
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
from indipyagents.schedule.constraints import constraints_of
from indipyagents.schedule.frames import fit
from indipyagents.schedule.frames import remaining_of
from indipyagents.schedule.frames import seconds_left
from indipyagents.schedule.greedy import Result
from indipyagents.schedule.greedy import replan
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.sky import Place
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
    assert first.blocks[0].end == first.blocks[1].start
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
    assert m31.end == m42.start
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
    assert night.blocks[0].start == now
    assert sum(b.frames for b in night.blocks if b.target == "M31") <= 40
    assert sum(b.frames for b in night.blocks if b.target == "M42") <= 35


# --- properties over any targets -------------------------------------------------------------

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
        moment = night.blocks[0].start
        for block in night.blocks:
            assert block.start >= moment  # ordered, no overlap
            # Every block lies in one of its target's windows.
            assert any(a <= block.start and block.end <= b + timedelta(seconds=1)
                       for a, b in spans[block.index])
            # Busy whenever a target could have begun: none could in the gap before it.
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
                    begin = max(a, moment)
                    if (b - begin).total_seconds() >= need:
                        assert begin >= block.start - timedelta(seconds=1)
                        break
            frames, _, left[block.index] = fit(plan.targets[block.index], left[block.index],
                                               float("inf"), settings_.frame_overhead,
                                               most=block.frames)
            assert frames == block.frames
            moment = block.end
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
