"""Issue 71 item 6 inside the agent: AGENT_START_PROCESS.FOCUSING on "Imager Agent" (DEVICES'
CCD and FOCUSER) drives our simulated camera and focuser through the server that hosts it.
The focuser's FOCUS_SIMULATION.BEST_POSITION is placed 60 steps from where it stands (either
side); autofocus ends within 20 steps of it in at most 11 frames, START says so, and
AGENT_IMAGER_STATS.HFD shows the stars' size found."""

from __future__ import annotations

import re

import pytest
from agentkit import AGENT
from nightkit import CCD
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.focus.autofocus import MAX_FRAMES
from indipyagents.imageragent.driver import make_driver
from indipysimulators import ccd
from indipysimulators import focus


@pytest.mark.timeout(180)
@pytest.mark.parametrize("offset", [60, -60])
async def test_focusing_on_the_agent_ends_within_20_steps_in_at_most_11_frames(
        offset: int, tmp_path: object) -> None:
    """DEVICES names our camera and focuser; FOCUSING: START Ok with "focused at P in N
    frames", the focuser at P within 20 steps of the best, N <= 11, and HFD > 0."""
    agent = make_driver(state=str(tmp_path))
    served = server(agent, ccd.make_driver(), focus.make_driver())
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.wait_for(AGENT, "DEVICES", timeout=10)
        named = await client.set(AGENT, "DEVICES", {"CCD": CCD, "FOCUSER": focus.FOCUSER},
                                 timeout=10)
        assert named.state.value in ("Idle", "Ok"), named  # indilib's agent answers Idle
        assert client.get(AGENT, "DEVICES", "FOCUSER") == focus.FOCUSER
        await client.set(focus.FOCUSER, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(focus.FOCUSER, "ABS_FOCUS_POSITION", timeout=10)
        start_at = round(float(client.get(focus.FOCUSER, "ABS_FOCUS_POSITION",
                                          "FOCUS_ABSOLUTE_POSITION")))
        best = start_at + offset
        await client.set(focus.FOCUSER, "FOCUS_SIMULATION", {"BEST_POSITION": best},
                         timeout=10)
        await client.set(AGENT, "AGENT_START_PROCESS", {"FOCUSING": "On"}, wait=False)
        await until(lambda: client.devices.vector(AGENT, "AGENT_START_PROCESS").state.value
                    in ("Ok", "Alert"), 150, "autofocus ended")
        start = client.devices.vector(AGENT, "AGENT_START_PROCESS")
        assert start.state.value == "Ok", start.message
        said = re.fullmatch(r"focused at (-?\d+) in (\d+) frames, HFR ([\d.]+)",
                            start.message or "")
        assert said is not None, start.message
        position, frames_seen = int(said[1]), int(said[2])
        print(f"offset {offset:+d}: {frames_seen} frames, ended {position - best:+d} steps "
              f"from the best, HFR {said[3]}")
        assert abs(position - best) <= 20, (position, best)
        assert frames_seen <= MAX_FRAMES == 11
        assert round(float(client.get(focus.FOCUSER, "ABS_FOCUS_POSITION",
                                      "FOCUS_ABSOLUTE_POSITION"))) == position
        assert client.get(AGENT, "AGENT_IMAGER_STATS", "HFD") == pytest.approx(
            2 * float(said[3]), abs=0.01)
        assert client.get(AGENT, "AGENT_START_PROCESS", "FOCUSING") == "Off"
