"""examples/night.toml, the example night of the docs (issue 71 items 3 and 10), reads as the
plan it says it is, and is accepted by the devices it names (indilib's simulators)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indipyagents.plan.check import RigFacts
from indipyagents.plan.check import check_against
from indipyagents.plan.steps import FrameStep
from indipyagents.plan.steps import expand
from indipyagents.plan.toml import load_plan
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "night.toml"
# indilib 1.9.9: indi_simulator_wheel's FILTER_NAME, slot 1 first, and indi_simulator_ccd defines
# CCD_GAIN and CCD_OFFSET once connected (both seen with indi_getprop)
SIMULATOR_FILTERS = ("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR", "Luminance")


def test_the_example_night_reads_as_its_comments_say() -> None:
    """Two targets with coordinates and a wait, then flats, darks and bias where the mount
    points; M81's dither keeps the plan's keys but every; it writes back unchanged."""
    plan = load_plan(EXAMPLE)
    assert [target.name for target in plan.targets] == ["M42", "M81", "Flats", "Darks"]
    m42, m81, flats, darks = plan.targets
    assert m42.slew and m81.slew and not flats.slew and not darks.slew
    assert m42.ra == pytest.approx(5.58814, abs=1e-5) and m81.dec == pytest.approx(69.0653, abs=1e-4)
    assert m81.dither is not None and m81.dither.every == 5
    assert m81.dither.pixels == plan.dither.pixels
    assert [b.frame_type for b in darks.batches] == ["Dark", "Bias"]
    assert plan.frames_total == 30 + 20 + 30 + 30
    assert parse_plan(plan_to_toml(plan)) == plan


def test_the_example_night_fits_indilibs_simulators() -> None:
    """Checked against what indilib's simulators offer, nothing is refused; its frames are
    named by target, filter and type."""
    plan = load_plan(EXAMPLE)
    facts = RigFacts(camera="CCD Simulator", filters=SIMULATOR_FILTERS,
                     wheel="Filter Simulator", gain=True, offset=True,
                     focuser="Focuser Simulator", mount="Telescope Simulator")
    assert check_against(plan, facts, text=EXAMPLE.read_text(), source=EXAMPLE.name) == []
    names = [step.file_name for step in expand(plan) if isinstance(step, FrameStep)]
    assert names[0] == "lights/Red/M42_Red_Light_001.fits"
    assert names[-1] == "biases/Darks_NoFilter_Bias_020.fits"
