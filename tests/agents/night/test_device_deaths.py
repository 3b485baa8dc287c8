"""Issue 71 item 5, end to end: a device's driver dies and the night goes on.

Our server hosts the agent in-process and our simulated camera as an executable driver
(``indipy_simulator_ccd``, restarted by the server after 0.5 s when it dies). A camera killed
with SIGKILL mid-exposure is restarted by the server, the agent's step is retried by its retry
policy (the frame in hand taken again, the camera connected again) and the plan ends with
exactly its frames. A camera that does not come back holds the plan with SEQUENCE_STATE Alert
naming it, in a bounded time, the agent still answering; once the camera is back, the plan
goes on by itself (issue 82 item 4). And every client may leave right after START: the plan still runs to its end,
seen only afterwards (the files, then indi_getprop).
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import QUICK_RETRY
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from peers import OurServer
from peers import getprop
from peers import setprop
from waiting import until
from waiting import wait_for

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyclient import Client
from indipyserver.drivers.executable import ExDriverConnection


def plan(camera: str) -> Plan:
    """Three 2 s frames where the mount points, on `camera`; the end parks and warms (the
    plan's defaults)."""
    return night("deaths", target("Nowhere", Batch(3, 2), slew=False), camera=camera,
                 park=True, warm=True)


FRAMES = [f"lights/NoFilter/Nowhere_NoFilter_Light_00{n}.fits" for n in (1, 2, 3)]


async def exposing(client: Client, served_camera: ExDriverConnection,
                   device: str = CCD) -> int:
    """Wait until the camera's CCD_EXPOSURE is Busy (an exposure under way): its pid."""
    def busy() -> bool:
        vector = client.devices.vector(device, "CCD_EXPOSURE")
        return vector is not None and vector.state.value == "Busy"

    await until(busy, 30, "an exposure under way")
    assert served_camera.pid is not None
    return served_camera.pid


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("program", "device"), [(CCD_PROGRAM, CCD),
                                                 ("indi_simulator_ccd", "CCD Simulator")])
async def test_a_camera_killed_mid_exposure_is_restarted_and_the_plan_ends_whole(
        tmp_path: Path, program: str, device: str) -> None:
    """SIGKILL to the camera's driver (ours, and indilib's) while it exposes: the server
    restarts it, the agent retries the frame (connecting the camera again) and the plan ends
    Ok with exactly its three frames, each whole, none repeated."""
    async with hosted(tmp_path, program, retry=QUICK_RETRY) as night:
        camera = night.drivers[0]
        await load_and_start(night.client, tmp_path, plan(device))
        pid = await exposing(night.client, camera, device)
        os.kill(pid, signal.SIGKILL)
        await until(lambda: camera.pid != pid, 30, "the camera's driver restarted")
        state, message = await sequence_ends(night.client, 60)
        assert (state, message) == ("Ok", "done")
        folder = night.frames / "night"
        assert fits_files(folder) == FRAMES
        assert night.client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 3
        for name in FRAMES:
            assert (folder / name).stat().st_size > 2880
        records = (folder / ".journal" / "deaths.journal").read_text()
        assert records.count('"kind":"frame"') == 3, records
        assert records.count('"kind":"begin","step":"Nowhere/0/NoFilter/Light/001"') == 2, \
            "the frame the kill cut short is begun again (retried)"


@pytest.mark.timeout(120)
async def test_a_camera_that_does_not_come_back_holds_naming_it_then_goes_on_once_back(
        tmp_path: Path) -> None:
    """The camera's driver killed and not restarted (max_restarts 0): once the retries are
    spent the plan is held, SEQUENCE_STATE Alert naming the camera and waiting for it, within
    a bound; the run is still under way (AGENT_START_PROCESS On) and the agent still answers
    a new client's getProperties. The camera's driver started again well after the retries
    gave up, and no client pressing anything: the plan goes on by itself from its journal to
    exactly its frames, none twice, the journal saying the camera came back."""
    async with hosted(tmp_path, CCD_PROGRAM, retry=QUICK_RETRY, max_restarts=0) as night:
        camera = night.drivers[0]
        await load_and_start(night.client, tmp_path, plan(CCD))
        await until(lambda: night.client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 1, 30,
                    "the first frame saved")
        os.kill(await exposing(night.client, camera), signal.SIGKILL)
        # Two retries 1 s apart, each waiting at most 10 s for the camera to be defined.
        state, message = await sequence_ends(night.client, 45, ("Alert",))
        assert CCD in message and "tried 3 times" in message, message
        assert f"waiting for {CCD} to come back" in message, message
        answered = await asyncio.to_thread(getprop, night.server.port,
                                           f"{AGENT}.SEQUENCE_STATE.PROGRESS")
        assert answered.get(f"{AGENT}.SEQUENCE_STATE.PROGRESS") == "1", answered
        states = await asyncio.to_thread(getprop, night.server.port,
                                         f"{AGENT}.SEQUENCE_STATE._STATE")
        assert states.get(f"{AGENT}.SEQUENCE_STATE._STATE") == "Alert", states
        await asyncio.sleep(3)  # later than the retries allow: still held, nothing taken
        assert night.client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "On"
        assert night.client.devices.vector(AGENT, "SEQUENCE_STATE").state.value == "Alert"
        assert fits_files(night.frames / "night") == FRAMES[:1]

        night.server.remove_connection(camera)
        night.server.add_exdriver(CCD_PROGRAM, max_restarts=0)
        state, message = await sequence_ends(night.client, 60, ("Ok",))
        assert (state, message) == ("Ok", "done")
        folder = night.frames / "night"
        assert fits_files(folder) == FRAMES
        records = (folder / ".journal" / "deaths.journal").read_text()
        assert records.count('"kind":"frame"') == 3, records
        assert records.count(f'"back":"{CCD}"') == 1, records


