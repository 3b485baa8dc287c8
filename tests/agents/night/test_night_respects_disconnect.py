"""Issue 89 item 1 (b): the night respects a client's DISCONNECT of one of its devices.

Our server hosts the agent in-process and a camera as an executable driver (ours, and
indilib's ``indi_simulator_ccd``). A client (``indi_setprop``) disconnects the camera while the
night runs: the night does not connect it again, holds saying why in SEQUENCE_STATE (as for a
lost device, not a failed frame), and goes on by itself once a client connects it again. A
camera whose driver is killed and restarted is connected again by the night: that is
`test_device_deaths.py::test_a_camera_killed_mid_exposure_is_restarted_and_the_plan_ends_whole`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import QUICK_RETRY
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from peers import setprop
from waiting import until

from indipyagents.plan.model import Batch

FRAMES = [f"Nowhere_NoFilter_Light_00{n}.fits" for n in (1, 2, 3)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("program", "device"), [(CCD_PROGRAM, CCD),
                                                 ("indi_simulator_ccd", "CCD Simulator")])
async def test_a_camera_a_client_disconnects_is_left_so_and_said(
        tmp_path: Path, program: str, device: str) -> None:
    """indi_setprop's CONNECTION.DISCONNECT=On on the camera once the first of three frames
    is saved: SEQUENCE_STATE goes Alert saying the camera was disconnected by a client and
    that the night waits for it; the camera stays disconnected (nothing taken) well past the
    retries; indi_setprop's CONNECT=On and the night ends Ok with exactly its three frames."""
    plan = night("respect", target("Nowhere", Batch(3, 2), slew=False), camera=device,
                 park=False, warm=False)
    async with hosted(tmp_path, program, retry=QUICK_RETRY) as ours:
        client = ours.client
        await load_and_start(client, tmp_path, plan)
        await until(lambda: client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 1, 30,
                    "the first frame saved")
        said = await asyncio.to_thread(setprop, ours.server.port,
                                       f"{device}.CONNECTION.DISCONNECT=On")
        assert said.returncode == 0, said
        state, message = await sequence_ends(client, 45, ("Alert",))
        assert "disconnected by a client" in message, message
        assert f"waiting for {device} to come back" in message, message
        await asyncio.sleep(3)  # past the retries and a look: still left, nothing taken
        assert client.get(device, "CONNECTION", "CONNECT") == "Off"
        assert client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "On"
        assert client.devices.vector(AGENT, "SEQUENCE_STATE").state.value == "Alert"
        taken = fits_files(ours.frames / "night")
        assert taken in (FRAMES[:1], FRAMES[:2]), taken

        said = await asyncio.to_thread(setprop, ours.server.port,
                                       f"{device}.CONNECTION.CONNECT=On")
        assert said.returncode == 0, said
        state, message = await sequence_ends(client, 60, ("Ok",))
        assert (state, message) == ("Ok", "done")
    assert fits_files(ours.frames / "night") == FRAMES
