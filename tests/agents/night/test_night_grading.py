"""Issue 93 items 1 and 2 in a night: every light frame measured and judged, a bad one
rejected, moved aside and taken again.

Our server hosts the agent and our simulated camera, focuser (with its wheel) and mount
in-process; the plan asks five 1 s frames through Red of a rich field high now, graded by
``hfr_ratio = 1.5`` once two frames are accepted. After two accepted frames the focuser
simulator's best position is moved 150 steps from the focuser (the stars swell, as after a fall of
temperature); once a frame is journalled rejected it is put back. The night ends with five
accepted frames in lights/Red, each with its grading's cards, the rejected ones in
rejected/Red with their REJECTED card, and a journal whose verdicts say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import night
from agentkit import target
from journalkit import graded_records
from nightkit import CCD
from nightkit import fits_files
from nightkit import header
from nightkit import load_and_start
from nightkit import rich_field_rig
from nightkit import sequence_ends
from waiting import until

from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipysimulators import focus
from indipysimulators import telescope

FRAMES = [f"lights/Red/Rich_Field_Red_Light_{n:03d}.fits" for n in range(1, 6)]



@pytest.mark.timeout(240)
async def test_a_soft_frame_is_rejected_moved_and_taken_again(tmp_path: Path) -> None:
    async with rich_field_rig(tmp_path) as rig:
        client, ra, dec, here = rig.client, rig.ra, rig.dec, rig.focus
        plan = night("graded", target("Rich Field", Batch(5, 1, "Red"), ra=round(ra, 5),
                                      dec=round(dec, 4)),
                     camera=CCD, wheel=focus.WHEEL, focuser=focus.FOCUSER,
                     mount=telescope.DEVICE, grading=Grading(hfr_ratio=1.5, min_frames=2))
        await load_and_start(client, tmp_path, plan)
        folder = tmp_path / "frames" / "night"
        await until(lambda: len(graded_records(folder)) >= 2, 120, "two frames graded")
        await client.set(focus.FOCUSER, "FOCUS_SIMULATION", {"BEST_POSITION": here + 150},
                         timeout=10)
        await until(lambda: any(r["verdict"] == "rejected" for r in graded_records(folder)), 120,
                    "a frame rejected")
        await client.set(focus.FOCUSER, "FOCUS_SIMULATION", {"BEST_POSITION": here},
                         timeout=10)
        assert await sequence_ends(client, 150) == ("Ok", "done")

    records = graded_records(folder)
    accepted = [r for r in records if r["verdict"] == "accepted"]
    rejected = [r for r in records if r["verdict"] == "rejected"]
    assert sorted(r["file"] for r in accepted) == FRAMES
    # Rejected for their HFR, or for no star at all where the swollen stars sank into the sky.
    assert rejected and all(r["reasons"] == ["no stars"]
                            or any(why.startswith("HFR") for why in r["reasons"])
                            for r in rejected)
    sharp = max(r["measure"]["hfr_px"] for r in accepted)
    assert all(r["measure"]["hfr_px"] > 1.5 * sharp for r in rejected
               if r["measure"]["stars"]), (sharp, rejected)
    saved = fits_files(folder)
    assert [name for name in saved if name.startswith("lights/")] == FRAMES
    aside = [name for name in saved if name.startswith("rejected/")]
    assert len(aside) == len(rejected) and all(n.startswith("rejected/Red/") for n in aside)
    for name in FRAMES:
        cards = header(folder / name)
        for key in ("HFR", "FWHM", "STARS", "ECCENTR", "SKYLEVEL", "OBJCTALT"):
            assert key in cards, (name, key)
        assert "REJECTED" not in cards
        assert 0 < float(cards["OBJCTALT"]) <= 90  # type: ignore[arg-type]
    for name in aside:
        assert str(header(folder / name)["REJECTED"]).startswith(("HFR", "no stars"))
