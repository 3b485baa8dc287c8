"""Issue 78 item 3 and issue 79 item 9, one runner at a time: indilib's BATCH.START and the
sequencer's AGENT_START_PROCESS (SEQUENCE, FOCUSING) drive the same camera of one agent, so
while one runs the other is refused at once, its vector Alert naming what runs, and what runs
ends with exactly its frames. The agent in-process in our server, beside indilib's CCD and
wheel simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import darks_plan
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imager import make_driver
from indipyclient import Client
from indipycore.fits import read_header

CCD, WHEEL = "CCD Simulator", "Filter Simulator"
BATCH_FRAMES = ["IMG_1_001.fits", "IMG_1_002.fits", "IMG_1_003.fits"]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    served = server(make_driver())
    served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    served.add_exdriver("indi_simulator_wheel", max_restarts=0)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
        await until(lambda: client.devices.vector(AGENT, "STATUS") is not None
                    and client.get(AGENT, "STATUS", "CCD") == "Ok", 30, "STATUS CCD Ok")
        yield client


async def _batch_of_three(client: Client, images: Path) -> None:
    """IMAGE_FOLDER `images`, one group of three 1 s frames, no wheel."""
    await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(images), "IMAGE_PREFIX": "IMG"})
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 1})
    await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": 3, "CCD_BINNING": 1,
                                         "FILTER_SLOT": 0, "CCD_EXPOSURE_VALUE": 1})


async def _load(client: Client, folder: Path, count: int) -> None:
    plan = folder / "plan.toml"
    plan.write_text(darks_plan(CCD, count=count, exposure=1))
    loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(plan)}, timeout=20)
    assert loaded.ok, loaded


def _frames(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.fits")) if folder.exists() else []


def _night_frames(folder: Path) -> list[str]:
    """The sequencer's frames: below `folder`, a folder per frame type."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits"))


async def test_start_and_focusing_during_a_batch_say_a_batch_runs(client: Client,
                                                                 tmp_path: Path) -> None:
    """A batch of three 1 s frames runs; a plan loaded and START pressed: AGENT_START_PROCESS
    Alert "a batch runs", the plan's folder untouched; FOCUSING likewise. The batch ends Ok
    with exactly its three light frames of 1 s (no dark of the plan among them); once it has
    ended, the same START runs the plan."""
    images = tmp_path / "images"
    await _batch_of_three(client, images)
    await _load(client, tmp_path, 2)
    await client.set(AGENT, "BATCH", {"START": "On"})
    await client.wait_for(CCD, "CCD_EXPOSURE", state="Busy", timeout=15)
    for member in ("SEQUENCE", "FOCUSING"):
        refused = await client.set(AGENT, "AGENT_START_PROCESS", {member: "On"}, timeout=10)
        assert refused.state.value == "Alert", refused
        assert "a batch runs" in refused.message, refused
        start = client.vector(AGENT, "AGENT_START_PROCESS")
        assert (start["SEQUENCE"], start["FOCUSING"]) == ("Off", "Off")
        assert client.vector(AGENT, "PROGRESS").state.value == "Busy"
    done = await client.wait_for(AGENT, "PROGRESS", state=("Ok", "Alert"), timeout=60)
    assert (done.state.value, done.message) == ("Ok", "Batch done")
    assert _frames(images) == BATCH_FRAMES and _night_frames(images / "night") == []
    for name in BATCH_FRAMES:
        header = read_header((images / name).read_bytes())
        assert (header["EXPTIME"], header["FRAME"]) == (1.0, "Light"), name
    started = await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
    assert started.state.value == "Busy"
    ended = await client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"), timeout=60)
    assert ended.state.value == "Ok", ended
    assert len(_night_frames(images / "night")) == 2 and _frames(images) == BATCH_FRAMES


async def test_batch_start_during_a_plan_names_the_plan(client: Client, tmp_path: Path
                                                        ) -> None:
    """A plan of three 1 s darks runs; BATCH.START: BATCH Alert "the sequence 'anywhere'
    runs", PROGRESS never Busy, no batch file; the plan ends Ok with its three frames."""
    images = tmp_path / "images"
    await _batch_of_three(client, images)
    await _load(client, tmp_path, 3)
    await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
    await client.wait_for(CCD, "CCD_EXPOSURE", state="Busy", timeout=30)
    refused = await client.set(AGENT, "BATCH", {"START": "On"}, timeout=10)
    assert refused.state.value == "Alert", refused
    assert "the sequence 'anywhere' runs" in refused.message, refused
    assert client.vector(AGENT, "BATCH")["START"] == "Off"
    assert client.vector(AGENT, "PROGRESS").state.value != "Busy"
    ended = await client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"), timeout=60)
    assert ended.state.value == "Ok", ended
    assert client.get(AGENT, "SEQUENCE_STATE", "PROGRESS") == 3
    assert len(_night_frames(images / "night")) == 3 and _frames(images) == []
