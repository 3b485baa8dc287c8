"""Issue 79 item 3: a batch of indilib's face survives its camera's driver, as a plan does.

Our server hosts the agent in-process beside indilib's CCD simulator (``indi_simulator_ccd``,
restarted by the server 0.5 s after it dies). BATCH.START, 6 frames of 1 s; the driver killed
with SIGKILL while the third frame exposes: the server restarts it, the agent connects the
camera again, sets it up again (binning, upload mode Local, ACTIVE_DEVICES) and takes the
third frame again by the retry policy, and the batch ends Ok with exactly its 6 frames, each
whole, none taken twice. A camera that does not come back (not restarted, or restarted into a
driver that exits at once) ends the batch with BATCH Alert naming it once the retries are
spent, the frames taken before kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from agentkit import AGENT
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imager import make_driver
from indipyagents.imager.batchjournal import JOURNAL
from indipyagents.journal import Journal
from indipycore.fits import read_header
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipyserver.drivers.executable import ExDriverConnection

CCD = "CCD Simulator"
#: A lost device's frame tried again after 1 s, twice, then the batch fails: the policy's
#: behaviour with a test's patience (the agent's own waits 2, 4, 8, 16 s).
QUICK_RETRY = Retry(ConstantBackoff(1.0), retries=2)
NAMES = [f"IMG_1_{n:03d}.fits" for n in range(1, 7)]


@dataclass
class Hosted:
    client: indipyclient.Client
    camera: ExDriverConnection


@contextlib.asynccontextmanager
async def hosted(program: str, *, max_restarts: int) -> AsyncIterator[Hosted]:
    """Our server with the agent in-process (`QUICK_RETRY`) and `program` as the camera's
    executable driver, a client connected."""
    served = server(make_driver(retry=QUICK_RETRY))
    camera = served.add_exdriver(program, max_restarts=max_restarts)
    assert isinstance(camera, ExDriverConnection)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        yield Hosted(client, camera)


async def start_six(client: indipyclient.Client, folder: Path) -> None:
    """CONNECT (the CCD's light Ok), one group of 6 frames of 1 s, binning 2 (so the retried
    frame shows the camera's settings were set again), no wheel; START."""
    await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
    await until(lambda: client.devices.vector(AGENT, "STATUS") is not None
                and client.get(AGENT, "STATUS", "CCD") == "Ok", 30, "the CCD's light Ok")
    await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder), "IMAGE_PREFIX": "IMG"})
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 1})
    await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": 6, "CCD_BINNING": 2, "FILTER_SLOT": 0,
                                         "CCD_EXPOSURE_VALUE": 1})
    await client.set(AGENT, "BATCH", {"START": "On"})


