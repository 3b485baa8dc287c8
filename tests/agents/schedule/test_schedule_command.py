"""``indipy-schedule`` run as a command (issue 82, items 3 and 6): the table, the JSON of the
issue exactly, the targets not imaged with their reasons, refusals with status 2; Ekos's .esq
and .esl written as plans, saying what was not carried over."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from datetime import datetime
from pathlib import Path

import pytest

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Site
from indipyagents.plan.model import Target
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.schedule.greedy import schedule
from indipyagents.schedule.listing import iso
from indipyagents.schedule.sky import Place

EKOS = Path(__file__).resolve().parents[2] / "data" / "ekos"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def five_targets() -> Plan:
    """The guide's plan: five targets, one (M13, a summer object) never high in December."""
    def target(name: str, ra: float, dec: float, priority: int, count: int,
               filter_: str) -> Target:
        return Target(name, ra, dec, batches=(Batch(count, 300.0, filter=filter_),),
                      constraints=Constraints(priority=priority))
    return Plan(
        "five", (target("M42", 5.588, -5.39, 1, 60, "Red"),
                 target("M31", 0.712, 41.27, 2, 40, "Lum"),
                 target("M81", 9.926, 69.07, 3, 80, "Lum"),
                 target("M51", 13.498, 47.2, 4, 30, "Lum"),
                 target("M13", 16.695, 36.46, 5, 20, "Lum")),
        devices=Devices(wheel="Filter Simulator", mount="Telescope Simulator"),
        site=Site(48.0, 2.0, 100.0),
        schedule=Schedule(min_altitude=30.0, moon_separation=30.0))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indipyagents.schedule", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "five.toml"
    path.write_text(plan_to_toml(five_targets()), encoding="utf-8")
    return path


def test_the_json_is_the_issues_shape_and_the_schedules_blocks(plan_file: Path) -> None:
    done = run(plan_file, "--night", "2026-12-03", "--nights", "2", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert set(found) == {"nights", "unschedulable"}
    assert [night["date"] for night in found["nights"]] == ["2026-12-03", "2026-12-04"]
    for night in found["nights"]:
        assert set(night) == {"date", "dusk", "dawn", "blocks"}
        assert ISO.match(night["dusk"]) and ISO.match(night["dawn"])
        for block in night["blocks"]:
            assert set(block) == {"target", "start", "end", "frames"}
            assert ISO.match(block["start"]) and ISO.match(block["end"])
            assert isinstance(block["frames"], int) and block["frames"] > 0
    assert found["unschedulable"] == [
        {"target": "M13", "reason": "never 30 degrees high while dark"}]
    # The command's blocks are the pure schedule's, for the plan's [site].
    expected = schedule(five_targets(), Place(48.0, 2.0, 100.0), date(2026, 12, 3), 2)
    assert [[(b["target"], b["start"], b["end"], b["frames"]) for b in night["blocks"]]
            for night in found["nights"]] == [
        [(b.target, iso(b.start), iso(b.end), b.frames) for b in night.blocks]
        for night in expected.nights]


def test_the_table_shows_dusk_dawn_blocks_and_what_is_not_imaged(plan_file: Path) -> None:
    done = run(plan_file, "--night", "2026-12-03")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"Night of 2026-12-03: astronomical dusk 17:5\d, dawn 05:3\d UTC",
                        lines[0]), lines[0]
    assert lines[1].split() == ["TARGET", "START", "END", "FRAMES"]
    assert lines[2].split()[0] == "M31"
    assert "Not imaged in these nights:" in lines
    assert lines[-1].split(None, 1) == ["M13", "never 30 degrees high while dark"]


def test_the_site_given_replaces_the_plans(plan_file: Path) -> None:
    """From 35 S, M42 is high and M81 never 30 degrees up (a south latitude joined with =,
    as argparse reads "-35" as an option otherwise)."""
    done = run(plan_file, "--night", "2026-12-03", "--site=-35,149,600", "--json")
    assert done.returncode == 0, done.stderr
    reasons = {u["target"]: u["reason"] for u in json.loads(done.stdout)["unschedulable"]}
    assert reasons["M81"] == "never 30 degrees high while dark"


