"""Issue 93 item 4, the pure part: which journal records become which events, the night's
summary per target (frames asked, taken; accepted and rejected once frames are graded), and
every event's message, the grading's ``clouds`` and ``rejected_in_a_row`` included."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from agentkit import night
from agentkit import target

from indipyagents.notify.messages import CLIENT_ABORT
from indipyagents.notify.messages import NightEvent
from indipyagents.notify.messages import TargetSummary
from indipyagents.notify.messages import events_of
from indipyagents.notify.messages import message_of
from indipyagents.notify.messages import night_link
from indipyagents.notify.messages import summary_of
from indipyagents.plan.model import Batch
from indipyagents.plan.notifying import EVENTS
from indipyagents.sequencer.engine import CLIENT_PAUSE
from indipyagents.sequencer.engine import ENDED_UNSAFE
from indipyagents.sequencer.engine import Sequencer


def note(kind: str, **data: object) -> dict[str, Any]:
    return {"kind": "note", "note": kind, "data": data}


@pytest.mark.parametrize(("record", "events"), [
    (note("safety", unsafe=True, cause="rain"), [NightEvent("hold", cause="rain")]),
    (note("safety", unsafe=False, cause=""), [NightEvent("hold_end")]),
    (note("device", lost="CCD Simulator", reason="no answer in 10 s"),
     [NightEvent("device_lost", device="CCD Simulator", cause="no answer in 10 s")]),
    (note("device", back="CCD Simulator", at="2026-11-29T01:00:00+00:00"),
     [NightEvent("device_back", device="CCD Simulator")]),
    ({"kind": "paused", "reason": "CCD Simulator: refused"},
     [NightEvent("failed", cause="CCD Simulator: refused")]),
    ({"kind": "paused", "reason": CLIENT_PAUSE}, []),
    ({"kind": "aborted", "reason": CLIENT_ABORT}, [NightEvent("night_end", ended=CLIENT_ABORT)]),
    ({"kind": "aborted", "reason": ENDED_UNSAFE},
     [NightEvent("failed", cause=ENDED_UNSAFE), NightEvent("night_end", ended=ENDED_UNSAFE)]),
    ({"kind": "finished"}, [NightEvent("night_end", ended="finished")]),
    (note("clouds", held=True, cause="clouds: 3 frames in a row (no stars)", target="M42"),
     [NightEvent("clouds", cause="clouds: 3 frames in a row (no stars)", target="M42")]),
    (note("clouds", held=False, target="M42", stars=120),
     [NightEvent("clouds", target="M42", ended="clear")]),
    (note("autofocus", position=1000), []),
    ({"kind": "frame", "step": "M42/0/Red/Light/001", "file": "x", "size": 1, "sha256": "0"},
     []),
    ({"kind": "resumed"}, []),
])
def test_each_record_makes_its_events(record: dict[str, object],
                                      events: list[NightEvent]) -> None:
    assert events_of(record) == events


def test_a_client_abort_is_the_engines_own_reason() -> None:
    """The abort a client asks is the night's end, not a failure: the same words."""
    assert inspect.signature(Sequencer.abort).parameters["reason"].default == CLIENT_ABORT


def frame(step: str) -> dict[str, Any]:
    return {"kind": "frame", "step": step, "file": step, "size": 1, "sha256": "0"}


def test_the_summary_counts_frames_asked_and_taken_per_target() -> None:
    plan = night("two", target("M42", Batch(3, 60.0, "Red"), Batch(2, 60.0, "Blue")),
                 target("Darks", Batch(2, 60.0, frame_type="Dark"), slew=False), camera="C")
    records = [frame("M42/0/Red/Light/001"), frame("M42/0/Red/Light/002"),
               frame("M42/0/Red/Light/002"), frame("Darks/0/NoFilter/Dark/001")]
    assert summary_of(plan, records) == (TargetSummary("M42", 5, 2), TargetSummary("Darks", 2, 1))


def test_graded_frames_are_counted_when_the_journal_has_them() -> None:
    plan = night("graded", target("M42", Batch(3, 60.0, "Red")),
                 target("M31", Batch(1, 60.0, "Red")), camera="C")
    records: list[dict[str, Any]] = [
               frame("M42/0/Red/Light/001"), frame("M42/0/Red/Light/002"),
               {"kind": "graded", "step": "M42/0/Red/Light/001", "verdict": "accepted"},
               {"kind": "graded", "step": "M42/0/Red/Light/002", "verdict": "rejected"},
               {"kind": "graded", "step": "M42/0/Red/Light/004", "verdict": "accepted"}]
    assert summary_of(plan, records) == (TargetSummary("M42", 3, 2, accepted=2, rejected=1),
                                         TargetSummary("M31", 1, 0, accepted=0, rejected=0))


