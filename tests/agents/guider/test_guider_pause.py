"""Issue 91 item 4, the pure part: PHD2's pause (`set_paused`) in the guider's state machine.
PHD2 keeps exposing while paused but sends no GuideStep (a paused frame only schedules a
dead-reckoning move, zero for its default algorithms, and ``Mount::MoveOffset`` returns before
the step is recorded: ``guider.cpp``, ``mount.cpp``); ours sent one every frame, and
`phd2client` (PyPI), which sets its state to Guiding on every GuideStep, then said Guiding
while paused. A pause "full" (PHD2's PAUSE_FULL) stops the exposures too."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from test_guider_machine import SETTLE
from test_guider_machine import Sky
from test_guider_machine import names

from indipyagents.guider.events import GuideEvent
from indipyagents.guider.events import GuideStep
from indipyagents.guider.events import Paused
from indipyagents.guider.events import Resumed
from indipyagents.guider.guidemath import Calibration
from indipyagents.guider.machine import GuiderMachine
from indipyagents.guider.machine import Refused
from indipyagents.guider.phd2wire import Settle


def guiding(sky: Sky, seed: int = 0) -> GuiderMachine:
    """A machine guiding on `sky` (angle 0) with its calibration given: a GuideStep said."""
    machine = GuiderMachine(rng=random.Random(seed))
    machine.calibration = Calibration((sky.rate, 0.0), (0.0, sky.rate), sky.pier)
    machine.loop()
    machine.guide(SETTLE)
    for _ in range(3):
        machine.frame(sky.seen())
    assert machine.app_state == "Guiding"
    return machine


def frame(machine: GuiderMachine, sky: Sky) -> list[type[GuideEvent]]:
    step = machine.frame(sky.seen())
    for direction, ms in step.pulses.items():
        sky.pulse(direction, ms)
    said = names(step.events)
    assert not (machine.paused and step.pulses), step  # no pulse while paused
    return said


def test_a_paused_guider_exposes_but_says_no_guide_step_until_resumed() -> None:
    sky = Sky(drift=0.2)
    machine = guiding(sky)
    assert names(machine.set_paused(True).events) == [Paused]
    assert machine.capturing and machine.app_state == "Paused"
    for _ in range(10):
        said = frame(machine, sky)
        assert GuideStep not in said, said
    assert machine.app_state == "Paused"
    assert names(machine.set_paused(False).events) == [Resumed]
    assert GuideStep in frame(machine, sky) and machine.app_state == "Guiding"


def test_a_full_pause_stops_the_exposures_and_a_pause_keeps_its_kind() -> None:
    """PHD2's MyFrame::SetPaused: PAUSE_FULL ends the exposures until resumed; a pause asked
    while paused changes nothing (its kind kept, no second Paused)."""
    sky = Sky()
    machine = guiding(sky)
    assert names(machine.set_paused(True, full=True).events) == [Paused]
    assert not machine.capturing and machine.app_state == "Paused"
    assert machine.set_paused(True).events == [] and not machine.capturing
    assert names(machine.set_paused(False).events) == [Resumed] and machine.capturing
    assert machine.set_paused(False).events == []
    machine.set_paused(True)
    assert machine.capturing
    assert machine.set_paused(True, full=True).events == [] and machine.capturing
    machine.stop()
    assert not machine.paused and not machine.paused_full


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["frame", "frame", "frame", "pause", "full", "resume",
                                 "lose", "dither"]), max_size=60),
       st.floats(0.0, 0.2), st.integers(0, 2**32))
def test_no_guide_step_between_paused_and_resumed_and_one_after(plan: list[str], drift: float,
                                                                 seed: int) -> None:
    """Any frames, pauses (either kind), resumes, lost stars and dithers: never a GuideStep
    nor a pulse between Paused and Resumed; the first frame after Resumed that sees the star
    says one."""
    sky = Sky(drift=drift)
    machine = guiding(sky, seed)
    resumed = False
    for op in plan + ["resume", "frame"]:
        if op in ("pause", "full"):
            was_paused = machine.paused
            said = names(machine.set_paused(True, full=op == "full").events)
            assert said == ([] if was_paused else [Paused]), said
            resumed = False
        elif op == "resume":
            said = names(machine.set_paused(False).events)
            resumed = resumed or said == [Resumed]
        elif op == "lose":
            sky.visible = not sky.visible
        elif op == "dither":
            try:
                machine.dither(1.0, False, Settle(1.0, 2, 20))
            except Refused:
                pass
        else:
            sky.visible = sky.visible or resumed  # the frame after a resume sees the star
            said = frame(machine, sky)
            if machine.paused:
                assert GuideStep not in said and machine.app_state == "Paused", said
            elif resumed:
                assert GuideStep in said, said
                resumed = False