def test_refusals_say_why_with_status_2(tmp_path: Path, plan_file: Path) -> None:
    no_site = tmp_path / "nosite.toml"
    no_site.write_text(plan_to_toml(replace(five_targets(), site=None)), encoding="utf-8")
    done = run(no_site, "--night", "2026-12-03")
    assert done.returncode == 2 and "has no [site]: give --site" in done.stderr
    in_order = tmp_path / "inorder.toml"
    in_order.write_text(plan_to_toml(replace(
        five_targets(), schedule=None,
        targets=tuple(replace(t, constraints=None) for t in five_targets().targets))),
        encoding="utf-8")
    done = run(in_order)
    assert done.returncode == 2 and "has no [schedule] table" in done.stderr
    bad = tmp_path / "bad.toml"
    text = plan_to_toml(five_targets()).replace("min_altitude = 30.0", "min_altitude = 95")
    bad.write_text(text, encoding="utf-8")
    done = run(bad)
    line = text.splitlines().index("min_altitude = 95") + 1
    assert done.returncode == 2
    assert f"bad.toml, line {line}: schedule.min_altitude must be a number from 0 to 90" \
        in done.stderr
    assert run(plan_file, "--site", "91,0").returncode == 2
    assert run(plan_file, "--night", "tomorrow").returncode == 2


def test_an_esq_becomes_a_plan_taken_in_order(tmp_path: Path) -> None:
    out = tmp_path / "narrow.toml"
    done = run("--import-esq", EKOS / "rgb_narrow.esq", "-o", out)
    assert done.returncode == 0, done.stderr
    plan = parse_plan(out.read_text(encoding="utf-8"))
    assert plan.schedule is None
    target, = plan.targets
    assert not target.slew
    assert [(b.count, b.exposure, b.filter, b.binning, b.frame_type)
            for b in target.batches] == [(12, 120.0, "Red", 2, "Light"),
                                         (6, 300.5, "Ha", 1, "Light"),
                                         (9, 2.0, "Ha", 1, "Flat")]
    assert plan.devices.camera == "CCD Simulator"
    assert plan.devices.wheel == "Filter Simulator"
    assert plan.flip.enabled and plan.flip.hour_angle_limit == pytest.approx(3.0)
    said = done.stderr
    for words in ("cooler set point -10 C", "a delay of 3 s", "a sub-frame",
                  "flats by ADU", "refocus every N (45)", "guide deviation limit (2.5)"):
        assert words in said
        assert words in out.read_text(encoding="utf-8")  # in the plan's comments too


def test_an_esqs_flats_by_adu_become_flats_by_level(tmp_path: Path) -> None:
    """Issue 92 item 6: a KStars 3.6+ job's flats by ADU (``<FlatDuration><Type>ADU``, its
    ``<Tolerance>`` in ADU) from a light source become a batch by level with the panel
    named; its sky flats (``<SkyFlat>true``) the plan's [calibration] flats at dawn; the
    1.5 s given is the first guess. An older file's Manual source (rgb_narrow) too."""
    out = tmp_path / "flats.toml"
    done = run("--import-esq", EKOS / "flats_by_adu.esq", "-o", out)
    assert done.returncode == 0, done.stderr
    plan = parse_plan(out.read_text(encoding="utf-8"))
    target, = plan.targets
    assert [(b.count, b.exposure, b.filter, b.frame_type, b.adu, b.tolerance)
            for b in target.batches] == [(20, 180.0, "Red", "Light", None, 0.1),
                                         (15, 1.5, "Red", "Flat", 25000.0, 0.1)]
    assert plan.devices.panel == "Light Panel Simulator"
    assert plan.calibration == CalibrationFrames(flats="dawn", adu=30000.0, tolerance=0.05,
                                           count=12)
    for words in ("flats by ADU are taken with the panel named 'Light Panel Simulator'",
                  'sky flats by ADU: [calibration] flats = "dawn" at 30000 ADU'):
        assert words in done.stderr, done.stderr
    older = parse_plan(run("--import-esq", EKOS / "rgb_narrow.esq").stdout)
    assert [(b.adu, b.tolerance) for b in older.targets[0].batches][-1] == (20000.0, 0.05)
    assert older.devices.panel == "Light Panel Simulator"
    assert older.calibration == CalibrationFrames()


