"""Issue 93 item 3 (soft focus acted on) in a night: a median HFR grown past the plan's
``[grading] hfr_autofocus_ratio`` runs autofocus, by itself, beside the temperature trigger
(which this plan leaves off).

Our server hosts the agent and our simulated camera, focuser (with its wheel) and mount
in-process; the plan asks eight 1 s frames through Red of a rich field high now, graded with
``hfr_ratio = 1.5``, ``hfr_autofocus_ratio = 1.3`` and ``min_frames = 2``, its [autofocus]
asking for no run by itself. After two accepted frames the focuser simulator's tube warms by
1.5 degrees: its best position moves 30 steps (STEPS_PER_DEGREE 20), the stars swell. The
night runs autofocus (its journal's note says why: the median HFR grew), the focuser ends near
the new best, and the frames after it are as sharp as the first; the night ends with the eight
frames asked for, accepted.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from journalkit import graded_records
from journalkit import journal_records
from nightkit import CCD
from nightkit import fits_files
from nightkit import load_and_start
from nightkit import rich_field_rig
from nightkit import sequence_ends
from waiting import until

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipysimulators import focus
from indipysimulators import telescope

FRAMES = [f"lights/Red/Rich_Field_Red_Light_{n:03d}.fits" for n in range(1, 9)]




@pytest.mark.timeout(300)
async def test_a_grown_hfr_runs_autofocus_and_the_frames_after_it_are_sharp(
        tmp_path: Path) -> None:
    async with rich_field_rig(tmp_path) as rig:
        client, ra, dec, here = rig.client, rig.ra, rig.dec, rig.focus
        plan = night("refocused", target("Rich Field", Batch(8, 1, "Red"), ra=round(ra, 5),
                                         dec=round(dec, 4)),
                     camera=CCD, wheel=focus.WHEEL, focuser=focus.FOCUSER,
                     mount=telescope.DEVICE, autofocus=Autofocus(exposure=1.0),
                     grading=Grading(hfr_ratio=1.5, min_frames=2, hfr_autofocus_ratio=1.3))
        await load_and_start(client, tmp_path, plan)
        folder = tmp_path / "frames" / "night"
        await until(lambda: sum(r["verdict"] == "accepted" for r in graded_records(folder)) >= 2, 120,
                    "two frames accepted")
        warm = focus.TEMPERATURE + 1.5
        await client.set(focus.FOCUSER, "SIM_TEMPERATURE", {"TEMPERATURE": warm}, timeout=10)
        best = here + 30

        def moved() -> bool:
            said = client.get(focus.FOCUSER, "FOCUS_SIMULATION", "BEST_POSITION")
            return round(float(said)) == best

        await until(moved, 10, "the best position moved with the temperature")
        assert await sequence_ends(client, 240) == ("Ok", "done")

    said = journal_records(folder)
    runs = [(i, r["data"]) for i, r in enumerate(said)
            if r.get("kind") == "note" and r.get("note") == "autofocus"]
    assert len(runs) == 1, runs
    at, run = runs[0]
    assert run["why"].startswith("the median HFR grew from "), run
    assert run["ok"] and abs(run["position"] - best) <= 20, (run, best)
    verdicts = [r for r in said if r.get("kind") == "graded"]
    first = [r["measure"]["hfr_px"] for r in verdicts[:2]]
    soft = [r["measure"]["hfr_px"] for r in said[:at] if r.get("kind") == "graded"][2:]
    assert soft and max(soft) > 1.3 * statistics.median(first), (first, soft)
    # The frames begun after the focus run: accepted, and as sharp as the first two.
    begun = {r["step"] for r in said[at:] if r.get("kind") == "begin"}
    after = [r for r in said[at:] if r.get("kind") == "graded" and r["step"] in begun]
    assert len(after) >= 3, after
    print(f"HFR first {first}, grown {soft}, after the run "
          f"{[r['measure']['hfr_px'] for r in after]}; {run['why']}, at {run['position']} "
          f"(best {best})")
    assert all(r["verdict"] == "accepted" for r in after[-3:]), after
    assert all(r["measure"]["hfr_px"] <= 1.3 * statistics.median(first) for r in after[-3:]), (
        first, after)
    assert sorted(r["file"] for r in verdicts if r["verdict"] == "accepted") == FRAMES
    assert [name for name in fits_files(folder) if name.startswith("lights/")] == FRAMES
