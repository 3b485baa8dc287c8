"""Issue 93 item 3 (clouds) and item 4 (``clouds``, ``rejected_in_a_row``) in a night.

Our server hosts the agent and our simulated camera, focuser (with its wheel) and mount
in-process; the plan asks six 1 s frames through Red of a rich field high now, graded with
``clouds_after = 2`` (test frames of 1 s every 2 s) and told to a JSON webhook of the test.
After two accepted frames our camera simulator's SIM_CLOUDS.TRANSPARENCY goes to 0.02: the
frames through it are rejected, two in a row hold the night (SEQUENCE_STATE "held: unsafe
(clouds: ...)", the journal's note "clouds"), and a test frame through the cloud keeps it
held. Transparency back to 1: the next test frame shows the stars and the night goes on by
itself, ending with exactly the six frames asked for, accepted, none of them through cloud;
the journal records no light frame begun while held (the one exposing as the hold began is
saved and rejected); the webhook hears the rejected frames in
a row, the hold and its end.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from journalkit import graded_records
from journalkit import journal_records
from nightkit import CCD
from nightkit import fits_files
from nightkit import header
from nightkit import load_and_start
from nightkit import rich_field_rig
from nightkit import sequence
from nightkit import sequence_ends
from notifykit import JsonReceiver
from waiting import until

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipyagents.plan.notifying import NotifySettings
from indipysimulators import focus
from indipysimulators import telescope

FRAMES = [f"lights/Red/Rich_Field_Red_Light_{n:03d}.fits" for n in range(1, 7)]




@pytest.mark.timeout(300)
async def test_clouds_hold_the_night_until_a_test_frame_shows_the_stars(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "indipyagents.sequencer.cloudhold")
    with JsonReceiver().running() as hook:
        async with rich_field_rig(tmp_path) as rig:
            client, ra, dec = rig.client, rig.ra, rig.dec
            plan = night("clouded", target("Rich Field", Batch(6, 1, "Red"), ra=round(ra, 5),
                                           dec=round(dec, 4)),
                         camera=CCD, wheel=focus.WHEEL, focuser=focus.FOCUSER,
                         mount=telescope.DEVICE,
                         grading=Grading(min_frames=2, clouds_after=2, clouds_test=1.0,
                                         clouds_every=2.0),
                         notify=NotifySettings(urls=(hook.url(),), rejected_in_a_row=2,
                                               events=("clouds", "rejected_in_a_row")))
            await load_and_start(client, tmp_path, plan)
            folder = tmp_path / "frames" / "night"
            await until(lambda: sum(r["verdict"] == "accepted" for r in graded_records(folder)) >= 2,
                        120, "two frames accepted")
            await client.set(CCD, "SIM_CLOUDS", {"TRANSPARENCY": 0.02}, timeout=10)
            await until(lambda: sequence(client)[1].startswith("held: unsafe (clouds: 2 "
                                                               "frames in a row"), 120,
                        lambda: f"held by clouds, not {sequence(client)}")

            def still_held() -> bool:
                return any("still held" in r.getMessage() for r in caplog.records)

            await until(still_held, 60, "a test frame through the cloud, still held")
            assert sequence(client)[0] == "Busy"
            await client.set(CCD, "SIM_CLOUDS", {"TRANSPARENCY": 1.0}, timeout=10)
            assert await sequence_ends(client, 180) == ("Ok", "done")
            await until(lambda: len(hook.received) == 3, 30, lambda: hook.titles())

    said = journal_records(folder)
    notes = [(i, r["data"]) for i, r in enumerate(said)
             if r.get("kind") == "note" and r.get("note") == "clouds"]
    assert [data["held"] for _, data in notes] == [True, False], notes
    (began, held), (ended, _) = notes
    assert held["target"] == "Rich Field" and held["cause"].startswith("clouds: 2 frames")
    # No light frame was begun while the clouds held the night (the one exposed as the hold
    # began, through cloud, was saved and rejected).
    assert not [r for r in said[began:ended] if r.get("kind") == "begin"
                and "/Light/" in r["step"]], said[began:ended]
    assert all(r["verdict"] == "rejected" for r in said[began:ended]
               if r.get("kind") == "graded")
    verdicts = graded_records(folder)
    accepted = [r for r in verdicts if r["verdict"] == "accepted"]
    rejected = [r for r in verdicts if r["verdict"] == "rejected"]
    assert sorted(r["file"] for r in accepted) == FRAMES
    assert len(rejected) >= 2 and all(
        r["reasons"] == ["no stars"] or r["reasons"][0].startswith("clouds: ")
        for r in rejected), rejected
    clear = [r["measure"]["stars"] for r in accepted]
    assert min(clear) >= 0.3 * sorted(clear)[len(clear) // 2], clear  # none through cloud
    saved = fits_files(folder)
    assert [name for name in saved if name.startswith("lights/")] == FRAMES
    assert all(name.startswith("rejected/Red/") for name in saved
               if not name.startswith("lights/")), saved
    for name in FRAMES:
        assert "REJECTED" not in header(folder / name)
    assert hook.titles() == ["clouded: 2 frames rejected in a row", "clouded: clouds",
                             "clouded: clear again"]
    in_a_row, hold, end = hook.received
    assert in_a_row["message"].startswith("Rich Field: the last 2 frames were rejected (")
    assert hold["message"].startswith("Rich Field: the stars faded (clouds: 2 frames in a row")
    assert hold["type"] == "warning"
    assert end["message"] == ("Rich Field: a test frame shows the stars again: the night goes "
                              "on.")
