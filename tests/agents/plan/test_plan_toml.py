"""The plan file read from TOML: what it accepts, and each kind of refusal with its line and
reason (issue 71 item 3: "a bad plan is refused with its line and the reason"); each key's
wrong values are in test_plan_refusals' table."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
from agentkit import NIGHT_TOML
from agentkit import line_of

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import load_plan
from indipyagents.plan.toml import parse_plan


def refusal(text: str) -> PlanError:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "night.toml")
    return caught.value


def changed(old: str, new: str) -> str:
    assert old in NIGHT_TOML
    return NIGHT_TOML.replace(old, new, 1)


def test_the_example_layout_reads_into_the_plan() -> None:
    """The layout of the docs reads whole: sexagesimal RA/Dec into hours/degrees, the wait,
    batches in order, frame types case-insensitive, a filter by slot, and a target with no
    coordinates images where the mount points (slew false)."""
    plan = parse_plan(NIGHT_TOML, "night.toml")
    m42, flats = plan.targets
    assert plan.name == "M42 and flats" and plan.folder == "2026-11-27"
    assert m42.ra == pytest.approx(5 + 35 / 60 + 17.3 / 3600)
    assert m42.dec == pytest.approx(-(5 + 23 / 60 + 28 / 3600))
    assert m42.slew and m42.wait.altitude == 30
    assert m42.batches == (Batch(10, 60.0, "Red"), Batch(10, 60.0, "Green"))
    assert not flats.slew and flats.ra is None
    assert flats.batches == (Batch(5, 0.5, 1, frame_type="Flat"),)
    assert plan.dither == Dither(every=3, pixels=5, method="pulse", settle=2)
    assert plan.autofocus.at_start and plan.autofocus.every_minutes == 60


def test_a_refusal_reads_source_line_and_reason() -> None:
    """str() of a refusal is "night.toml, line N: <path> must be ..., not <value>", with the
    line of the offending key, and the parts are attributes."""
    text = changed("count = 10\nexposure = 60\n", "count = 10\nexposure = -3\n")
    error = refusal(text)
    line = line_of(text, "exposure = -3")
    assert str(error) == (f"night.toml, line {line}: targets[0].batches[0].exposure must be "
                          "a number > 0, not -3")
    assert (error.source, error.line) == ("night.toml", line)
    assert isinstance(error, ValueError)


def test_toml_syntax_errors_carry_tomllibs_line() -> None:
    """A text that is not TOML is refused at the line tomllib names, with its column."""
    text = changed('pixels = 5\n', 'pixels = = 5\n')
    error = refusal(text)
    assert error.line == line_of(text, "pixels = = 5")
    assert error.reason.startswith("not TOML: ") and "column" in error.reason


def test_an_unknown_key_is_refused_with_did_you_mean() -> None:
    """A misspelt key is named at its line with the closest known key; a key far from any is
    refused with the known ones listed."""
    text = changed("exposure = 0.5", "exposre = 0.5")
    error = refusal(text)
    assert error.line == line_of(text, "exposre")
    assert error.reason == "targets[1].batches[0].exposre is not a key here: did you mean exposure?"
    error = refusal(changed('folder = "2026-11-27"', 'zzz = 1'))
    assert error.line == 2 and "known: name, folder" in error.reason


@pytest.mark.parametrize("folder", ["/etc", "../up", "a/../../b", "\\\\server\\share", "a\\..\\b"])
def test_the_folder_stays_inside_the_agents_image_folder(folder: str) -> None:
    """A plan any client may load cannot send frames elsewhere on the server: an absolute
    folder or one with ".." is refused at its line."""
    text = changed('folder = "2026-11-27"', f"folder = '{folder}'")
    error = refusal(text)
    assert error.line == 2
    assert error.reason.startswith("folder must be a folder inside the agent's image folder")
    assert parse_plan(changed('"2026-11-27"', '"2026/11-27"')).folder == "2026/11-27"


def test_missing_keys_are_refused_at_their_table() -> None:
    """A key that has no default (the plan's name, a batch's count or exposure) is refused at
    the header of the table that lacks it, saying what to give."""
    text = changed("count = 5\n", "")
    error = refusal(text)
    assert error.line == line_of(text, "[[targets.batches]]", after=line_of(text, "Flats"))
    assert error.reason.startswith("targets[1].batches[0].count is missing: how many frames")
    error = refusal(changed('name = "M42 and flats"\n', ""))
    assert error.line == 1 and "name is missing" in error.reason


def test_exposure_zero_is_for_a_bias_only() -> None:
    """A bias may have exposure 0; any other frame type needs a positive exposure."""
    bias = parse_plan(changed('type = "flat"\nfilter = 1\ncount = 5\nexposure = 0.5',
                              'type = "BIAS"\ncount = 5\nexposure = 0'))
    assert bias.targets[1].batches[0] == Batch(5, 0.0, frame_type="Bias")
    error = refusal(changed("exposure = 0.5", "exposure = 0"))
    assert error.reason.endswith("exposure must be a number > 0, not 0")


def test_wait_until_needs_a_time_zone() -> None:
    """`until` is a TOML offset date-time (or an RFC 3339 string); a local one is refused
    with "give the time zone", since the night's clock must not depend on the server's."""
    text = changed("altitude = 30", "until = 2026-11-27T22:30:00")
    error = refusal(text)
    assert error.line == line_of(text, "until")
    assert "give the time zone" in error.reason
    zone = timezone(timedelta(hours=1))
    for value in ("2026-11-27T22:30:00+01:00", '"2026-11-27T22:30:00+01:00"'):
        plan = parse_plan(changed("altitude = 30", f"until = {value}"))
        assert plan.targets[0].wait.until == datetime(2026, 11, 27, 22, 30, tzinfo=zone)
    assert "date and time with its zone" in refusal(changed("altitude = 30", "until = 3")).reason


def test_coordinates_and_slewing_must_agree() -> None:
    """slew = true needs ra and dec; ra without dec is refused; a wait on altitude needs the
    target's coordinates: each at the line of the key that asks."""
    text = changed('name = "Flats"', 'name = "Flats"\nslew = true')
    error = refusal(text)
    assert error.line == line_of(text, "slew = true")
    assert "slews (slew = true) but has no ra and dec" in error.reason
    text = changed('dec = "-05 23 28"\n', "")
    error = refusal(text)
    assert error.line == line_of(text, 'ra = "05')
    assert error.reason.endswith("has ra but no dec: give both")
    text = changed('name = "Flats"', 'name = "Flats"\nwait = { altitude = 20 }')
    error = refusal(text)
    assert error.line == line_of(text, "wait = {")
    assert error.reason == "targets[1].wait.altitude needs the target's ra and dec"