def test_an_esl_becomes_a_scheduled_plan(tmp_path: Path) -> None:
    """The jobs' sequences are found beside the list when the written path is gone."""
    done = run("--import-esq", EKOS / "three_targets.esl")
    assert done.returncode == 0, done.stderr
    plan = parse_plan(done.stdout)
    assert plan.schedule is not None and plan.schedule.twilight == "astronomical"
    assert [t.name for t in plan.targets] == ["Pleiades", "Double Cluster", "Pleiades (2)"]
    pleiades, double, again = plan.targets
    assert (pleiades.ra, pleiades.dec) == (3.7914, 24.1053)
    assert pleiades.constraints == Constraints(min_altitude=25.0, moon_separation=30.0,
                                               priority=3)
    assert [b.count for b in pleiades.batches] == [60]  # Repeat 3 of 20 frames
    assert double.constraints is not None and double.constraints.priority == 1
    assert double.constraints.after is not None and double.constraints.before is not None
    assert double.constraints.after.isoformat() == "2026-12-03T20:00:00+00:00"
    assert [b.filter for b in double.batches] == ["Red", "Ha", "Ha"]
    assert again.constraints == Constraints(min_altitude=20.0, priority=10)
    assert plan.end.park and plan.end.warm
    for words in ("the site", "EnforceWeather", "Ekos's steps Focus, Guide",
                  "the artificial horizon", "startup Culmination", "completion Loop",
                  "the ParkDome procedure", "has no time zone: taken as UTC"):
        assert words in done.stderr


def test_an_esls_flats_by_adu_come_from_the_sequence_its_job_names(tmp_path: Path) -> None:
    """Issue 92 item 6 through a scheduler list: the flat batch of rgb_narrow.esq (a Manual
    light source, 20000 ADU within 1000) is a batch by level with the panel named; a list
    whose job names flats_by_adu.esq (found beside the list) takes its panel flats by level
    in the job's target and its sky flats (``<SkyFlat>true``) as the scheduled plan's
    [calibration] flats at dawn, pointed by the mount the list's plan names."""
    three = parse_plan(run("--import-esq", EKOS / "three_targets.esl").stdout)
    double = three.targets[1]
    assert [(b.frame_type, b.adu, b.tolerance) for b in double.batches][-1] == \
        ("Flat", 20000.0, 0.05)
    assert three.devices.panel == "Light Panel Simulator"
    assert three.calibration == CalibrationFrames()
    done = run("--import-esq", EKOS / "sky_flats.esl")
    assert done.returncode == 0, done.stderr
    plan = parse_plan(done.stdout)
    assert plan.schedule is not None
    target, = plan.targets
    assert (target.name, target.ra, target.dec) == ("M42", 5.588, -5.39)
    assert [(b.count, b.exposure, b.filter, b.frame_type, b.adu, b.tolerance)
            for b in target.batches] == [(20, 180.0, "Red", "Light", None, 0.1),
                                         (15, 1.5, "Red", "Flat", 25000.0, 0.1)]
    assert plan.devices.panel == "Light Panel Simulator" and plan.devices.mount
    assert plan.calibration == CalibrationFrames(flats="dawn", adu=30000.0, tolerance=0.05,
                                                 count=12)
    assert 'sky flats by ADU: [calibration] flats = "dawn" at 30000 ADU' in done.stderr


def test_an_older_esqs_dawn_and_dusk_source_is_the_sky(tmp_path: Path) -> None:
    """KStars before its 2.7 sequence format kept the light source in ``<FlatSource><Type>``:
    Manual, FlatCap, DarkCap or Wall, any other the dawn/dusk sky, which its writer spells
    ``DawnDust``; no ``<Tolerance>`` then. Such a flat job by ADU is the plan's
    [calibration] flats at dawn at its level (our default tolerance), no panel named."""
    done = run("--import-esq", EKOS / "dawn_dust.esq")
    assert done.returncode == 0, done.stderr
    plan = parse_plan(done.stdout)
    target, = plan.targets
    assert [(b.count, b.exposure, b.filter, b.frame_type) for b in target.batches] == \
        [(10, 60.0, "Luminance", "Light")]
    assert plan.calibration == CalibrationFrames(flats="dawn", adu=28000.0, tolerance=0.1,
                                                 count=8)
    assert plan.devices.panel == "" and plan.devices.mount