def test_the_end_says_the_frames_given_up_and_grades_only_light_targets() -> None:
    """The guide's night (issue 93): two frames rejected past their retakes (``retakes_spent``)
    ended SEQUENCE_STATE Alert "done; frames given up", so its end is told as a warning
    naming them, not "the plan is done"; its darks, never graded, say no "0 accepted"."""
    plan = night("given up", target("M1", Batch(2, 3.0, "Green")),
                 target("Darks", Batch(1, 3.0, frame_type="Dark"), slew=False), camera="C")
    records: list[dict[str, Any]] = [
        frame("M1/0/Green/Light/001"), frame("M1/0/Green/Light/002"),
        frame("Darks/0/NoFilter/Dark/001"),
        {"kind": "graded", "step": "M1/0/Green/Light/001", "verdict": "accepted"},
        {"kind": "graded", "step": "M1/0/Green/Light/002", "verdict": "rejected"},
        {"kind": "note", "note": "retakes_spent",
         "data": {"step": "M1/0/Green/Light/002", "times": 4, "reasons": ["no stars"]}}]
    summary = summary_of(plan, records)
    assert summary == (TargetSummary("M1", 2, 2, accepted=1, rejected=1, given_up=1),
                       TargetSummary("Darks", 1, 1))
    said = message_of(NightEvent("night_end", ended="finished", summary=summary), "Orion")
    assert (said.title, said.kind) == ("Orion: night over", "warning")
    assert said.body == ("Finished, 1 frames given up (rejected past their retakes).\n"
                         "M1: 2 of 2 frames taken, 1 accepted, 1 rejected, 1 given up\n"
                         "Darks: 1 of 1 frames taken")


def test_every_event_renders() -> None:
    """Each kind a plan may ask for has its message; the grading's two included."""
    samples = {
        "hold": NightEvent("hold", cause="weather 'Weather Simulator': WEATHER_STATUS is Alert"),
        "hold_end": NightEvent("hold_end"),
        "device_lost": NightEvent("device_lost", device="CCD Simulator", cause="no answer"),
        "device_back": NightEvent("device_back", device="CCD Simulator"),
        "failed": NightEvent("failed", cause="CCD Simulator: refused CCD_EXPOSURE"),
        "rejected_in_a_row": NightEvent("rejected_in_a_row", target="M42", count=3,
                                        cause="HFR 4.1 over 1.5 times the median 2.2"),
        "clouds": NightEvent("clouds", target="M42", cause="stars 12, median 340"),
        "night_end": NightEvent("night_end", ended="finished",
                                summary=(TargetSummary("M42", 10, 10, 8, 2),)),
    }
    assert set(samples) == set(EVENTS)
    said = {kind: message_of(event, "Orion") for kind, event in samples.items()}
    assert said["hold"].title == "Orion: held (unsafe)"
    assert "WEATHER_STATUS is Alert" in said["hold"].body and said["hold"].kind == "warning"
    assert said["hold_end"].title == "Orion: safe again"
    assert said["device_lost"].title == "Orion: CCD Simulator lost"
    assert said["device_back"].body == "CCD Simulator is back: the night goes on."
    assert said["failed"].kind == "failure" and "refused CCD_EXPOSURE" in said["failed"].body
    assert said["rejected_in_a_row"].title == "Orion: 3 frames rejected in a row"
    assert said["rejected_in_a_row"].body == (
        "M42: the last 3 frames were rejected (HFR 4.1 over 1.5 times the median 2.2).")
    assert said["clouds"].title == "Orion: clouds"
    assert "M42: the stars faded (stars 12, median 340)" in said["clouds"].body
    clear = message_of(NightEvent("clouds", target="M42", ended="clear"), "Orion")
    assert (clear.title, clear.kind) == ("Orion: clear again", "info")
    assert clear.body == "M42: a test frame shows the stars again: the night goes on."
    assert said["night_end"].title == "Orion: night over"
    assert said["night_end"].body == ("Finished: the plan is done.\n"
                                      "M42: 10 of 10 frames taken, 8 accepted, 2 rejected")
    assert said["night_end"].kind == "success"


def test_the_nights_end_links_to_its_page() -> None:
    link = night_link("http://observatory.local:8000/", "Orion 2026-11-28")
    assert link == "http://observatory.local:8000/night/Orion%202026-11-28"
    ended = message_of(NightEvent("night_end", ended=ENDED_UNSAFE,
                                  summary=(TargetSummary("M42", 10, 4),)), "Orion", link)
    assert ended.title == "Orion: night ended early"
    assert ended.body == (f"Ended early: {ENDED_UNSAFE}.\nM42: 4 of 10 frames taken\n\n"
                          f"The night: {link}")
    assert night_link("", "Orion") == ""
