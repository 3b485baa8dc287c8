"""The imager agent's face and behaviour (`ImagerFace` on the device "Imager Agent"), hosted
in-process by our server beside indilib's CCD and wheel simulators: indilib's definitions, its
groups and files, DOWNLOAD, ABORT, and what indilib's agent lacks (a device that dies or
disconnects mid-batch is said, nothing hangs; frames are never left half written)."""

from __future__ import annotations

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
from indipyagents.imager.files import write_atomically
from indipyagents.imageragent.driver import AgentDriver
from indipyclient import Client
from indipycore.fits import read_header
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import Retry
from indipyserver.drivers.executable import ExDriverConnection

CCD, WHEEL = "CCD Simulator", "Filter Simulator"
#: A lost device's frame tried again after 1 s, twice, then the batch fails.
QUICK_RETRY = Retry(ConstantBackoff(1.0), retries=2)


@dataclass
class Rigged:
    client: Client
    ccd: ExDriverConnection
    wheel: ExDriverConnection
    agent: AgentDriver


@pytest.fixture
async def rigged() -> AsyncIterator[Rigged]:
    """Our server (port 0) with the agent in-process and indilib's simulators, and a client."""
    agent = make_driver(retry=QUICK_RETRY)
    served = server(agent)
    ccd = served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    wheel = served.add_exdriver("indi_simulator_wheel", max_restarts=0)
    assert isinstance(ccd, ExDriverConnection) and isinstance(wheel, ExDriverConnection)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        yield Rigged(client, ccd, wheel, agent)


async def _connect(client: Client) -> None:
    await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
    await until(lambda: client.devices.vector(AGENT, "STATUS") is not None
                and client.get(AGENT, "STATUS", "CCD") == "Ok"
                and client.get(AGENT, "STATUS", "FILTER") == "Ok", 30, "STATUS lights Ok")


async def _groups(client: Client, folder: Path, *groups: tuple[int, int, int, float]) -> None:
    await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder), "IMAGE_PREFIX": "IMG"})
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": len(groups)})
    for number, (count, binning, slot, seconds) in enumerate(groups, 1):
        await client.set(AGENT, f"GROUP_{number:02d}", {
            "IMAGE_COUNT": count, "CCD_BINNING": binning, "FILTER_SLOT": slot,
            "CCD_EXPOSURE_VALUE": seconds})


async def _exposing(client: Client, folder: Path, *groups: tuple[int, int, int, float]) -> None:
    """The agent connected, its `groups` set, BATCH started and the CCD's exposure under way."""
    await _connect(client)
    await _groups(client, folder, *groups)
    await client.set(AGENT, "BATCH", {"START": "On"})
    await client.wait_for(CCD, "CCD_EXPOSURE", state="Busy", timeout=15)


async def test_indilibs_definitions_before_and_after_connect(rigged: Rigged) -> None:
    """Before CONNECT: DRIVER_INFO (exec indipy_agent_imager, version 1.2, interface 0),
    GROUPS, DEVICES (indilib's defaults), IMAGE_NAME, GROUP_01, and no BATCH; CONNECT defines
    STATUS, PROGRESS, BATCH, DOWNLOAD and IMAGE and connects the CCD and the wheel."""
    client = rigged.client
    await client.wait_for(AGENT, "GROUP_01")
    info = client.vector(AGENT, "DRIVER_INFO")
    assert (info["DRIVER_EXEC"], info["DRIVER_VERSION"], info["DRIVER_INTERFACE"]) == (
        "indipy_agent_imager", "1.2", "0")
    assert client.get(AGENT, "DEVICES", "CCD") == CCD
    assert client.get(AGENT, "DEVICES", "FILTER") == WHEEL
    # Beside indilib's: the plate solver a client finds, by INDIGO's name (issue 80 item 4).
    assert client.get(AGENT, "DEVICES", "ASTROMETRY") == "Astrometry Agent"
    assert client.get(AGENT, "IMAGE_NAME", "IMAGE_PREFIX") == "IMG"
    group = client.vector(AGENT, "GROUP_01")
    assert group.member("FILTER_SLOT").format == "%2.f" and group.group == "Image group 1"
    assert all(client.devices.vector(AGENT, name) is None
               for name in ("STATUS", "PROGRESS", "BATCH", "DOWNLOAD", "IMAGE"))
    await _connect(client)
    assert client.vector(AGENT, "BATCH").rule == "AnyOfMany"
    assert client.vector(AGENT, "IMAGE").vectortype == "BLOBVector"
    assert client.get(CCD, "CONNECTION", "CONNECT") == "On"
    assert client.get(WHEEL, "CONNECTION", "CONNECT") == "On"