def test_a_file_that_is_not_ekoss_is_refused(tmp_path: Path) -> None:
    not_xml = tmp_path / "x.esq"
    not_xml.write_text("<SequenceQueue><Job>", encoding="utf-8")
    done = run("--import-esq", not_xml)
    assert done.returncode == 2 and "not XML" in done.stderr
    other = tmp_path / "y.esl"
    other.write_text("<Other/>", encoding="utf-8")
    assert "neither a capture sequence" in run("--import-esq", other).stderr
    lost = tmp_path / "z.esl"
    lost.write_text("<SchedulerList><Job><Name>a</Name><Sequence>/no/such.esq</Sequence>"
                    "</Job></SchedulerList>", encoding="utf-8")
    done = run("--import-esq", lost)
    assert done.returncode == 2 and "is not there, nor beside z.esl" in done.stderr


def test_svg_draws_the_first_night(tmp_path: Path, plan_file: Path) -> None:
    """The first night drawn, no block ringed as in hand: the block in hand is the one under
    way at the wall clock's now, so the night is one long past (2026-12-03 was tonight for a
    run on that night, and its M42 block in hand from 22:35 to 02:39 UTC)."""
    picture = tmp_path / "night.svg"
    done = run(plan_file, "--night", "2025-12-03", "--nights", "2", "--svg", picture)
    assert done.returncode == 0, done.stderr
    svg = picture.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Night of 2025-12-03" in svg
    assert "M42 " in svg and "(in hand)" not in svg  # 2025 is not now


def test_an_esl_of_ekos_3_7_with_a_follower_job_and_a_bare_ampersand() -> None:
    """Version 2.2 lists: a follower job (JobType lead='false') images its lead's target
    with its own sequence; KStars 3.8 writes a path's "&" bare; gain and offset are among the
    job's INDI properties; the camera and wheel are named in Ekos's optical train."""
    done = run("--import-esq", EKOS / "lead_follower.esl")
    assert done.returncode == 0, done.stderr
    plan = parse_plan(done.stdout)
    target, = plan.targets
    assert target.name == "Andromeda & friends"
    assert [(b.count, b.exposure, b.filter, b.gain, b.offset) for b in target.batches] == [
        (30, 180.0, "L", 120.0, 30.0), (20, 60.0, "Luminance", None, None)]
    assert plan.devices.wheel == "Filter Simulator"
    for words in ("dither every 3 frames", "the camera is named 'CCD Simulator'",
                  "the wheel is named 'Filter Simulator'"):
        assert words in done.stderr


def test_the_json_blocks_begin_after_the_slew_between_them(tmp_path: Path) -> None:
    """Issue 82, the slew: with a slow mount (0.5 degree a second, 2 minutes to settle) each
    block of another target begins in the JSON that long after the last one ends; no frame
    is counted into it (a block is its frames' time)."""
    from indipyagents.schedule.slewing import slew_seconds

    plan = replace(five_targets(), schedule=Schedule(min_altitude=30.0, moon_separation=30.0,
                                                     slew_rate=0.5, settle=120.0))
    path = tmp_path / "slow.toml"
    path.write_text(plan_to_toml(plan), encoding="utf-8")
    done = run(path, "--night", "2026-12-03", "--json")
    assert done.returncode == 0, done.stderr
    blocks = json.loads(done.stdout)["nights"][0]["blocks"]
    by_name = {target.name: target for target in plan.targets}
    assert len({block["target"] for block in blocks}) >= 3
    assert plan.schedule is not None
    for last, block in itertools.pairwise(blocks):
        gap = (datetime.fromisoformat(block["start"]) -
               datetime.fromisoformat(last["end"])).total_seconds()
        a, b = by_name[last["target"]], by_name[block["target"]]
        assert a.ra is not None and a.dec is not None and b.ra is not None and b.dec is not None
        slew = slew_seconds(plan.schedule, (a.ra, a.dec), (b.ra, b.dec), 48.0)
        assert slew > 120.0
        assert gap >= slew - 1.0, (last, block, slew)  # the times are to the second
    for block in blocks:
        length = (datetime.fromisoformat(block["end"]) -
                  datetime.fromisoformat(block["start"])).total_seconds()
        assert abs(length - block["frames"] * (300.0 + 5.0)) <= 1.0