def test_a_plan_needs_targets_and_a_target_batches() -> None:
    """A plan with no target, or a target with no batch, is refused (it would do nothing)."""
    error = refusal('name = "empty"\n')
    assert error.reason.startswith("the plan has no targets")
    text = NIGHT_TOML.split("[[targets.batches]]")[0]
    error = refusal(text)
    assert error.line == line_of(text, "[[targets]]")
    assert error.reason.startswith("targets[0] has no batches")


@pytest.mark.parametrize(("old", "new", "fragment", "reason"), [
    ('wheel = "Filter Simulator"\n', "", 'filter = "Red"',
     'targets[0].batches[0].filter (a filter) needs a wheel: name one in [devices] wheel'),
    ('focuser = "Focuser Simulator"\n', "", "[autofocus]",
     "autofocus (autofocus) needs a focuser"),
    ('mount = "Telescope Simulator"\n', "", "[[targets]]",
     "targets[0].slew (slewing to M42) needs a mount"),
])
def test_what_the_plan_asks_needs_its_device_named(old: str, new: str, fragment: str,
                                                   reason: str) -> None:
    """A filter without a wheel in [devices], autofocus without a focuser, a slew without a
    mount: refused at the line that asks for it (a missing key: its table's header), among
    every other thing that asks for it (the mount's slew and dithering, said at once)."""
    text = changed(old, new)
    error = refusal(text)
    assert any(problem.reason.startswith(reason) and problem.line == line_of(text, fragment)
               for problem in error.problems), error


def test_dithering_without_a_mount_is_refused_at_its_line() -> None:
    """Dithering moves the mount: with none named, refused at dither.every."""
    text = NIGHT_TOML.replace('mount = "Telescope Simulator"\n', "").replace(
        'ra = "05 35 17.3"\ndec = "-05 23 28"\n', "").replace("[targets.wait]\naltitude = 30\n", "")
    error = refusal(text)
    assert error.line == line_of(text, "every = 3")
    assert error.reason.startswith("dither.every (dithering) needs a mount")


def test_a_targets_own_settings_take_the_plans_for_keys_not_given() -> None:
    """[targets.dither] with one key keeps the plan's others: a target overrides what it says."""
    plan = parse_plan(changed('name = "M42"', 'name = "M42"\ndither = { every = 1 }'))
    assert plan.targets[0].dither == Dither(every=1, pixels=5, method="pulse", settle=2)
    assert plan.dither_for(plan.targets[1]) == plan.dither


def test_lines_are_found_in_inline_tables_dotted_keys_and_arrays() -> None:
    """Batches written as an inline array of tables, and dotted keys: the refusal still names
    the line the bad value stands on."""
    text = ('name = "x"\ndevices.mount = "M"\n[[targets]]\nname = "T"\nra = 1\ndec = 2\n'
            'batches = [\n  { count = 1, exposure = 1 },\n  { count = 1, exposure = -1 },\n]\n')
    assert refusal(text).line == 9
    assert refusal(text.replace('devices.mount = "M"', 'devices.mount = 7')).line == 2
    text = 'name = "x"\n"targets" = [{name = "T", batches = [{count = 1, "exposure" = 1}], ra = 1}]\n'
    assert refusal(text).line == 2


