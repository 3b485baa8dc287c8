"""A plan checked against the devices as they are, before anything moves (issue 71 item 3):
each thing the rig cannot do is a refusal at the plan line that asks for it."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace

import pytest
from agentkit import NIGHT_TOML
from agentkit import line_of

from indipyagents.plan.check import RigFacts
from indipyagents.plan.check import check_against
from indipyagents.plan.check import check_install
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.rig.protocols import Rig

#: The kit's plan taken in order, M42's first batch with a gain and its second's filter a
#: slot number, with an offset: a plan asking the rig for everything it can lack.
TEXT = NIGHT_TOML.replace('filter = "Red"', 'filter = "Red"\ngain = 100').replace(
    'filter = "Green"', "filter = 6\noffset = 10")
PLAN = parse_plan(TEXT, "night.toml")
#: What asks for autofocus runs in TEXT: at its start, and every hour.
AUTOFOCUS_RUNS = "at_start = true\nevery_minutes = 60"
ALL = RigFacts(camera="CCD Simulator", filters=("Red", "Green", "Blue", "L", "Ha", "OIII"),
               wheel="Filter Simulator", gain=True, offset=True,
               focuser="Focuser Simulator", mount="Telescope Simulator")


def at(fragment: str) -> int:
    """The line of TEXT holding `fragment` first."""
    return line_of(TEXT, fragment)


def problems(facts: RigFacts) -> list[tuple[int | None, str]]:
    return [(error.line, error.reason)
            for error in check_against(PLAN, facts, text=TEXT, source="night.toml")]


def test_a_rig_that_has_everything_passes() -> None:
    """No problem when every device and capability is there (filter names case-insensitive)."""
    assert problems(ALL) == []
    assert problems(replace(ALL, filters=("red", "g", "b", "l", "ha", "o"))) == []


#: What a rig lacks, and the refusals at the plan lines that ask for it.
LACKING = [
    pytest.param(replace(ALL, filters=("Luminance", "Green")), [
        (at('filter = "Red"'), "targets[0].batches[0].filter (a filter): the wheel "
         "'Filter Simulator' has no filter 'Red' (it has Luminance, Green)"),
        (at("filter = 6"), "targets[0].batches[1].filter (a filter): slot 6, but the "
         "wheel 'Filter Simulator' has 2"),
    ], id="a filter name the wheel lacks, a slot past its last"),
    pytest.param(replace(ALL, gain=False, offset=False), [
        (at("gain"), "targets[0].batches[0].gain (gain): the camera 'CCD Simulator' has "
         "no gain (CCD_GAIN)"),
        (at("offset"), "targets[0].batches[1].offset (offset): the camera "
         "'CCD Simulator' has no offset (CCD_OFFSET)"),
    ], id="gain without CCD_GAIN, offset without CCD_OFFSET"),
    pytest.param(RigFacts(camera="CCD Simulator", gain=True, offset=True), [
        (at('name = "M42"') - 1, "targets[0].slew (slewing to M42) needs a mount, and "
         "the rig has none"),
        (at("altitude"), "targets[0].wait.altitude needs the site: no mount tells it, "
         "add [site]"),
        (at('filter = "Red"'), "targets[0].batches[0].filter (a filter) needs a wheel, "
         "and the rig has none"),
        (at("filter = 6"), "targets[0].batches[1].filter (a filter) needs a wheel, and "
         "the rig has none"),
        (at("every = 3"), "dither.every (dithering) needs a mount, and the rig has none"),
        (at("[autofocus]"), "autofocus (autofocus) needs a focuser, and the rig has none"),
        (at("filter = 1"), "targets[1].batches[0].filter (a filter) needs a wheel, and "
         "the rig has none"),
    ], id="no focuser, mount or wheel"),
]


@pytest.mark.parametrize(("facts", "refusals"), LACKING)
def test_what_the_rig_lacks_is_refused_where_the_plan_asks_for_it(
        facts: RigFacts, refusals: list[tuple[int, str]]) -> None:
    """Each thing the rig lacks is refused at the line that asks for it: a filter name the
    wheel does not have and a slot past its last; gain without CCD_GAIN, offset without
    CCD_OFFSET; no focuser for autofocus, no mount for the slew, the dithering and the site
    of a wait on altitude, no wheel for the filters."""
    assert problems(facts) == refusals


def test_without_the_text_the_problems_have_no_line() -> None:
    """A plan built in Python has no lines: its problems say the source alone."""
    errors = check_against(PLAN, replace(ALL, focuser=""), source="plan.py")
    assert [str(error) for error in errors] == [
        "plan.py: autofocus (autofocus) needs a focuser, and the rig has none"]


@dataclass
class Camera:
    name: str = "Cam"

    def has_gain(self) -> bool:
        return True

    def has_offset(self) -> bool:
        return False

    def full_scale(self) -> float | None:
        return None


@dataclass
class Wheel:
    name: str = "Wheel"

    def filters(self) -> list[str]:
        return ["Red", "Green"]


@dataclass
class Named:
    name: str


def test_facts_are_read_from_a_rig() -> None:
    """RigFacts.of reads a rig's camera capabilities, the wheel's filters and which devices
    are there (the sequencer passes its `rig.protocols.Rig`: here one of doubles)."""
    rig = Rig(Camera(), Wheel(), None, Named("Mount"))
    assert RigFacts.of(rig) == RigFacts(camera="Cam", filters=("Red", "Green"), wheel="Wheel",
                                        gain=True, offset=False, focuser="", mount="Mount")
    assert RigFacts.of(replace(rig, dome=Named("Dome"))).dome == "Dome"


def test_autofocus_without_the_extra_is_refused_saying_which_to_install() -> None:
    """Issue 79 item 4: on an install without the extra [agents] (numpy and sep), each place
    that asks for autofocus runs is a refusal at its line naming the extra and how to install
    it; with the extra, or in a plan that asks for no autofocus run, nothing; whether the
    install can is asked only of a plan that asks for autofocus (it imports numpy and sep)."""
    asked: list[str] = []

    def lacking() -> bool:
        asked.append("asked")
        return False

    found = check_install(PLAN, lacking, text=TEXT, source="night.toml")
    assert [(error.line, error.reason) for error in found] == [(
        at("[autofocus]"), 'autofocus asks for autofocus runs: they need the extra '
        '[agents] (numpy and sep), not installed here: pip install ".[agents]" in the '
        "toolkit's clone")]
    assert str(found[0]).startswith(f"night.toml, line {at('[autofocus]')}: ")
    assert check_install(PLAN, lambda: True, text=TEXT) == []
    asked.clear()
    quiet = parse_plan(TEXT.replace(AUTOFOCUS_RUNS, "at_start = false"))
    assert check_install(quiet, lacking) == [] and asked == []
    override = TEXT.replace('dec = "-05 23 28"', 'dec = "-05 23 28"\n[targets.autofocus]\n'
                            "on_filter_change = true").replace(AUTOFOCUS_RUNS, "at_start = false")
    (error,) = check_install(parse_plan(override), lacking, text=override)
    assert error.reason.startswith("targets[0].autofocus asks for autofocus runs")
    assert error.line == override.splitlines().index("[targets.autofocus]") + 1


def test_a_dome_named_must_be_the_rigs_dome() -> None:
    """A plan naming a dome the rig did not open as one (open_rig refuses a device with
    neither DOME_PARK nor DOME_SHUTTER) is refused at [devices] dome's line; a plan naming
    no dome needs none."""
    text = TEXT.replace('mount = "Telescope Simulator"\n',
                        'mount = "Telescope Simulator"\ndome = "Dome Simulator"\n')
    plan = parse_plan(text, "night.toml")
    assert plan.devices.dome == "Dome Simulator"
    found = [(error.line, error.reason) for error in check_against(plan, ALL, text=text)]
    assert found == [(line_of(text, "dome ="), "the dome 'Dome Simulator' is not a dome of the rig")]
    assert check_against(plan, replace(ALL, dome="Dome Simulator"), text=text) == []
    assert problems(ALL) == []


def test_dithering_by_the_guider_needs_a_guider_named_and_there() -> None:
    """Issue 81 item 4: [dither] method = "guider" without [devices] guider is refused at its
    line; named but not on the rig, `check_against` says so; with it, the plan runs, and its
    settle and [guiding] lost_wait read back."""
    text = TEXT.replace('method = "pulse"\nsettle = 2\n',
                        'method = "guider"\nsettle = 8\n'
                        "settle_pixels = 1.5\nsettle_timeout = 40\n[guiding]\nlost_wait = 120\n")
    try:
        parse_plan(text, "night.toml")
    except PlanError as error:
        assert "dither.method (dithering by the guider) needs a guider: name one in " \
               '[devices] guider = "..."' in str(error)
    else:
        raise AssertionError("a guider's dither without a guider was taken")
    named = text.replace('mount = "Telescope Simulator"\n',
                         'mount = "Telescope Simulator"\nguider = "Guider Agent"\n')
    plan = parse_plan(named, "night.toml")
    assert plan.devices.guider == "Guider Agent" and plan.guiding.lost_wait == 120
    dither = plan.dither
    assert (dither.method, dither.settle, dither.settle_pixels, dither.settle_timeout) == \
        ("guider", 8, 1.5, 40)
    [problem] = check_against(plan, ALL, text=named, source="night.toml")
    assert problem.line == next(i for i, line in enumerate(named.splitlines(), 1)
                                if line.startswith("method"))
    assert problem.reason == "dither.method (dithering by the guider) needs a guider, and " \
                             "the rig has none"
    assert check_against(plan, replace(ALL, guider="Guider Agent")) == []
