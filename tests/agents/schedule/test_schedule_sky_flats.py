"""Issue 92 item 3: the scheduler places sky flats. A target made of dusk sky flats takes a
block before the night's first light frame (the slew to it), from the Sun at -2 degrees,
ending by -12; one of dawn sky flats a block after the last, ending with the Sun at -2 again;
neither is placed in the dark. The table and the JSON show them (``(dusk sky flats)``,
``"flats": "dusk"``); a re-plan after dusk keeps the dusk flats for the next night."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.plan.steps import SlewStep
from indipyagents.plan.steps import expand
from indipyagents.plan.toml import plan_to_toml
from indipyagents.schedule import sky
from indipyagents.schedule.greedy import replan
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.listing import as_json
from indipyagents.schedule.listing import as_table
from indipyagents.schedule.order import Take
from indipyagents.schedule.order import choose
from indipyagents.schedule.sky import Place
from indipyagents.schedule.skyflatblocks import BEGIN
from indipyagents.schedule.skyflatblocks import END

PARIS = Place(48.0, 2.0, 100.0)
NIGHT = date(2026, 12, 3)


def sky_flats(name: str, source: str, *filters: str) -> Target:
    return Target(name, batches=tuple(Batch(5, 1.0, name_, 1, "Flat", adu=30000.0,
                                            source=source)  # type: ignore[arg-type]
                                      for name_ in filters), slew=False)


def two_targets() -> Plan:
    return Plan("two", (Target("M42", 5.588, -5.39, (Batch(60, 300.0, "Red"),)),
                        Target("M31", 0.712, 41.27, (Batch(40, 300.0, "Luminance"),))),
                devices=Devices(wheel="Filter Simulator", mount="Telescope Simulator"),
                site=Site(48.0, 2.0, 100.0), schedule=Schedule(min_altitude=30.0))


def with_flats() -> Plan:
    plan = two_targets()
    return replace(plan, targets=(sky_flats("Evening flats", "dusk", "H_Alpha", "Red"),
                                  *plan.targets,
                                  sky_flats("Morning flats", "dawn", "Luminance")))


def test_dusk_flats_come_before_the_first_light_frame_and_dawn_flats_after_the_last() -> None:
    result = schedule(with_flats(), PARIS, NIGHT, 2)
    first, second = result.nights
    blocks = first.blocks
    assert blocks[0].target == "Evening flats" and blocks[0].flats == "dusk"
    assert blocks[-1].target == "Morning flats" and blocks[-1].flats == "dawn"
    assert (blocks[0].frames, blocks[-1].frames) == (10, 5)
    lights = blocks[1:-1]
    assert lights and all(block.flats == "" for block in lights)
    assert blocks[0].end <= lights[0].start - timedelta(seconds=lights[0].slewing)
    assert blocks[-1].start >= lights[-1].end
    for moment, altitude in ((blocks[0].start, BEGIN), (blocks[-1].end, BEGIN)):
        assert abs(sky.sun_altitude(moment, PARIS) - altitude) < 0.05
    assert sky.sun_altitude(blocks[0].end, PARIS) >= END - 0.05
    assert sky.sun_altitude(blocks[-1].start, PARIS) >= END - 0.05
    # taken once: the next night images without them, and nothing of them is left
    assert all(block.flats == "" for block in second.blocks)
    assert result.remaining[0] == (0, 0) and result.remaining[-1] == (0,)


def test_the_table_and_the_json_show_the_sky_flats() -> None:
    result = schedule(with_flats(), PARIS, NIGHT)
    table = as_table(result, "astronomical").splitlines()
    assert table[2].split()[:4] == ["Evening", "flats", "(dusk", "sky"], table
    assert any("Morning flats (dawn sky flats)" in line for line in table), table
    blocks = as_json(result)["nights"][0]["blocks"]  # type: ignore[index]
    assert blocks[0]["flats"] == "dusk" and blocks[-1]["flats"] == "dawn"
    assert all("flats" not in block for block in blocks[1:-1])


def test_the_command_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "flats.toml"
    path.write_text(plan_to_toml(with_flats()), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "indipyagents.schedule", str(path), "--night",
                           "2026-12-03", "--json"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    blocks = json.loads(done.stdout)["nights"][0]["blocks"]
    assert (blocks[0]["target"], blocks[0]["flats"], blocks[0]["frames"]) == \
        ("Evening flats", "dusk", 10)
    assert (blocks[-1]["target"], blocks[-1]["flats"]) == ("Morning flats", "dawn")


def test_a_replan_after_dusk_keeps_the_dusk_flats_for_the_next_night() -> None:
    plan = with_flats()
    now = datetime(2026, 12, 3, 21, 0, tzinfo=UTC)
    result = replan(plan, PARIS, now, schedule(plan, PARIS, NIGHT, 0).remaining, nights=2)
    tonight, tomorrow = result.nights
    assert [block.flats for block in tonight.blocks if block.flats] == ["dawn"]
    assert tomorrow.blocks[0].flats == "dusk" and tomorrow.blocks[0].start.day == 4


def test_a_night_without_light_frames_takes_no_sky_flats() -> None:
    plan = Plan("only flats", (sky_flats("Evening flats", "dusk", "Red"),),
                schedule=two_targets().schedule)
    result = schedule(plan, PARIS, NIGHT)
    assert result.nights[0].blocks == ()
    assert [item.target for item in result.unschedulable] == ["Evening flats"]


def test_the_night_takes_the_dusk_flats_in_their_block() -> None:
    """The scheduled order (`order.choose`) at the dusk flats' block: its slew (skipped by
    the night: the target has no coordinates), then its first flat, H_Alpha's."""
    plan = with_flats()
    blocks = schedule(plan, PARIS, NIGHT).nights[0].blocks
    steps = expand(plan)
    slew = choose(blocks, steps, set(), blocks[0].start, None)
    assert isinstance(slew, Take) and isinstance(slew.step, SlewStep)
    assert slew.step.target_index == 0
    flat = choose(blocks, steps, set(), blocks[0].start, 0)
    assert isinstance(flat, Take) and flat.step.as_frame is not None
    assert (flat.step.as_frame.batch.source, flat.step.as_frame.batch.filter) == \
        ("dusk", "H_Alpha")
