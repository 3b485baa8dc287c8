"""A target's centring keys (issue 80 item 4, plan/centresettings.py): read, written back equal (and
by hypothesis for any centring); each wrong value is refused at its own line in
test_plan_refusals' table."""

from __future__ import annotations

from dataclasses import replace

import pytest
from agentkit import SCHEDULED_TOML
from agentkit import line_of
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.plan.centresettings import POLICIES
from indipyagents.plan.centresettings import Centre
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml


def test_a_target_reads_its_centring_and_writes_it_back_equal() -> None:
    plan = parse_plan(SCHEDULED_TOML)
    m42, m31 = plan.targets
    assert m42.centre == Centre(enabled=True, tolerance=20.0, drift=90.0, tries=3,
                                exposure=2.5, policy="skip", solve_frames=True)
    assert m31.centre == Centre()  # neither centred nor solved: the defaults, no keys
    written = plan_to_toml(plan)
    assert "centre" not in written.split('name = "M31"')[1]
    assert parse_plan(written) == plan


@given(st.builds(Centre, enabled=st.just(True),
                 tolerance=st.floats(0.5, 3600.0), drift=st.floats(0.5, 3600.0),
                 tries=st.integers(1, 20), exposure=st.floats(0.01, 60.0),
                 policy=st.sampled_from(POLICIES), solve_frames=st.booleans())
       | st.builds(Centre, solve_frames=st.just(True)))
def test_any_centring_is_written_back_equal(centre: Centre) -> None:
    plan = parse_plan(SCHEDULED_TOML)
    plan = replace(plan, targets=(replace(plan.targets[0], centre=centre), plan.targets[1]))
    assert parse_plan(plan_to_toml(plan)) == plan


def test_centring_needs_the_targets_place() -> None:
    text = SCHEDULED_TOML.replace('ra = "05 35 17.3"\ndec = "-05 23 28"\n', "slew = false\n")
    with pytest.raises(PlanError) as caught:
        parse_plan(text)
    assert "needs the target's ra and dec" in caught.value.reason
    assert caught.value.line == line_of(text, "centre = true")
