"""Issue 93 item 6: our guider loses its star under cloud, drawn by our guide camera simulator's
SIM_CLOUDS (TRANSPARENCY 0, overcast), and finds it again when the cloud passes: the guider's
own star-lost path (LostLock), caused by what causes it at night. Our server with our mount and
guide camera simulators and the Guider Agent (tests/agents/guider/guiderkit.py), guiding on a
kept calibration."""

from __future__ import annotations

from pathlib import Path

import pytest
from guiderkit import AGENT
from guiderkit import CAMERA
from guiderkit import QUICK
from guiderkit import guided_sky
from guiderkit import seed_calibration
from guiderkit import track_at
from waiting import until


@pytest.mark.timeout(400)
async def test_the_guide_star_is_lost_under_cloud_and_found_when_it_passes(
        tmp_path: Path) -> None:
    state = tmp_path / "guider"
    async with guided_sky(state=str(state)) as (_ours, client):
        await track_at(client)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        seed_calibration(client, state)
        await client.set(AGENT, "AGENT_START_PROCESS", {"GUIDING": "On"}, timeout=300)
        assert client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding"

        await client.set(CAMERA, "SIM_CLOUDS", {"TRANSPARENCY": 0.0}, timeout=10)
        await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "LostLock",
                    60, "the guider says its star is lost under the cloud")

        await client.set(CAMERA, "SIM_CLOUDS", {"TRANSPARENCY": 1.0}, timeout=10)
        await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding",
                    120, "the guider finds its star again once the cloud has passed")
