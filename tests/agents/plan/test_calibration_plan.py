"""Issue 92 items 2 and 7: a plan's ``[calibration]`` section (`plan.calibration`) read,
written back and refused at its line; `flatnight.calibration_batches` turns it into the
night's flats, one batch for each filter, binning, gain and offset the light frames use,
taken after the plan's last target (`night_plan`)."""

from __future__ import annotations

from dataclasses import replace

from agentkit import PANEL_RIG
from agentkit import line_of
from agentkit import plan_toml
from agentkit import refused_at_line
from agentkit import target_toml

from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.check import RigFacts
from indipyagents.plan.check import check_against
from indipyagents.plan.flatnight import CALIBRATION_TARGET
from indipyagents.plan.flatnight import FLAT_DARKS_TARGET
from indipyagents.plan.flatnight import calibration_batches
from indipyagents.plan.flatnight import is_calibration
from indipyagents.plan.flatnight import night_plan
from indipyagents.plan.steps import expand
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

NIGHT = plan_toml(
    "M42 and its flats", PANEL_RIG,
    target_toml("M42", {"count": 3, "exposure": 60, "filter": "Red"},
                {"count": 3, "exposure": 60, "filter": "Luminance", "binning": 2},
                {"count": 2, "exposure": 120, "filter": "Red"},
                {"type": "Dark", "count": 2, "exposure": 60}),
    calibration={"flats": "panel", "adu": 30000, "tolerance": 0.1, "count": 5,
                 "flat_darks": True, "darks": "library", "dark_max_age_days": 14,
                 "dark_temperature_tolerance": 0.5})


def test_the_section_is_read_and_written_back() -> None:
    plan = parse_plan(NIGHT)
    assert plan.calibration == CalibrationFrames(
        flats="panel", adu=30000.0, tolerance=0.1, count=5, flat_darks=True, darks="library",
        dark_max_age_days=14.0, dark_temperature_tolerance=0.5)
    assert parse_plan(plan_to_toml(plan)) == plan


def test_the_defaults() -> None:
    """No section: nothing taken; flats alone: half the camera's range, 10 %, 20 a filter,
    no flat-darks, no library, 30 days, 1 degree (Ekos's)."""
    start = NIGHT.index("[calibration]")
    end = NIGHT.index("[[targets]]")
    assert parse_plan(NIGHT[:start] + NIGHT[end:]).calibration == CalibrationFrames()
    plan = parse_plan(NIGHT[:start] + '[calibration]\nflats = "panel"\n\n' + NIGHT[end:])
    assert plan.calibration == CalibrationFrames(flats="panel", adu=None, tolerance=0.1, count=20,
                                           flat_darks=False, darks="none",
                                           dark_max_age_days=30.0,
                                           dark_temperature_tolerance=1.0)
    assert parse_plan(plan_to_toml(plan)) == plan
    assert {batch.adu for batch in calibration_batches(plan, full=4095.0)} == {2048.0}
    assert {batch.adu for batch in calibration_batches(plan)} == {32767.0}


def test_a_flat_batch_for_each_filter_and_binning_the_lights_use() -> None:
    plan = parse_plan(NIGHT)
    batches = calibration_batches(plan)
    assert [(one.filter, one.binning, one.count, one.adu, one.tolerance, one.frame_type)
            for one in batches] == [("Red", 1, 5, 30000.0, 0.1, "Flat"),
                                    ("Luminance", 2, 5, 30000.0, 0.1, "Flat")]
    night = night_plan(plan)
    assert night.targets[:-2] == plan.targets
    flats, darks = night.targets[-2:]
    assert (flats.name, flats.slew, flats.batches) == (CALIBRATION_TARGET, False, batches)
    assert is_calibration(night, flats) and not is_calibration(night, night.targets[0])
    assert not is_calibration(night, darks)
    # flat_darks = true: as many darks as flats, of each flat batch's filter and binning
    assert (darks.name, darks.slew) == (FLAT_DARKS_TARGET, False)
    assert [(one.filter, one.binning, one.count, one.frame_type) for one in darks.batches] \
        == [("Red", 1, 5, "Dark"), ("Luminance", 2, 5, "Dark")]
    steps = expand(night)
    ids = [step.id for step in steps]
    # after the last light frame (and the plan's darks), before the night's close
    assert ids[-21:] == [*(f"Calibration/0/Red/Flat/{n:03d}" for n in range(1, 6)),
                         *(f"Calibration/1/Luminance/Flat/{n:03d}" for n in range(1, 6)),
                         *(f"Flat_darks/0/Red/Dark/{n:03d}" for n in range(1, 6)),
                         *(f"Flat_darks/1/Luminance/Dark/{n:03d}" for n in range(1, 6)),
                         "end"]
    assert all(not step.needs_sky for step in steps[-21:])
    # saved beside Siril's folders, per filter: darkflats/<filter>/
    assert next(step.file_name for step in steps if step.id.startswith("Flat_darks/1/")) == \
        "darkflats/Luminance/Flat_darks_Luminance_Dark_001.fits"
    without = night_plan(replace(plan, calibration=replace(plan.calibration,
                                                           flat_darks=False)))
    assert without.targets[-1].name == CALIBRATION_TARGET