async def test_group_count_defines_the_groups_again_keeping_their_values(rigged: Rigged
                                                                        ) -> None:
    """GROUP_COUNT 3 defines GROUP_01..03; 1 deletes 02 and 03; 2 brings 02 back with the
    values it had (as indilib's agent)."""
    client = rigged.client
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 3})
    await client.wait_for(AGENT, "GROUP_03")
    await client.set(AGENT, "GROUP_02", {"IMAGE_COUNT": 7})
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 1})
    await until(lambda: client.devices.vector(AGENT, "GROUP_02") is None, 10, "GROUP_02 gone")
    assert client.devices.vector(AGENT, "GROUP_03") is None
    await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 2})
    await client.wait_for(AGENT, "GROUP_02")
    assert client.get(AGENT, "GROUP_02", "IMAGE_COUNT") == 7


async def test_a_batch_saves_indilibs_files_and_download_sends_then_deletes(
        rigged: Rigged, tmp_path: Path) -> None:
    """Two groups: IMG_1_001, IMG_1_002, IMG_2_001, the second through the wheel's Green
    (FILTER says so) at bin 2; PROGRESS's REMAINING_TIME follows the CCD's countdown and it
    ends Ok "Batch done" on group 2 image 1. DOWNLOAD of
    1/2 sends it as IMAGE and deletes it; of a file that is not there: Alert."""
    client = rigged.client
    await _connect(client)
    await _groups(client, tmp_path, (2, 1, 1, 0.5), (1, 2, 2, 0.5))
    await client.send_enableBLOB("Also", AGENT, "IMAGE")
    async with client.events() as progress:
        await client.set(AGENT, "BATCH", {"START": "On"})
        done = await client.wait_for(AGENT, "PROGRESS", state=("Ok", "Alert"), timeout=60)
        progress.close()
        remaining = [float(event["REMAINING_TIME"]) async for event in progress
                     if isinstance(event, indipyclient.setNumberVector)
                     and event.devicename == AGENT and event.vectorname == "PROGRESS"]
    assert any(0 < left <= 0.5 for left in remaining), remaining  # the CCD's countdown
    assert (done.state, done.message) == ("Ok", "Batch done")
    assert (client.get(AGENT, "PROGRESS", "GROUP"), client.get(AGENT, "PROGRESS", "IMAGE")) == (
        2, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "IMG_1_001.fits", "IMG_1_002.fits", "IMG_2_001.fits"]
    second = read_header((tmp_path / "IMG_2_001.fits").read_bytes())
    assert (second["FILTER"], second["XBINNING"]) == ("Green", 2)
    wanted = (tmp_path / "IMG_1_002.fits").read_bytes()
    async with client.events() as stream:
        result = await client.set(AGENT, "DOWNLOAD", {"GROUP": 1, "IMAGE": 2})
        assert (result.state, result.message) == ("Ok", "Download finished")
        stream.close()
        images = [event["IMAGE"] async for event in stream
                  if isinstance(event, indipyclient.setBLOBVector)]
    assert images == [wanted]
    assert not (tmp_path / "IMG_1_002.fits").exists()
    missing = await client.set(AGENT, "DOWNLOAD", {"GROUP": 1, "IMAGE": 2})
    assert (missing.state, missing.message) == ("Alert", "Download failed")


