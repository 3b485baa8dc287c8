"""indilib's face's batch needs no client and survives a crash (issue 71 item 5): our server as
a child process (``python -m indipyserver indipyagents.imager`` with our simulators as
executables), driven only by indi_setprop / indi_getprop, killed with SIGKILL mid-batch and
started again with no client action."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from agentkit import AGENT
from peers import IndiServer
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import setprop
from serverkit import running
from serverkit import server
from waiting import until
from waiting import wait_for

import indipyclient
from indipyagents.imager.batchjournal import JOURNAL
from indipyagents.imageragent.driver import AgentDriver
from indipyagents.imageragent.driver import make_driver
from indipyagents.journal import Journal
from indipyclient import Client
from indipycore.fits import read_header
from indipyserver import IPyServer

CCD, WHEEL = "Python CCD Simulator", "Python Filter Wheel"
BIN = Path(sys.executable).parent
DRIVERS = ("indipyagents.imager", str(BIN / "indipy_simulator_ccd"),
           str(BIN / "indipy_simulator_focus"))
#: Each group: count, binning, slot, exposure (slot 1 Red, 2 Green on our wheel).
GROUPS = ((5, 2, 1, 0.3), (5, 2, 2, 0.3))
NAMES = sorted(f"IMG_{group}_{image:03d}.fits"
               for group, (count, *_rest) in enumerate(GROUPS, 1)
               for image in range(1, count + 1))


def _set(port: int, *specs: str) -> None:
    result = setprop(port, *specs, timeout=10)
    assert result.returncode == 0, result


def _start_batch(port: int, folder: Path) -> None:
    """What a user of indilib's agent types: CONNECT, the devices, the folder, the groups,
    START; indi_setprop disconnects after each."""
    _set(port, f"{AGENT}.CONNECTION.CONNECT=On")
    _set(port, f"{AGENT}.DEVICES.CCD;FILTER={CCD};{WHEEL}")
    _set(port, f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER;IMAGE_PREFIX={folder};IMG")
    _set(port, f"{AGENT}.GROUPS.GROUP_COUNT={len(GROUPS)}")
    wait_for(lambda: getprop(port, f"{AGENT}.GROUP_02.IMAGE_COUNT"),
             20, "GROUP_02 defined")
    for number, (count, binning, slot, seconds) in enumerate(GROUPS, 1):
        _set(port, f"{AGENT}.GROUP_{number:02d}.IMAGE_COUNT;CCD_BINNING;FILTER_SLOT;"
                   f"CCD_EXPOSURE_VALUE={count};{binning};{slot};{seconds}")
    _set(port, f"{AGENT}.BATCH.START=On")


def _frames(folder: Path) -> list[str]:
    """Every file in the frames' folder (a killed writer's hidden partial too)."""
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def _saved(folder: Path) -> list[str]:
    """The frames saved: the folder's files but hidden partials."""
    return [name for name in _frames(folder) if not name.startswith(".")]


def _finished(state: Path) -> bool:
    return Journal(state / JOURNAL).state().finished


def _whole(path: Path) -> tuple[object, object]:
    """A frame is whole: its header's data size is all there (padded to FITS blocks).
    Returns its FILTER and XBINNING."""
    data = path.read_bytes()
    header = read_header(data)
    pixels = header.data_size
    assert pixels > 0, f"{path.name}: no image"
    size = header.data_offset + pixels + (-pixels % 2880)
    assert len(data) == size, f"{path.name}: {len(data)} bytes, its header says {size}"
    return header.values.get("FILTER"), header.values.get("XBINNING")


def _check_the_frames(folder: Path, state: Path) -> None:
    """Exactly the batch's frames, each whole, through the right filter; the journal lists
    each frame once."""
    assert _frames(folder) == NAMES
    for name in NAMES:
        group = int(name.split("_")[1])
        assert _whole(folder / name) == (("Red", "Green")[group - 1], GROUPS[group - 1][1])
    saved = [record["file"] for record in Journal(state / JOURNAL).records()
             if record["kind"] == "frame"]
    assert sorted(saved) == NAMES, saved


def test_the_batch_ends_with_no_client(our_server: Callable[..., OurServer], tmp_path: Path,
                                       agent_state: Path) -> None:
    """Once BATCH START is sent (indi_setprop's connection then closed, no client left) the
    batch runs to its end: every frame saved and journalled, and a client that comes back
    sees PROGRESS Ok on the last group and image."""
    server = our_server(*DRIVERS)
    folder = tmp_path / "frames"
    _start_batch(server.port, folder)
    wait_for(lambda: _finished(agent_state), 120, f"the batch finished: {_frames(folder)}")
    _check_the_frames(folder, agent_state)
    # The journal's end is written before PROGRESS says "Batch done" (the record first, then
    # the word), so a client that looks in between still sees Busy: wait for the word.
    seen: dict[str, str] = {}

    def done() -> bool:
        seen.clear()
        seen.update(getprop(server.port, f"{AGENT}.PROGRESS.GROUP", f"{AGENT}.PROGRESS.IMAGE",
                            f"{AGENT}.PROGRESS._STATE", timeout=5))
        return seen.get(f"{AGENT}.PROGRESS._STATE") == "Ok"

    wait_for(done, 20, lambda: f"PROGRESS Ok after the journal's end: {seen}")
    assert (seen[f"{AGENT}.PROGRESS.GROUP"], seen[f"{AGENT}.PROGRESS.IMAGE"]) == ("2", "5")


