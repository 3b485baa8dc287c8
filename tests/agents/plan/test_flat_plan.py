"""Issue 92 item 2: a plan asks for flats by level (a batch's ``adu`` and ``tolerance``, no
``exposure``) taken with the panel ``[devices] panel`` names; refused at load with its line
where the level is out of range, the tolerance 0 or over 0.5, no panel named, or asked of a
batch that is no flat; checked against the rig: an adu above the camera's full scale, the
panel's flats and the sky's alike, and that part alone (`check_levels`) with only the
camera's full scale known, as the agent checks at load (issue 92 item 7)."""

from __future__ import annotations

from agentkit import PANEL_RIG
from agentkit import line_of
from agentkit import plan_toml
from agentkit import refused_at_line
from agentkit import target_toml

from indipyagents.plan.check import RigFacts
from indipyagents.plan.check import check_against
from indipyagents.plan.check import check_levels
from indipyagents.plan.reading import FLAT_START
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

FLATS = plan_toml("Flats by level", PANEL_RIG, target_toml(
    "Flats", {"type": "Flat", "count": 3, "filter": "Red", "adu": 30000, "tolerance": 0.1}))


def test_a_flat_by_level_is_read_and_written_back() -> None:
    plan = parse_plan(FLATS)
    batch = plan.targets[0].batches[0]
    assert (batch.adu, batch.tolerance, batch.exposure) == (30000.0, 0.1, FLAT_START)
    assert plan.devices.panel == "Light Panel Simulator"
    assert parse_plan(plan_to_toml(plan)) == plan


def test_the_tolerance_defaults_to_a_tenth() -> None:
    assert parse_plan(FLATS.replace("tolerance = 0.1\n", "")).targets[0].batches[0] \
        .tolerance == 0.1


def test_refusals_at_their_line() -> None:
    for old, new, words, at in (
            ("tolerance = 0.1", "tolerance = 0", "tolerance must be a number > 0 and <= 0.5",
             None),
            ("tolerance = 0.1", "tolerance = 0.6", "tolerance must be a number > 0 and <= 0.5",
             None),
            ("adu = 30000", "adu = 70000", "adu must be a number > 0 and <= 65535", None),
            ("adu = 30000", "adu = 0", "adu must be a number > 0 and <= 65535", None),
            ('type = "Flat"', 'type = "Light"', "only flats are taken by level", "adu = 30000"),
            ("adu = 30000\ntolerance = 0.1", "tolerance = 0.1", "give adu too", None)):
        error = refused_at_line(FLATS, old, new, at=at)
        assert words in str(error), str(error)


def test_a_panel_the_plan_does_not_name_is_refused_at_the_adu() -> None:
    text = FLATS.replace('panel = "Light Panel Simulator"\n', "")
    error = refused_at_line(FLATS, 'panel = "Light Panel Simulator"\n', "", at="adu = 30000")
    assert "needs a panel: name one in [devices] panel" in str(error)
    assert error.line == line_of(text, "adu = 30000")


def test_an_adu_above_the_cameras_range_is_refused_against_the_rig() -> None:
    """A 12-bit camera (full scale 4095) cannot give 30000 ADU: said at the adu's line; a
    rig without the panel named says it has none."""
    plan = parse_plan(FLATS)
    facts = RigFacts(camera="Cam", filters=("Red",), wheel="Python Filter Wheel",
                     panel="Light Panel Simulator", full=4095.0)
    [error] = check_against(plan, facts, text=FLATS, source="flats.toml")
    assert error.line == line_of(FLATS, "adu = 30000")
    assert "above the camera 'Cam''s range (0 to 4095 ADU)" in str(error)
    assert check_against(plan, RigFacts(camera="Cam", filters=("Red",), wheel="W",
                                        panel="Light Panel Simulator", full=65535.0)) == []
    [none] = check_against(plan, RigFacts(camera="Cam", filters=("Red",), wheel="W"))
    assert "needs a panel, and the rig has none" in str(none)


SKY = {"camera": "Cam", "wheel": "Python Filter Wheel", "mount": "Python Mount"}
#: Flats by level of every kind: a panel's batch, a dusk batch, ``[calibration]``'s dawn.
LEVELS = plan_toml("Levels", {**SKY, "panel": "Light Panel Simulator"}, target_toml(
    "Flats", {"type": "Flat", "count": 3, "filter": "Red", "adu": 30000},
    {"type": "Flat", "count": 3, "filter": "Red", "adu": 20000, "source": "dusk"}),
    calibration={"flats": "dawn", "adu": 10000})


def test_the_camera_range_alone_refuses_every_adu_above_it_at_its_line() -> None:
    """`check_levels` with only the camera's name and full scale (all the agent knows at
    load): each adu above it (the panel's, a sky batch's, ``[calibration]``'s) at its own
    line, naming the range; nothing else asked of the rig (no wheel, mount or panel in the
    facts) is said; an unknown full scale says nothing. `check_against` says the same."""
    plan = parse_plan(LEVELS)
    facts = RigFacts(camera="Cam", full=4095.0)
    errors = check_levels(plan, facts, text=LEVELS, source="levels.toml")
    assert [error.line for error in errors] == [
        line_of(LEVELS, "adu = 30000"), line_of(LEVELS, "adu = 20000"),
        line_of(LEVELS, "adu = 10000")], [str(error) for error in errors]
    assert all("levels.toml, line" in str(error) and "(0 to 4095 ADU)" in str(error)
               for error in errors), [str(error) for error in errors]
    assert "dusk sky flats" in str(errors[1]) and "dawn flats" in str(errors[2])
    assert [str(error) for error in check_levels(plan, RigFacts(camera="Cam", full=25000.0),
                                                 text=LEVELS)] == [str(errors[0]).replace(
        "levels.toml", "<plan>").replace("4095", "25000")]
    assert check_levels(plan, RigFacts(camera="Cam"), text=LEVELS) == []
    rig = RigFacts(camera="Cam", filters=("Red",), wheel="W", mount="M",
                   panel="Light Panel Simulator", full=4095.0)
    assert [str(error) for error in check_against(plan, rig, text=LEVELS,
                                                  source="levels.toml")] == \
        [str(error) for error in errors]
