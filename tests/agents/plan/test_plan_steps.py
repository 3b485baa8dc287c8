"""A plan expanded into the sequencer's steps (issue 71 items 3 and 5): the order, ids that
stay the same for the same plan text (the journal records them), and file names unique across
a whole plan (so a resumed night never overwrites a frame)."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from planstrategies import plans

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.model import Wait
from indipyagents.plan.steps import EndStep
from indipyagents.plan.steps import FrameStep
from indipyagents.plan.steps import SlewStep
from indipyagents.plan.steps import WaitStep
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frame_steps
from indipyagents.plan.steps import frames
from indipyagents.plan.steps import frames_folder
from indipyagents.plan.steps import night_of
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

NIGHT = Plan(name="night", targets=(
    Target("M42", ra=5.58, dec=-5.39, wait=Wait(altitude=30), batches=(
        Batch(2, 60, "Red"), Batch(1, 60, "Green"), Batch(2, 30, "Red"))),
    Target("Flats & darks", slew=False, batches=(
        Batch(2, 0.5, 1, frame_type="Flat"), Batch(1, 60, frame_type="Dark"))),
))


def test_the_steps_of_a_night_in_order() -> None:
    """Slew, wait, then each batch's frames in order, numbered per target, filter and type
    across batches; a target without slew or wait has only its frames; the end last."""
    steps = expand(NIGHT)
    assert [step.id for step in steps] == [
        "M42/slew", "M42/wait",
        "M42/0/Red/Light/001", "M42/0/Red/Light/002", "M42/1/Green/Light/001",
        "M42/2/Red/Light/003", "M42/2/Red/Light/004",
        "Flats___darks/0/Slot1/Flat/001", "Flats___darks/0/Slot1/Flat/002",
        "Flats___darks/1/NoFilter/Dark/001", "end"]
    assert steps[0] == SlewStep("M42/slew", 0) and steps[1] == WaitStep("M42/wait", 0)
    assert steps[-1] == EndStep("end")
    frame = steps[5]
    assert frame == FrameStep("M42/2/Red/Light/003", "lights/Red/M42_Red_Light_003.fits", 0, 2, 3,
                              Batch(2, 30, "Red"))
    assert [step.file_name for step in steps if isinstance(step, FrameStep)][-3:] == [
        "flats/Slot1/Flats___darks_Slot1_Flat_001.fits",
        "flats/Slot1/Flats___darks_Slot1_Flat_002.fits",
        "darks/Flats___darks_NoFilter_Dark_001.fits"]


def test_a_wait_on_time_alone_is_a_step_too() -> None:
    """`until` without altitude still makes a WaitStep; no wait at all makes none."""
    plan = Plan("p", (Target("A", ra=1, dec=2, slew=False, batches=(Batch(1, 1),),
                             wait=Wait(until=datetime(2026, 11, 27, tzinfo=UTC))),))
    assert [type(step).__name__ for step in expand(plan)] == ["WaitStep", "FrameStep", "EndStep"]


def test_two_targets_of_one_name_keep_ids_and_files_apart() -> None:
    """The same target twice in a night (before and after another): ids of their own, and
    the second's frames continue the numbering instead of overwriting the first's."""
    twice = Plan("p", (Target("M42", ra=1, dec=2, batches=(Batch(2, 1, "L"),)),
                       Target("M42", ra=1, dec=2, batches=(Batch(1, 1, "L"),))))
    steps = expand(twice)
    assert [step.id for step in steps] == ["M42/slew", "M42/0/L/Light/001", "M42/0/L/Light/002",
                                           "M42#1/slew", "M42#1/0/L/Light/003", "end"]
    assert frame_steps(steps)[-1] == ("M42#1/0/L/Light/003", "lights/L/M42_L_Light_003.fits")


@given(plans())
def test_ids_are_stable_and_file_names_unique(plan: Plan) -> None:
    """For any plan: expanding its text twice (as the journal does after a restart) gives the
    same ids; every step id and every file name is unique, of [A-Za-z0-9_-] with .fits, in
    its frame type's folder (``lights/<filter>/`` ...); the frame count is the plan's."""
    text = plan_to_toml(plan)
    steps = expand(parse_plan(text))
    assert steps == expand(parse_plan(text))
    ids = [step.id for step in steps]
    assert len(set(ids)) == len(ids)
    names = [name for _, name in frame_steps(steps)]
    assert len(set(names)) == len(names) == plan.frames_total
    folders = {"Light": "lights", "Flat": "flats", "Dark": "darks", "Bias": "biases"}
    for step in frames(steps):
        *folder, name = step.file_name.split("/")
        kind, label = step.batch.frame_type, step.id.split("/")[-3]
        assert folder == [folders[kind], label] if kind in ("Light", "Flat") \
            else folder == [folders[kind]]
        assert name.endswith(".fits") and name[:-5].replace("_", "").replace("-", "").isalnum() \
            and name.isascii()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_night_is_named_by_its_evenings_date(moment: datetime) -> None:
    """Issue 79 item 10: `night_of` is the date whose noon starts the 24 hours `moment` is in,
    so a night's hours after midnight (a resume, the plan loaded again) keep its evening's
    date, and a new date begins at noon."""
    night = night_of(moment)
    noon = datetime.combine(night, time(12))
    assert noon <= moment < noon + timedelta(days=1)


def test_a_plan_without_folder_gets_one_of_its_own() -> None:
    """No ``folder``: the plan's name made safe for a path and the night's date; a folder
    given is kept as it is."""
    night = date(2026, 11, 27)
    assert frames_folder(Plan("M42 & flats/2", ()), night) == "M42___flats_2-2026-11-27"
    assert frames_folder(Plan("..", ()), night) == "__-2026-11-27"
    assert frames_folder(Plan("M42", (), folder="mine"), night) == "mine"
    assert night_of(datetime(2026, 11, 28, 2, 30)) == night
    assert night_of(datetime(2026, 11, 27, 12, 0)) == night
    assert night_of(datetime(2026, 11, 27, 11, 59)) == date(2026, 11, 26)