def _kill(server: OurServer) -> None:
    """SIGKILL to the server and its drivers at once, as a power cut would."""
    process = server.process
    assert process is not None and process.poll() is None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_sigkill_mid_batch_and_restart_continues_it(our_server: Callable[..., OurServer],
                                                    tmp_path: Path, agent_state: Path) -> None:
    """The server killed (SIGKILL, drivers with it) at three random moments of a 2-group batch
    and started again with no client action: each time the agent continues the batch by
    itself (PROGRESS Busy, BATCH Ok, the settings shown), and at the end exactly IMG_1_001..
    IMG_2_005 exist, whole, through Red then Green, each journalled once; every frame on disk
    at a kill is untouched at the end (none taken again)."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    server = our_server(*DRIVERS)
    folder = tmp_path / "frames"
    _start_batch(server.port, folder)
    kept: dict[str, bytes] = {}
    kills = 0
    for kill in range(3):
        before = len(_saved(folder))
        wait_for(lambda before=before: len(_saved(folder)) > before
                 or _finished(agent_state), 60,
                 f"a frame more (seed {seed}, kill {kill}): {_frames(folder)}")
        if _finished(agent_state):
            break
        time.sleep(rng.uniform(0.0, 0.8))  # the kill's random moment, not a wait to look
        _kill(server)
        kills += 1
        kept.update({name: (folder / name).read_bytes() for name in _saved(folder)})
        server.start()
        if kill == 0:
            shown = _shown_going_on(server.port, seed)
            assert shown[f"{AGENT}.DEVICES.CCD"] == CCD, shown
            assert shown[f"{AGENT}.GROUP_02.FILTER_SLOT"] == "2", shown
    assert kills >= 2, f"only {kills} kills fell mid-batch (seed {seed})"
    wait_for(lambda: _finished(agent_state), 120, f"the batch finished (seed {seed})")
    _check_the_frames(folder, agent_state)
    for name, data in kept.items():
        assert (folder / name).read_bytes() == data, f"{name} taken again (seed {seed})"


def _shown_going_on(port: int, seed: int) -> dict[str, str]:
    """What indi_getprop says of the agent once it shows the batch going on again: PROGRESS
    Busy, then BATCH Ok. The face says PROGRESS before BATCH on a resume (as on START), so a
    look in between sees BATCH as first defined: its Ok is waited for."""
    wait_for(lambda: _busy(port), 60, f"the batch shown going on (seed {seed})")
    seen: list[dict[str, str] | None] = [None]

    def batch_ok() -> dict[str, str] | None:
        shown = seen[0] = _busy(port)
        return shown if shown and shown[f"{AGENT}.BATCH._STATE"] == "Ok" else None

    return wait_for(batch_ok, 20,
                    lambda: f"BATCH Ok after PROGRESS Busy (seed {seed}): {seen[0]}")


def _busy(port: int) -> dict[str, str] | None:
    """What indi_getprop says of the agent once PROGRESS is Busy again, else None."""
    found = getprop(port, *(f"{AGENT}.{spec}" for spec in (
        "PROGRESS._STATE", "BATCH._STATE", "DEVICES.CCD", "GROUP_02.FILTER_SLOT")), timeout=2)
    return dict(found) if found.get(f"{AGENT}.PROGRESS._STATE") == "Busy" else None


# -- in-process: what ends a batch for good --------------------------------------------------

ICCD = "CCD Simulator"


async def _agent_with_ccd(state: Path) -> tuple[AgentDriver, IPyServer]:
    agent = make_driver(state=state)
    served = server(agent)
    served.add_exdriver("indi_simulator_ccd", max_restarts=0)
    return agent, served


async def _start_long_batch(client: Client, folder: Path) -> None:
    """One 30 s frame of indilib's CCD simulator, the wheel left alone; START, then the
    exposure under way."""
    await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
    await client.set(AGENT, "DEVICES", {"CCD": ICCD})
    await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder), "IMAGE_PREFIX": "IMG"})
    await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": 1, "CCD_BINNING": 1, "FILTER_SLOT": 0,
                                         "CCD_EXPOSURE_VALUE": 30})
    await client.set(AGENT, "BATCH", {"START": "On"})
    await client.wait_for(ICCD, "CCD_EXPOSURE", state="Busy", timeout=20)


async def test_abort_and_disconnect_end_the_batch_for_good(tmp_path: Path) -> None:
    """ABORT, and a DISCONNECT of the agent (indilib's agent aborts then), are journalled as
    aborted: the agent started again would not continue that batch."""
    state = tmp_path / "state"
    agent, served = await _agent_with_ccd(state)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await _start_long_batch(client, tmp_path / "frames")
        again = make_driver(state=state).imager
        assert again is not None and again.unfinished() is not None
        await client.set(AGENT, "BATCH", {"ABORT": "On"})
        await client.wait_for(AGENT, "PROGRESS", state="Alert", timeout=10)
        last = Journal(state / JOURNAL).records()[-1]
        assert (last["kind"], last["reason"]) == ("aborted", "aborted by a client")
        await client.wait_for(ICCD, "CCD_EXPOSURE", state=("Idle", "Ok", "Alert"), timeout=10)
        await _start_long_batch(client, tmp_path / "frames")
        await client.set(AGENT, "CONNECTION", {"DISCONNECT": "On"})
        await until(lambda: Journal(state / JOURNAL).state().aborted, 10, "aborted journalled")
        last = Journal(state / JOURNAL).records()[-1]
        assert last["reason"] == "the agent was disconnected"
    assert agent.imager is not None and agent.imager.unfinished() is None


async def test_a_batch_that_cannot_be_journalled_is_refused(tmp_path: Path) -> None:
    """A state folder that cannot be made (a file is in the way): START is refused with BATCH
    Alert saying why, before any exposure; the agent keeps serving."""
    state = tmp_path / "state"
    state.write_text("not a folder")
    _agent, served = await _agent_with_ccd(state)
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(AGENT, "CONNECTION", {"CONNECT": "On"})
        await client.set(AGENT, "DEVICES", {"CCD": ICCD})
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")})
        result = await client.set(AGENT, "BATCH", {"START": "On"})
        assert result.state == "Alert"
        assert "cannot be journalled" in (result.message or ""), result.message
        assert client.get(AGENT, "GROUPS", "GROUP_COUNT") == 1  # still answering
        exposure = client.devices.vector(ICCD, "CCD_EXPOSURE")
        assert exposure is None or exposure.state != "Busy"
    assert not (tmp_path / "frames").exists()


def _agent_pid(server: IndiServer) -> int | None:
    """The pid of the agent's executable among the server's children, or None."""
    assert server.process is not None
    found = subprocess.run(["pgrep", "-P", str(server.process.pid), "-f", "indipy_agent_imager"],
                           capture_output=True, text=True, check=False)
    pids = [int(pid) for pid in found.stdout.split()]
    return pids[0] if len(pids) == 1 else None


def test_the_agents_process_killed_under_indiserver_is_restarted_and_continues(
        indiserver_factory: Callable[..., IndiServer], tmp_path: Path, agent_state: Path
) -> None:
    """``indipy_agent_imager`` under indilib's indiserver, beside our simulators: its process
    alone killed (SIGKILL) twice mid-batch, indiserver starts it again and it continues the
    batch by itself; at the end exactly the batch's frames, whole, none taken twice."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    port = free_port()
    env = {"INDIPY_AGENT_SERVER": f"127.0.0.1:{port}", "INDIPY_AGENT_STATE": str(agent_state)}
    indiserver = indiserver_factory("indipy_agent_imager", *DRIVERS[1:], port=port, env=env)
    folder = tmp_path / "frames"
    _start_batch(port, folder)
    kept: dict[str, bytes] = {}
    for kill in range(2):
        before = len(_saved(folder))
        wait_for(lambda before=before: len(_saved(folder)) > before, 60,
                 f"a frame more (seed {seed}, kill {kill}): {_frames(folder)}")
        time.sleep(rng.uniform(0.0, 0.8))  # the kill's random moment, not a wait to look
        pid = wait_for(lambda: _agent_pid(indiserver), 10, "the agent's process")
        os.kill(pid, signal.SIGKILL)
        kept.update({name: (folder / name).read_bytes() for name in _saved(folder)})
        wait_for(lambda pid=pid: (_agent_pid(indiserver) or pid) != pid, 30,
                 f"the agent started again: {indiserver.log_tail()}")
    wait_for(lambda: _finished(agent_state), 120,
             lambda: f"the batch finished (seed {seed}): {indiserver.log_tail()}")
    _check_the_frames(folder, agent_state)
    for name, data in kept.items():
        assert (folder / name).read_bytes() == data, f"{name} taken again (seed {seed})"


def test_a_stopped_server_continues_the_batch_when_started_again(
        our_server: Callable[..., OurServer], tmp_path: Path, agent_state: Path) -> None:
    """A server stopped on purpose (SIGTERM, as systemd stops it) mid-batch is not a client's
    ABORT: started again, it continues the batch to its end."""
    server = our_server(*DRIVERS)
    folder = tmp_path / "frames"
    _start_batch(server.port, folder)
    wait_for(lambda: _saved(folder), 60, "a first frame")
    assert server.stop() == 0
    assert not _finished(agent_state), "the batch ended before the stop: nothing to continue"
    server.start()
    wait_for(lambda: _finished(agent_state), 120, f"the batch finished: {_frames(folder)}")
    _check_the_frames(folder, agent_state)
