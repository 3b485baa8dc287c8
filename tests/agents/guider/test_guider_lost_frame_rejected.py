"""Issue 93 item 3 (guiding lost acted on) in a night: a light frame during which our guider
lost its star is rejected (``guiding lost during the exposure``), moved aside and taken again,
and the next light waits for the guider started again and settled.

One server of ours with our mount, guide camera, imaging camera, the Guider Agent (its
calibration kept: guiderkit's `seed_calibration`) and the Imager Agent, in-process. A plan of
four 3 s light frames of the Double Cluster, guided, graded. After two frames saved, while
the third exposes, cloud covers the guide camera only (its SIM_CLOUDS.TRANSPARENCY 0): the
guider says LostLock; the cloud passes (TRANSPARENCY 1) and it finds its star. The night ends
with the four frames asked for, accepted; the frame exposed while the star was lost is in
rejected/ with its reason, and the journal shows the guider started again (its settle waited
for, `guider.guide`) before the next light frame was saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from agentkit import AGENT
from agentkit import load_and_start
from guiderkit import AGENT as GUIDER
from guiderkit import CAMERA
from guiderkit import GUIDED_LIGHTS as FRAMES
from guiderkit import guided_night
from guiderkit import guided_sky
from guiderkit import ready_for_a_guided_night
from journalkit import graded_records
from journalkit import journal_records
from waiting import until

from indipyagents.imageragent.driver import make_driver as make_imager
from indipyagents.plan.grading import GUIDING_LOST
from indipyagents.plan.grading import Grading
from indipysimulators import ccd


@pytest.mark.timeout(600)
async def test_a_frame_whose_guide_star_was_lost_is_rejected_and_the_next_waits_to_settle(
        tmp_path: Path) -> None:
    state = tmp_path / "guider"
    imager = make_imager(state=tmp_path / "state")
    async with guided_sky(ccd.make_driver(), imager, state=str(state)) as (_ours, client):
        await ready_for_a_guided_night(client, tmp_path / "frames", state)
        await load_and_start(client, tmp_path, guided_night(Grading(min_frames=2)))
        folder = tmp_path / "frames" / "night"

        def exposing_the_third() -> bool:
            """Two frames saved (the first judged: accepted), the third exposing."""
            exposure = client.devices.vector(ccd.DEVICE, "CCD_EXPOSURE")
            return len(records_of(folder, "frame")) == 2 \
                and [r["verdict"] for r in graded_records(folder)] == ["accepted"] \
                and exposure is not None and exposure.state.value == "Busy"

        await until(exposing_the_third, 150, "two frames accepted, the third exposing")
        await client.set(CAMERA, "SIM_CLOUDS", {"TRANSPARENCY": 0.0}, timeout=10)
        await until(lambda: client.get(GUIDER, "AGENT_GUIDER_STATE", "STATE") == "LostLock",
                    60, "the guider says its star is lost under the cloud")
        await client.set(CAMERA, "SIM_CLOUDS", {"TRANSPARENCY": 1.0}, timeout=10)
        await until(lambda: client.vector(AGENT, "SEQUENCE_STATE").state.value
                    in ("Ok", "Alert"), 300, "the night ends")
        sequence = client.vector(AGENT, "SEQUENCE_STATE")
        assert sequence.state.value == "Ok", sequence.message

    said = journal_records(folder)
    verdicts = [r for r in said if r.get("kind") == "graded"]
    lost = [r for r in verdicts if r["verdict"] == "rejected"]
    assert lost and all(GUIDING_LOST in r["reasons"] for r in lost), verdicts
    assert sorted(r["file"] for r in verdicts if r["verdict"] == "accepted") == FRAMES
    # The lost frame's step begun again only after the guider was started again.
    first_lost = next(i for i, r in enumerate(said) if r.get("kind") == "frame"
                      and r["step"] == lost[0]["step"])
    later = said[first_lost + 1:]
    restarted = next(i for i, r in enumerate(later) if r.get("kind") == "note"
                     and r.get("note") == "guiding" and r["data"].get("started"))
    next_frame = next(i for i, r in enumerate(later) if r.get("kind") == "frame")
    assert restarted < next_frame, later
    saved = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits")
                   if not p.relative_to(folder).as_posix().startswith("."))
    assert [name for name in saved if name.startswith("lights/")] == FRAMES
    assert len([name for name in saved if name.startswith("rejected/")]) == len(lost)


def records_of(folder: Path, kind: str) -> list[dict[str, Any]]:
    return [r for r in journal_records(folder) if r.get("kind") == kind]
