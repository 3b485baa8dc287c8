"""A scheduled plan's ``[schedule]`` and ``[targets.constraints]`` (issue 82, item 1): read and
written back equal (hypothesis); every wrong value is refused at its own line in
test_plan_refusals' table."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from agentkit import SCHEDULED_TOML
from agentkit import line_of
from hypothesis import given
from hypothesis import settings
from planstrategies import scheduled_plans

from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.constraints import effective
from indipyagents.plan.constraints import horizon_altitude
from indipyagents.plan.model import Plan
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml


def test_a_scheduled_plan_reads_its_constraints_and_schedule() -> None:
    plan = parse_plan(SCHEDULED_TOML)
    assert plan.schedule == Schedule(twilight="nautical", horizon=(
        (0.0, 20.0), (90.0, 10.0), (180.0, 15.5), (270.0, 30.0)), min_altitude=25.0)
    m42, m31 = plan.targets
    assert m42.constraints == Constraints(
        min_altitude=30.0, moon_separation=40.0, twilight="astronomical", priority=1,
        min_minutes=45.0, after=datetime(2026, 11, 27, 21, 0, tzinfo=UTC),
        before=datetime(2026, 11, 28, 4, 0, tzinfo=UTC))
    assert m31.constraints is None
    # What M31 leaves out is the schedule's.
    assert effective(plan.schedule, m31.constraints) == Constraints(
        min_altitude=25.0, moon_separation=0.0, twilight="nautical", priority=10,
        min_minutes=30.0)
    assert parse_plan(plan_to_toml(plan)) == plan


def test_the_slew_and_the_nights_are_read_with_observers_defaults() -> None:
    """2 degrees a second, 30 s to settle, a month of nights unless the plan says."""
    assert (Schedule().slew_rate, Schedule().settle, Schedule().nights) == (2.0, 30.0, 30)
    text = SCHEDULED_TOML.replace("min_altitude = 25", "slew_rate = 4.5\nsettle = 12\nnights = 3", 1)
    plan = parse_plan(text)
    assert plan.schedule is not None
    assert (plan.schedule.slew_rate, plan.schedule.settle, plan.schedule.nights) == (
        4.5, 12.0, 3)
    assert parse_plan(plan_to_toml(plan)) == plan


def test_constraints_without_a_schedule_are_refused() -> None:
    """A plan taken in order would ignore them: said, not dropped."""
    text = SCHEDULED_TOML.replace("[schedule]\ntwilight = \"nautical\"\n", "").replace(
        "horizon = [[0, 20], [90, 10], [180, 15.5], [270, 30]]\nmin_altitude = 25\n", "")
    with pytest.raises(PlanError) as caught:
        parse_plan(text)
    assert "needs a [schedule] table" in caught.value.reason
    assert caught.value.line == line_of(text, "[targets.constraints]")


def test_a_scheduled_target_needs_its_place_and_no_wait() -> None:
    no_place = SCHEDULED_TOML.replace('ra = 0.712\ndec = 41.27\n', "slew = false\n")
    with pytest.raises(PlanError, match="has no ra and dec"):
        parse_plan(no_place)
    waiting = SCHEDULED_TOML.replace('[[targets.batches]]\ncount = 5',
                           '[targets.wait]\naltitude = 30\n[[targets.batches]]\ncount = 5')
    with pytest.raises(PlanError, match="belongs to a plan taken in order") as caught:
        parse_plan(waiting)
    assert caught.value.line == line_of(waiting, "[targets.wait]")


def test_the_horizon_is_joined_by_straight_lines_around_north() -> None:
    horizon = ((90.0, 10.0), (270.0, 30.0))
    assert horizon_altitude(horizon, 90.0) == 10.0
    assert horizon_altitude(horizon, 180.0) == 20.0
    assert horizon_altitude(horizon, 0.0) == pytest.approx(20.0)
    assert horizon_altitude(horizon, 315.0) == pytest.approx(25.0)
    assert horizon_altitude(horizon, 45.0) == pytest.approx(15.0)
    assert horizon_altitude(((10.0, 12.0),), 200.0) == 12.0
    assert horizon_altitude((), 200.0) == 0.0


@settings(max_examples=150)
@given(scheduled_plans())
def test_a_scheduled_plan_written_as_toml_reads_back_equal(plan: Plan) -> None:
    assert parse_plan(plan_to_toml(plan)) == plan