def test_panel_flats_need_no_sky_and_sky_flats_follow_the_twilight() -> None:
    """The panel's flats go on with the dome closed (and while unsafe, as darks and bias do
    with sky_free_while_unsafe); a flat by exposure still needs the sky. Dusk and dawn flats
    are the same flats from the sky: they need it, go through the filters in the sky's order
    (Red, narrower, before Luminance at dusk, after it at dawn), the dusk's before the first
    target, the dawn's after the last; "none" asks nothing. Sky flats need the mount."""
    with_mount = NIGHT.replace('panel = "Light Panel Simulator"',
                               'panel = "Light Panel Simulator"\nmount = "Telescope Simulator"')
    for source, first in (("dusk", "Red"), ("dawn", "Luminance")):
        plan = parse_plan(with_mount.replace('flats = "panel"', f'flats = "{source}"'))
        batches = calibration_batches(plan)
        assert [(one.filter, one.source) for one in batches] == \
            [(first, source), ("Luminance" if first == "Red" else "Red", source)]
        night = night_plan(plan)
        flats = night.targets[0] if source == "dusk" else night.targets[-2]
        assert (flats.name, flats.batches) == (CALIBRATION_TARGET, batches)
        assert is_calibration(night, flats)
        assert night.targets[-1].name == FLAT_DARKS_TARGET  # the flat-darks, last
        steps = [step for step in expand(night) if step.id.startswith("Calibration/")]
        assert len(steps) == 10 and all(step.needs_sky for step in steps)
        # a sky flat's flat-darks are held with it (never taken before it while unsafe)
        darks = [step for step in expand(night) if step.id.startswith("Flat_darks/")]
        assert len(darks) == 10 and all(step.needs_sky for step in darks)
        with_source = plan_to_toml(plan)
        assert parse_plan(with_source).calibration == plan.calibration
    none = parse_plan(NIGHT.replace('flats = "panel"', 'flats = "none"'))
    assert calibration_batches(none) == () and night_plan(none) == none
    no_mount = refused_at_line(NIGHT, 'flats = "panel"', 'flats = "dusk"')
    assert "needs [devices] mount" in str(no_mount)
    by_exposure = parse_plan(NIGHT.replace('type = "Dark"', 'type = "Flat"'))
    assert [step.needs_sky for step in expand(by_exposure) if "/3/" in step.id] == [True, True]


def test_refusals_at_their_line() -> None:
    for old, new, words in (
            ('flats = "panel"', 'flats = "sky"', 'one of "panel", "dusk", "dawn", "none"'),
            ("tolerance = 0.1", "tolerance = 0", "tolerance must be a number > 0 and <= 0.5"),
            ("tolerance = 0.1", "tolerance = 0.6", "tolerance must be a number > 0 and <= 0.5"),
            ("adu = 30000", "adu = 70000", "adu must be a number > 0 and <= 65535"),
            ("count = 5", "count = 0", "count"),
            ("flat_darks = true", "flat_darks = 1", "flat_darks"),
            ('darks = "library"', 'darks = "always"', 'one of "none", "library"'),
            ("dark_max_age_days = 14", "dark_max_age_days = 0", "dark_max_age_days"),
            ("dark_temperature_tolerance = 0.5", "dark_temperature_tolerance = -1",
             "dark_temperature_tolerance"),
            ("count = 5", "counts = 5", "counts")):
        error = refused_at_line(NIGHT, old, new)
        assert words in str(error), str(error)


def test_panel_flats_without_a_panel_and_in_a_scheduled_plan_are_refused() -> None:
    error = refused_at_line(NIGHT, 'panel = "Light Panel Simulator"\n', "", at="adu = 30000")
    assert "calibration.adu (panel flats) needs a panel: name one in [devices] panel" \
        in str(error), str(error)
    no_adu = NIGHT.replace("adu = 30000\n", "")
    error = refused_at_line(no_adu, 'panel = "Light Panel Simulator"\n', "",
                            at='flats = "panel"')
    assert "needs a panel" in str(error)
    for source in ("dusk", "dawn", "none"):  # no panel needed (the sky's need the mount)
        parse_plan(NIGHT.replace('flats = "panel"', f'flats = "{source}"').replace(
            'panel = "Light Panel Simulator"\n', 'mount = "Telescope Simulator"\n'))
    scheduled = NIGHT.replace('name = "M42"\nslew = false', 'name = "M42"\nra = 5.59\n'
                              'dec = -5.39').replace('[[targets]]', '[schedule]\n\n[[targets]]', 1)
    scheduled = scheduled[:scheduled.index('[[targets.batches]]\ntype = "Dark"')]
    error = None
    try:
        parse_plan(scheduled, "night.toml")
    except PlanError as refused:
        error = refused
    assert error is not None and error.line == line_of(scheduled, 'flats = "panel"'), error
    assert "a scheduled plan's panel flats are a plan of their own" in str(error)


def test_an_adu_above_the_cameras_range_is_refused_against_the_rig() -> None:
    plan = parse_plan(NIGHT)
    facts = RigFacts(camera="Cam", filters=("Red", "Luminance"), wheel="W",
                     panel="Light Panel Simulator", full=4095.0)
    [error] = check_against(plan, facts, text=NIGHT, source="night.toml")
    assert error.line == line_of(NIGHT, "adu = 30000")
    assert "above the camera 'Cam''s range (0 to 4095 ADU)" in str(error)
    default = parse_plan(NIGHT.replace("adu = 30000\n", ""))
    assert check_against(default, facts) == []  # half of 4095, whatever the camera