@pytest.mark.timeout(120)
def test_every_client_may_leave_after_start_and_the_plan_runs_to_its_end(
        tmp_path: Path) -> None:
    """indi_setprop as the only client (each one connects, sends, leaves): the folder, the
    plan, START; no client stays. Looked at only afterwards: the three frames on disk, then
    indi_getprop says SEQUENCE_STATE Ok with 3 of 3 frames."""
    write_plan(tmp_path / "plan.toml", plan(CCD))
    ours = OurServer("indipyagents.imager", CCD_PROGRAM, workdir=tmp_path)
    ours.env["INDIPY_AGENT_STATE"] = str(tmp_path / "state")
    with ours:
        for spec in (f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER={tmp_path / 'frames'}",
                     f"{AGENT}.AGENT_PLAN.FILE={tmp_path / 'plan.toml'}",
                     f"{AGENT}.AGENT_START_PROCESS.SEQUENCE=On"):
            sent = setprop(ours.port, spec, timeout=10)
            assert sent.returncode == 0, sent
        folder = tmp_path / "frames" / "night"
        journal = folder / ".journal" / "deaths.journal"
        wait_for(lambda: journal.exists() and '"finished"' in journal.read_text(), 60,
                 "the journal says the night finished")
        assert fits_files(folder) == FRAMES
        found = getprop(ours.port, f"{AGENT}.SEQUENCE_STATE.PROGRESS", timeout=5)
        assert found.get(f"{AGENT}.SEQUENCE_STATE.PROGRESS") == "3", found
        states = getprop(ours.port, f"{AGENT}.SEQUENCE_STATE._STATE", timeout=5)
        assert states.get(f"{AGENT}.SEQUENCE_STATE._STATE") == "Ok", states


@pytest.mark.timeout(120)
def test_every_client_may_leave_after_an_indilib_batch_starts(tmp_path: Path) -> None:
    """The same through indilib's face: indi_setprop connects the agent, names the devices,
    sets one group of two frames through the wheel's slot 1 and BATCH.START, each setprop
    leaving at once; afterwards the two files are there and PROGRESS is Ok."""
    ours = OurServer("indipyagents.imager", CCD_PROGRAM, FOCUS_PROGRAM, workdir=tmp_path)
    ours.env["INDIPY_AGENT_STATE"] = str(tmp_path / "state")
    folder = tmp_path / "frames"
    with ours:
        for spec in (f"{AGENT}.DEVICES.CCD;FILTER={CCD};Python Filter Wheel",
                     f"{AGENT}.CONNECTION.CONNECT=On",
                     f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER;IMAGE_PREFIX={folder};IMG",
                     f"{AGENT}.GROUPS.GROUP_COUNT=1",
                     f"{AGENT}.GROUP_01.IMAGE_COUNT;CCD_BINNING;FILTER_SLOT;"
                     "CCD_EXPOSURE_VALUE=2;1;1;1",
                     f"{AGENT}.BATCH.START=On"):
            sent = setprop(ours.port, spec, timeout=10)
            assert sent.returncode == 0, sent
        wait_for(lambda: folder.is_dir() and sorted(p.name for p in folder.iterdir())
                 == ["IMG_1_001.fits", "IMG_1_002.fits"], 60, "the batch's two files")
        wait_for(lambda: getprop(ours.port, f"{AGENT}.PROGRESS._STATE", timeout=5).get(
            f"{AGENT}.PROGRESS._STATE") == "Ok", 30, "PROGRESS Ok")
