"""Issue 89 item 1 (b): the night respects a client's DISCONNECT of one of its devices.

Our server hosts the agent in-process and a camera as an executable driver (ours, and
indilib's ``indi_simulator_ccd``). A client (``indi_setprop``) disconnects the camera while the
night runs: the night does not connect it again, holds at once saying why in SEQUENCE_STATE
(as for a lost device, not a failed frame, and without spending its retries first: a retry
cannot undo a person's choice), and goes on by itself once a client connects it again. A
camera whose driver is killed and restarted is connected again by the night: that is
`test_device_deaths.py::test_a_camera_killed_mid_exposure_is_restarted_and_the_plan_ends_whole`.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
from peers import getprop
from peers import setprop
from waiting import until

import indipyclient
from indipyagents.plan.model import Batch
from indipyclient import setVector

FRAMES = [f"lights/NoFilter/Nowhere_NoFilter_Light_00{n}.fits" for n in (1, 2, 3)]
#: Seconds from the camera seen disconnected to the night held saying so: no retry's wait.
HOLDS_WITHIN = 1.0


async def record(client: indipyclient.Client, device: str,
                 seen: list[tuple[float, str, str, str]]) -> None:
    """Each SEQUENCE_STATE the client hears and `device`'s CONNECTION set Off, with the
    moment it was heard: (time, vector, state, message or CONNECT)."""
    async with client.events(maxsize=100_000) as stream:
        async for event in stream:
            if not isinstance(event, setVector):
                continue
            if event.devicename == AGENT and event.vectorname == "SEQUENCE_STATE":
                state = event.state.value if event.state is not None else ""
                seen.append((time.monotonic(), "SEQUENCE_STATE", state, event.message or ""))
            elif event.devicename == device and event.vectorname == "CONNECTION" \
                    and dict(event).get("CONNECT") == "Off":
                seen.append((time.monotonic(), "CONNECTION", "", "Off"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("program", "device"), [(CCD_PROGRAM, CCD),
                                                 ("indi_simulator_ccd", "CCD Simulator")])
async def test_a_camera_a_client_disconnects_is_left_so_and_said(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, program: str, device: str) -> None:
    """indi_setprop's CONNECTION.DISCONNECT=On on the camera once the first of three frames
    is saved: within a second of the camera seen disconnected SEQUENCE_STATE goes Alert
    saying the camera was disconnected by a client and that the night waits for it, never
    "retrying" on the way; the night's look for it leaves it disconnected (nothing taken);
    indi_setprop's CONNECT=On and the night ends Ok with exactly its three frames."""
    plan = night("respect", target("Nowhere", Batch(3, 2), slew=False), camera=device,
                 park=False, warm=False)
    caplog.set_level(logging.DEBUG, "indipyagents.rig.presence")
    seen: list[tuple[float, str, str, str]] = []
    async with hosted(tmp_path, program, retry=QUICK_RETRY) as ours, asyncio.TaskGroup() as tg:
        client = ours.client
        recorder = tg.create_task(record(client, device, seen))
        await load_and_start(client, tmp_path, plan)
        await until(lambda: client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 1, 30,
                    "the first frame saved")
        asked = len(seen)
        said = await asyncio.to_thread(setprop, ours.server.port,
                                       f"{device}.CONNECTION.DISCONNECT=On")
        assert said.returncode == 0, said
        state, message = await sequence_ends(client, 45, ("Alert",))
        assert "disconnected by a client" in message, message
        assert f"waiting for {device} to come back" in message, message
        # The recorder reads its own event stream, which may trail the client's model that
        # `sequence_ends` reads (a loaded full run: the Alert was not in `seen` yet).
        await until(lambda: any(v == "SEQUENCE_STATE" and st == "Alert"
                                for _, v, st, _ in seen[asked:]), 10, "the Alert recorded")
        since = seen[asked:]
        off = next(at for at, vector, _, _ in since if vector == "CONNECTION")
        held = next(at for at, vector, state, said_ in since
                    if vector == "SEQUENCE_STATE" and state == "Alert")
        assert held - off < HOLDS_WITHIN, since
        assert not [m for _, _, _, m in since if "retrying" in m], since

        # The night's own look for its camera (the rig's Presence) has left it so, and the
        # server says it is still disconnected: nothing connected it behind the user's back.
        await until(lambda: f"{device} not back yet" in caplog.text, 10, "the night's look")
        now = await asyncio.to_thread(getprop, ours.server.port, f"{device}.CONNECTION.CONNECT")
        assert now.get(f"{device}.CONNECTION.CONNECT") == "Off", now
        assert client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "On"
        assert client.devices.vector(AGENT, "SEQUENCE_STATE").state.value == "Alert"
        taken = fits_files(ours.frames / "night")
        assert taken in (FRAMES[:1], FRAMES[:2]), taken

        said = await asyncio.to_thread(setprop, ours.server.port,
                                       f"{device}.CONNECTION.CONNECT=On")
        assert said.returncode == 0, said
        state, message = await sequence_ends(client, 60, ("Ok",))
        assert (state, message) == ("Ok", "done")
        recorder.cancel()
    assert fits_files(ours.frames / "night") == FRAMES
    held_said = [m for _, v, s, m in seen if v == "SEQUENCE_STATE" and "by a client" in m]
    assert len(set(held_said)) == 1, held_said  # said once, not a message per retry
