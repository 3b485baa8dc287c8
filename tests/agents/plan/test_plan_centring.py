"""A target's centring keys (issue 80 item 4, plan/centring.py): read, each wrong value
refused at its own line, written back equal (and by hypothesis for any centring)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from agentkit import line_of
from agentkit import refused_at_line
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.plan.centring import POLICIES
from indipyagents.plan.centring import Centre
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

PLAN = """\
name = "centred"
[devices]
mount = "Telescope Simulator"
[[targets]]
name = "M42"
ra = "05 35 17.3"
dec = "-05 23 28"
centre = true
centre_tolerance = 20
centre_drift = 90
centre_tries = 3
centre_exposure = 2.5
centre_policy = "skip"
solve_frames = true
[[targets.batches]]
count = 2
exposure = 60
[[targets]]
name = "M31"
ra = 0.712
dec = 41.27
[[targets.batches]]
count = 1
exposure = 30
"""


def test_a_target_reads_its_centring_and_writes_it_back_equal() -> None:
    plan = parse_plan(PLAN)
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
    plan = parse_plan(PLAN)
    plan = replace(plan, targets=(replace(plan.targets[0], centre=centre), plan.targets[1]))
    assert parse_plan(plan_to_toml(plan)) == plan


@pytest.mark.parametrize(("old", "new", "words"), [
    ("centre = true", 'centre = "yes"', "true or false"),
    ("centre_tolerance = 20", "centre_tolerance = 0", "centre_tolerance"),
    ("centre_tolerance = 20", "centre_tolerance = 4000", "centre_tolerance"),
    ("centre_drift = 90", "centre_drift = -1", "centre_drift"),
    ("centre_tries = 3", "centre_tries = 0", "centre_tries"),
    ("centre_tries = 3", "centre_tries = 1.5", "whole number"),
    ("centre_tries = 3", "centre_tries = 21", "centre_tries"),
    ("centre_exposure = 2.5", "centre_exposure = 61", "centre_exposure"),
    ('centre_policy = "skip"', 'centre_policy = "maybe"', '"retry", "skip", "uncentred"'),
    ("solve_frames = true", "solve_frames = 1", "true or false"),
    ("centre_tolerance = 20", "centre_tolerence = 20", "did you mean centre_tolerance"),
    ("centre = true", "centre = false", "add centre = true"),
])
def test_a_wrong_centring_key_is_refused_at_its_line(old: str, new: str, words: str) -> None:
    # centre = false: said at the first centring key the target cannot use
    at = "centre_tolerance" if new == "centre = false" else None
    error = refused_at_line(PLAN, old, new, "centred.toml", at)
    assert words in error.reason, error.reason


def test_centring_needs_the_targets_place() -> None:
    text = PLAN.replace('ra = "05 35 17.3"\ndec = "-05 23 28"\n', "slew = false\n")
    with pytest.raises(PlanError) as caught:
        parse_plan(text)
    assert "needs the target's ra and dec" in caught.value.reason
    assert caught.value.line == line_of(text, "centre = true")