async def test_abort_stops_the_batch_and_the_exposure(rigged: Rigged, tmp_path: Path) -> None:
    """ABORT during a 30 s exposure: PROGRESS Alert "Batch aborted", BATCH Ok with both
    switches Off, the CCD's exposure aborted (not Busy), and no file at all (none partial)."""
    client = rigged.client
    await _exposing(client, tmp_path, (2, 1, 0, 30))
    result = await client.set(AGENT, "BATCH", {"ABORT": "On"})
    assert result.state == "Ok"
    assert client.vector(AGENT, "BATCH")["START"] == "Off"
    progress = await client.wait_for(AGENT, "PROGRESS", state="Alert")
    assert progress.message == "Batch aborted"
    await client.wait_for(CCD, "CCD_EXPOSURE", state=("Idle", "Ok", "Alert"), timeout=10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lost", ["CCD", "FILTER"])
async def test_a_device_killed_mid_batch_turns_status_and_batch_alert_naming_it(
        rigged: Rigged, tmp_path: Path, lost: str) -> None:
    """The CCD's or the wheel's driver killed (SIGKILL, not restarted) during a 30 s
    exposure: at once its STATUS light goes Alert; the batch tries the frame again by its
    retry policy (issue 79 item 3), and once the tries are spent STATUS, BATCH and PROGRESS go
    Alert, their message naming it; indilib's agent waits forever there."""
    client = rigged.client
    device, driver = (CCD, rigged.ccd) if lost == "CCD" else (WHEEL, rigged.wheel)
    await _exposing(client, tmp_path, (1, 1, 1, 30))
    assert driver.pid is not None
    os.kill(driver.pid, signal.SIGKILL)
    await until(lambda: client.get(AGENT, "STATUS", lost) == "Alert", 5, "its light Alert")
    # Three tries 1 s apart (QUICK_RETRY), the last two each waiting 10 s for the device.
    batch = await client.wait_for(AGENT, "BATCH", state="Alert", timeout=45)
    assert device in (batch.message or "") and "tried 3 times" in (batch.message or "")
    assert client.get(AGENT, "STATUS", lost) == "Alert"
    assert device in (client.vector(AGENT, "STATUS").message or "")
    assert client.vector(AGENT, "PROGRESS").state == "Alert"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("lost", ["CCD", "FILTER"])
async def test_a_device_a_client_disconnects_mid_batch_is_left_so_and_said(
        rigged: Rigged, tmp_path: Path, lost: str) -> None:
    """The CCD or the wheel disconnected by another client during an exposure: its light
    goes Alert at once and the exposure is cut; the agent does not connect it again behind
    the user's back (issue 89 item 1): once the retries are spent the batch ends Alert naming
    the device and why, the device still disconnected. (A driver killed and restarted is
    connected again: test_imager_driver_deaths.py.)"""
    client = rigged.client
    device = CCD if lost == "CCD" else WHEEL
    await _exposing(client, tmp_path, (1, 1, 1, 3))
    await client.set(device, "CONNECTION", {"DISCONNECT": "On"})
    await until(lambda: client.get(AGENT, "STATUS", lost) == "Alert", 5, "its light Alert")
    done = await client.wait_for(AGENT, "PROGRESS", state=("Ok", "Alert"), timeout=45)
    assert done.state.value == "Alert", done.message
    assert device in (done.message or "") and "disconnected by a client" in (done.message or "")
    assert client.get(device, "CONNECTION", "CONNECT") == "Off"
    assert client.get(AGENT, "STATUS", lost) == "Alert"
    assert list(tmp_path.iterdir()) == []


async def test_a_wheel_the_batch_does_not_use_may_go(rigged: Rigged, tmp_path: Path) -> None:
    """A batch with every FILTER_SLOT 0 does not drive the wheel: the wheel disconnected
    meanwhile turns its light Alert, and the batch ends Ok all the same."""
    client = rigged.client
    await _exposing(client, tmp_path, (1, 1, 0, 2))
    await client.set(WHEEL, "CONNECTION", {"DISCONNECT": "On"})
    done = await client.wait_for(AGENT, "PROGRESS", state=("Ok", "Alert"), timeout=30)
    assert (done.state, done.message) == ("Ok", "Batch done")
    assert client.get(AGENT, "STATUS", "FILTER") == "Alert"


async def test_the_agent_keeps_serving_after_a_refused_start(rigged: Rigged, tmp_path: Path
                                                             ) -> None:
    """A batch whose CCD is not served (DEVICES names another) ends Alert naming it, and the
    agent then runs a batch on the right CCD."""
    client = rigged.client
    await _connect(client)
    await _groups(client, tmp_path, (1, 1, 0, 0.2))
    await client.set(AGENT, "DEVICES", {"CCD": "No Such CCD"})
    await client.set(AGENT, "BATCH", {"START": "On"})
    batch = await client.wait_for(AGENT, "BATCH", state="Alert", timeout=30)
    assert "No Such CCD" in (batch.message or "")
    await client.set(AGENT, "DEVICES", {"CCD": CCD})
    await client.set(AGENT, "BATCH", {"START": "On"})
    done = await client.wait_for(AGENT, "PROGRESS", state="Ok", timeout=30)
    assert done.message == "Batch done" and (tmp_path / "IMG_1_001.fits").exists()


def test_write_atomically_leaves_the_old_file_or_the_whole_new_one(tmp_path: Path) -> None:
    """A write that fails part-way (the data is no bytes-like object) leaves the old file as
    it was and no temporary file; one that works replaces it whole."""
    target = tmp_path / "IMG_1_001.fits"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomically(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == [target.name]
    write_atomically(target, b"new" * 1000)
    assert target.read_bytes() == b"new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


async def test_disconnect_stops_a_running_batch(rigged: Rigged, tmp_path: Path) -> None:
    """DISCONNECT of the agent mid-batch deletes its connected vectors and stops the batch:
    the CCD is no longer exposing for it, nothing is saved."""
    client = rigged.client
    await _exposing(client, tmp_path, (1, 1, 0, 30))
    await client.set(AGENT, "CONNECTION", {"DISCONNECT": "On"})
    await until(lambda: client.devices.vector(AGENT, "BATCH") is None, 10, "BATCH deleted")
    await client.wait_for(CCD, "CCD_EXPOSURE", state=("Idle", "Ok", "Alert"), timeout=10)
    assert list(tmp_path.iterdir()) == []