def test_load_plan_names_the_file(tmp_path: Path) -> None:
    """load_plan reads UTF-8 and its refusals name the file; bytes that are not UTF-8, or a
    file that is not there, are a refusal too, not a UnicodeDecodeError or an OSError."""
    path = tmp_path / "night.toml"
    path.write_text(NIGHT_TOML.replace("count = 10", "count = -1", 1))
    with pytest.raises(PlanError, match=r"^night\.toml, line \d+: targets\[0\]"):
        load_plan(path)
    path.write_bytes(b'name = "\xff"\n')
    with pytest.raises(PlanError, match="not UTF-8"):
        load_plan(path)
    path.write_text(NIGHT_TOML)
    assert load_plan(path) == parse_plan(NIGHT_TOML)
    with pytest.raises(PlanError, match=r"absent\.toml: cannot read it: No such file"):
        load_plan(tmp_path / "absent.toml")


def test_the_safety_table_reads() -> None:
    """[safety] (issue 72 item 4): sky_free_while_unsafe a boolean, night_end a date-time
    with its zone; absent, the defaults (no sky-free frames while unsafe, no end). A bad value,
    a local time or an unknown key is refused at its own line: test_plan_refusals."""
    assert parse_plan(NIGHT_TOML).safety.sky_free_while_unsafe is False
    assert parse_plan(NIGHT_TOML).safety.night_end is None
    table = "[safety]\nsky_free_while_unsafe = true\nnight_end = 2026-11-28T06:30:00Z\n\n"
    plan = parse_plan(changed("[[targets]]", table + "[[targets]]"))
    assert plan.safety.sky_free_while_unsafe is True
    assert plan.safety.night_end == datetime(2026, 11, 28, 6, 30, tzinfo=UTC)


def test_every_error_is_listed_each_at_its_line() -> None:
    """Issue 79 item 6: a plan with errors in three places (a misspelt top-level key, a
    dither value, the second target's batch) is refused with all three, in the file's order,
    each at its line: str() is "night.toml: 3 errors: line A: ...; line B: ...; line C:
    ...", and
    `problems` holds each as the PlanError it would be alone."""
    text = changed('folder = "2026-11-27"', 'foldr = "2026-11-27"')
    text = text.replace("pixels = 5\n", "pixels = -5\n", 1)
    text = text.replace("exposure = 0.5\n", "exposure = -1\n", 1)
    error = refusal(text)
    lines = [line_of(text, "foldr"), line_of(text, "pixels = -5"),
             line_of(text, "exposure = -1")]
    assert [problem.line for problem in error.problems] == lines
    assert [problem.source for problem in error.problems] == ["night.toml"] * 3
    assert (error.source, error.line) == ("night.toml", lines[0])
    first, second, third = (problem.reason for problem in error.problems)
    assert "foldr is not a key here: did you mean folder?" in first
    assert second == "dither.pixels must be a number > 0, not -5"
    assert third.startswith("targets[1].batches[0].exposure must be")
    assert str(error) == (f"night.toml: 3 errors: line {lines[0]}: {first}; "
                          f"line {lines[1]}: {second}; line {lines[2]}: {third}")
    alone = refusal(text.replace("foldr", "folder").replace("pixels = -5", "pixels = 5"))
    assert str(alone) == f"night.toml, line {lines[2]}: {third}" and alone.problems == (alone,)


def test_a_refusal_named_again_keeps_every_error() -> None:
    """`named` says the same errors of another source (the face's file name for a plan the
    factory checked under the plan's name)."""
    both = PlanError.every([PlanError("M42", 3, "one"), PlanError("M42", 9, "two")])
    named = both.named("night.toml")
    assert str(named) == "night.toml: 2 errors: line 3: one; line 9: two"
    assert [(p.source, p.line, p.reason) for p in named.problems] == [
        ("night.toml", 3, "one"), ("night.toml", 9, "two")]


def test_the_dome_and_its_close_at_the_end() -> None:
    """Issue 79 item 1: [devices] dome names the dome the night opens (none by default), and
    [end] close_dome (true by default) closes it after the mount's park. A bad value or a
    misspelt key is refused at its own line: test_plan_refusals."""
    plan = parse_plan(NIGHT_TOML)
    assert plan.devices.dome == "" and plan.end.close_dome is True
    mount = 'mount = "Telescope Simulator"\n'
    text = changed(mount, mount + 'dome = "Dome Simulator"\n')
    text = text.replace("[dither]", "[end]\nclose_dome = false\n\n[dither]", 1)
    plan = parse_plan(text)
    assert plan.devices.dome == "Dome Simulator" and plan.end.close_dome is False
    assert plan.end.park and plan.end.warm
