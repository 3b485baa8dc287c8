"""Issue 93 item 2's bound: a frame rejected again after its ``retakes`` is given up tonight,
and the night ends. Before, a rig whose frames always failed a rule (indilib's CCD simulator,
which draws no star without the GSC catalogue, under a plan with ``[grading]``: 130 frames
in 140 s, bench/agent_deadtime.py --grading) took the same frame again without end.

Our server hosts the agent and our camera simulator in-process, its sky overcast
(SIM_CLOUDS.TRANSPARENCY 0: no star); the plan asks two 1 s frames with ``retakes = 1`` and no
cloud rule. Each frame is taken twice, both rejected ("no stars") and moved aside; then given
up: the night ends Alert naming both, the journal notes each ``retakes_spent``, and nothing is
left in lights/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from journalkit import journal_records
from nightkit import CCD
from nightkit import fits_files
from nightkit import load_and_start
from nightkit import sequence_ends
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipysimulators import ccd


@pytest.mark.timeout(120)
async def test_a_frame_rejected_after_its_retakes_is_given_up_and_the_night_ends(
        tmp_path: Path) -> None:
    served = server(make_driver(state=tmp_path / "state"), ccd.make_driver())
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(AGENT, "IMAGE_NAME", timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        await client.set(CCD, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(CCD, "SIM_CLOUDS", {"TRANSPARENCY": 0.0}, timeout=10)
        plan = night("overcast", target("Overcast", Batch(2, 1, None)), camera=CCD,
                     grading=Grading(stars_ratio=0.5, retakes=1))
        await load_and_start(client, tmp_path, plan)
        state, said = await sequence_ends(client, 90)
    assert state == "Alert", said
    assert said.startswith("done; frames given up: "), said
    for number in (1, 2):
        assert f"Overcast/0/NoFilter/Light/{number:03d} rejected 2 times (no stars)" in said
    folder = tmp_path / "frames" / "night"
    records = journal_records(folder)
    verdicts = [(r["step"], r["verdict"], r["reasons"]) for r in records
                if r["kind"] == "graded"]
    # (a verdict comes while the next frame exposes: the order the frames were taken in may
    # interleave)
    assert sorted(verdicts) == [(f"Overcast/0/NoFilter/Light/{n:03d}", "rejected",
                                 ["no stars"]) for n in (1, 1, 2, 2)]
    spent = [r["data"] for r in records if r["kind"] == "note" and r["note"] == "retakes_spent"]
    assert sorted((s["step"], s["times"]) for s in spent) == [
        ("Overcast/0/NoFilter/Light/001", 2), ("Overcast/0/NoFilter/Light/002", 2)]
    saved = fits_files(folder)
    assert not [name for name in saved if name.startswith("lights/")], saved
    assert len([name for name in saved if name.startswith("rejected/")]) == 4, saved