async def kill_at_the_third(client: indipyclient.Client, camera: ExDriverConnection,
                            folder: Path) -> int:
    """SIGKILL to the camera's driver once two frames are saved and the third exposes."""
    def third_exposing() -> bool:
        vector = client.devices.vector(CCD, "CCD_EXPOSURE")
        return (len(frames(folder)) == 2 and client.get(AGENT, "PROGRESS", "IMAGE") == 3
                and vector is not None and vector.state.value == "Busy")

    await until(third_exposing, 30, lambda: f"the third frame exposing: {frames(folder)}")
    pid = camera.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def frames(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def batch_ends(client: indipyclient.Client, timeout: float) -> tuple[str, str]:
    done = await client.wait_for(AGENT, "PROGRESS", state=("Ok", "Alert"), timeout=timeout)
    return done.state.value, done.message or ""


def whole(path: Path) -> tuple[int, int]:
    """The frame's size (NAXIS1, NAXIS2) once its header and data are all there."""
    data = path.read_bytes()
    header = read_header(data)
    assert len(data) >= header.data_offset + header.data_size, f"{path.name} is cut short"
    return int(header["NAXIS1"]), int(header["NAXIS2"])


@pytest.mark.timeout(120)
async def test_a_batch_survives_its_camera_killed_after_two_frames(
        tmp_path: Path, agent_state: Path) -> None:
    """indi_simulator_ccd killed while the third of 6 frames exposes: restarted by the
    server, connected and set up again by the agent, the third frame taken again; BATCH Ok,
    exactly IMG_1_001..006, each whole and binned 2x2, in the order taken, the journal
    recording each once."""
    folder = tmp_path / "frames"
    async with hosted("indi_simulator_ccd", max_restarts=5) as rig:
        client = rig.client
        await start_six(client, folder)
        pid = await kill_at_the_third(client, rig.camera, folder)
        await until(lambda: rig.camera.pid not in (None, pid), 30, "the driver restarted")
        state, message = await batch_ends(client, 60)
        assert (state, message) == ("Ok", "Batch done"), message
        assert client.get(AGENT, "BATCH", "START") == "Off"
        assert client.vector(AGENT, "BATCH").state.value == "Ok"
        assert (client.get(AGENT, "PROGRESS", "GROUP"), client.get(AGENT, "PROGRESS", "IMAGE")
                ) == (1, 6)
        assert client.get(AGENT, "STATUS", "CCD") == "Ok", "connected again: its light Ok"
        assert client.get(CCD, "UPLOAD_MODE", "UPLOAD_LOCAL") == "On"
    assert frames(folder) == NAMES
    sizes = {whole(folder / name) for name in NAMES}
    assert len(sizes) == 1 and sizes.pop()[0] > 0, sizes
    for name in NAMES:
        assert read_header((folder / name).read_bytes())["XBINNING"] == 2, name
    taken = [(folder / name).stat().st_mtime_ns for name in NAMES]
    assert taken == sorted(taken), "the frames' names in the order they were taken"
    saved = [record["file"] for record in Journal(agent_state / JOURNAL).records()
             if record["kind"] == "frame"]
    assert saved == NAMES, "each frame journalled once, in order: none taken twice"


def _dies_when_told(folder: Path) -> tuple[str, Path]:
    """A camera driver that is indilib's simulator until the flag file exists, then exits at
    once: the server's restarts bring no camera back."""
    flag = folder / "die"
    wrapper = folder / "ccd_that_dies"
    wrapper.write_text(f"#!/bin/sh\n[ -e '{flag}' ] && exit 1\nexec indi_simulator_ccd\n")
    wrapper.chmod(0o755)
    return str(wrapper), flag


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", ["not restarted", "restarted, exits at once"])
async def test_a_camera_that_does_not_come_back_leaves_batch_alert_naming_it(
        tmp_path: Path, how: str) -> None:
    """The camera's driver killed at the third frame and not coming back (the server's
    restarts off, or each restart exiting at once): once the retries are spent BATCH,
    PROGRESS and STATUS go Alert naming the camera and the tries, START is Off, and the two
    frames taken before are kept."""
    folder = tmp_path / "frames"
    program, flag = ("indi_simulator_ccd", None) if how == "not restarted" \
        else _dies_when_told(tmp_path)
    async with hosted(program, max_restarts=0 if flag is None else 5) as rig:
        client = rig.client
        await start_six(client, folder)
        if flag is not None:
            flag.touch()
        await kill_at_the_third(client, rig.camera, folder)
        # Three tries 1 s apart, the last two each waiting at most 10 s for the camera.
        state, message = await batch_ends(client, 45)
        assert state == "Alert" and CCD in message and "tried 3 times" in message, message
        batch = client.vector(AGENT, "BATCH")
        assert batch.state.value == "Alert" and CCD in (batch.message or "")
        assert batch["START"] == "Off"
        assert client.get(AGENT, "STATUS", "CCD") == "Alert"
        assert CCD in (client.vector(AGENT, "STATUS").message or "")
    assert frames(folder) == NAMES[:2]
    for name in NAMES[:2]:
        whole(folder / name)
