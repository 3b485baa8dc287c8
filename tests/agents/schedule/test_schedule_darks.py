"""Issue 92 item 4 in a scheduled plan: the night's flat-darks and its darks for the library
(targets with no coordinates, only darks or bias) need no sky. Before, the scheduler placed
them at RA 0, Dec 0, in the first dark hours that point was up, and took those hours from the
light frames; now they take blocks after the night's last (the dawn flats' too), in the
plan's order, as long as their frames, with no slew; the table and the JSON say so; once
the lights are done, a re-plan takes them at once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from test_schedule_sky_flats import NIGHT
from test_schedule_sky_flats import PARIS
from test_schedule_sky_flats import two_targets
from test_schedule_sky_flats import with_flats

from indipyagents.calframes.tonight import LIBRARY_TARGET
from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.flatnight import CALIBRATION_TARGET
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.steps import FLAT_DARKS_TARGET
from indipyagents.plan.steps import expand
from indipyagents.plan.toml import plan_to_toml
from indipyagents.schedule.cli import main
from indipyagents.schedule.greedy import replan
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.listing import as_json
from indipyagents.schedule.listing import as_table
from indipyagents.schedule.order import Take
from indipyagents.schedule.order import choose


def with_darks() -> Plan:
    """`with_flats` and, last, its flat-darks (10 of 1 s) and library darks (5 of 300 s,
    5 bias), as the night adds them."""
    plan = with_flats()
    return replace(plan, targets=(
        *plan.targets,
        Target(FLAT_DARKS_TARGET, batches=(Batch(10, 1.0, "Red", 1, "Dark"),), slew=False),
        Target(LIBRARY_TARGET, batches=(Batch(5, 300.0, "Red", 1, "Dark"),
                                        Batch(5, 0.0, None, 1, "Bias")), slew=False)))


def test_darks_and_bias_come_after_the_last_block_and_take_no_dark_hour() -> None:
    plan = with_darks()
    lights_alone = schedule(with_flats(), PARIS, NIGHT).nights[0].blocks
    blocks = schedule(plan, PARIS, NIGHT).nights[0].blocks
    assert blocks[:-2] == lights_alone  # the lights' and flats' blocks as without the darks
    flat_darks, library = blocks[-2:]
    assert (flat_darks.target, flat_darks.frames, library.target, library.frames) == \
        (FLAT_DARKS_TARGET, 10, LIBRARY_TARGET, 10)
    assert flat_darks.no_sky and library.no_sky and not lights_alone[-1].no_sky
    assert flat_darks.start == lights_alone[-1].end and library.start == flat_darks.end
    overhead = plan.schedule.frame_overhead if plan.schedule else 0.0
    assert flat_darks.end - flat_darks.start == timedelta(seconds=10 * (1.0 + overhead))
    assert library.end - library.start == \
        timedelta(seconds=5 * (300.0 + overhead) + 5 * overhead)


def test_the_table_and_the_json_say_no_sky() -> None:
    result = schedule(with_darks(), PARIS, NIGHT)
    table = as_table(result, "astronomical")
    assert f"{FLAT_DARKS_TARGET} (no sky)" in table and f"{LIBRARY_TARGET} (no sky)" in table
    blocks = as_json(result)["nights"][0]["blocks"]  # type: ignore[index]
    assert [block.get("no_sky", False) for block in blocks][-3:] == [False, True, True]


def test_the_night_takes_the_darks_without_a_slew() -> None:
    plan = with_darks()
    blocks = schedule(plan, PARIS, NIGHT).nights[0].blocks
    darks = blocks[-2]
    done = {frame.id for step in expand(plan) if (frame := step.as_frame) is not None
            and frame.target_index < darks.index}
    coming = [block for block in blocks if block.end > darks.start]  # as re-planned then
    dark = choose(coming, expand(plan), done, darks.start, pointed=2)
    assert isinstance(dark, Take) and dark.step.as_frame is not None
    assert dark.step.as_frame.target_index == darks.index
    assert dark.step.as_frame.batch.frame_type == "Dark"


def test_once_the_lights_are_done_a_replan_takes_the_darks_at_once() -> None:
    plan = with_darks()
    tonight = schedule(plan, PARIS, NIGHT)
    left = [list(counts) for counts in tonight.remaining]
    left[-2], left[-1] = [10], [5, 5]  # the darks not yet taken, all else as planned
    now = tonight.nights[0].blocks[3].end + timedelta(minutes=1)  # after the dawn flats
    again = replan(plan, PARIS, now, tuple(tuple(counts) for counts in left)).nights[0]
    assert [block.target for block in again.blocks] == [FLAT_DARKS_TARGET, LIBRARY_TARGET]
    assert again.blocks[0].start == now


def test_the_command_schedules_the_plans_calibration_as_the_night_takes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 92 items 3 and 4 through ``indipy-schedule``: a scheduled plan's
    ``[calibration]`` (dusk flats, flat-darks, library darks) is scheduled as the night runs
    it (`tonight_plan`): the dusk flats first, the flat-darks and the library's darks and bias
    after the last light frame, with no sky, in the table and the JSON."""
    plan = replace(two_targets(), calibration=CalibrationFrames(
        flats="dusk", adu=30000.0, count=3, flat_darks=True, darks="library"))
    path = tmp_path / "calibrated.toml"
    path.write_text(plan_to_toml(plan), encoding="utf-8")
    assert main([str(path), "--night", "2026-12-03", "--json"]) == 0
    blocks = json.loads(capsys.readouterr().out)["nights"][0]["blocks"]
    said = [(block["target"], block.get("flats", ""), block.get("no_sky", False))
            for block in blocks]
    assert said[0] == (CALIBRATION_TARGET, "dusk", False), said
    assert blocks[0]["frames"] == 6  # three flats for Red, three for Luminance
    assert {name for name, _, _ in said[1:-2]} == {"M42", "M31"}, said
    assert said[-2:] == [(FLAT_DARKS_TARGET, "", True), (LIBRARY_TARGET, "", True)], said
    assert main([str(path), "--night", "2026-12-03"]) == 0
    table = capsys.readouterr().out
    assert f"{CALIBRATION_TARGET} (dusk sky flats)" in table, table
    assert f"{FLAT_DARKS_TARGET} (no sky)" in table and f"{LIBRARY_TARGET} (no sky)" in table
