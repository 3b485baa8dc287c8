"""Helpers of the power-cut tests: our server as a child process holding the imager agent and
our simulators, killed with SIGKILL (the whole process group, or the agent's process alone)
and started again with the same command; the agent driven and read with indilib's
``indi_setprop``/``indi_getprop`` only; the end checks on the frames and the journal."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path

from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import setprop
from waiting import wait_for

from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Plan
from indipycore import astro
from indipycore.fits import BLOCK
from indipycore.fits import read_header

BIN = Path(sys.executable).parent
SIMULATORS = tuple(str(BIN / name) for name in (
    "indipy_simulator_ccd", "indipy_simulator_focus", "indipy_simulator_telescope"))
AGENT_EXECUTABLE = str(BIN / "indipy_agent_imager")
#: Our mount simulator's site (Greenwich); a target at the sidereal time, Dec 80, is high
#: there now and a short slew from the pole, where the simulated mount starts.
LONGITUDE = 0.0
DEC = 80.0
EXPOSURE = 0.5
#: The exposures of a night a kill must land inside a frame of (`long_night_at_first_frame`).
LONG = 3.0


def night_plan(folder: str, *, count: int = 5, dither: bool = True,
               exposure: float = EXPOSURE) -> Plan:
    """A short night: `count` frames of `exposure` s through Red, then as many through Green,
    on a target high now (slewed to), dithered by guide pulses every 2 frames."""
    ra = astro.local_sidereal_time(datetime.now(UTC), LONGITUDE)
    return night("power cut", target("High", Batch(count, exposure, "Red"),
                                     Batch(count, exposure, "Green"), ra=round(ra, 4), dec=DEC),
                 folder=folder, camera="Python CCD Simulator", wheel="Python Filter Wheel",
                 mount="Python Mount",
                 dither=Dither(every=2, pixels=3, method="pulse", settle=0.2) if dither
                 else Dither())


def planned_files(count: int = 5) -> list[str]:
    """The file names `night_plan` must leave, spelt out (not computed by the agent's code)."""
    return sorted(f"lights/{colour}/High_{colour}_Light_{number:03d}.fits"
                  for colour in ("Red", "Green") for number in range(1, count + 1))


@dataclass
class Seen:
    """SEQUENCE_STATE as indi_getprop printed it."""

    state: str
    progress: int
    total: int


class Rig:
    """Our server (`python -m indipyserver`) with the imager agent and our simulators, its
    state folder, image folder and plan under `root`; started again on the same port with
    the same command after each kill; `env` more of the agent's environment, `drivers` more
    drivers (indilib's, e.g. ``indi_simulator_lightpanel``)."""

    def __init__(self, root: Path, *, agent_as_executable: bool = False,
                 env: dict[str, str] | None = None, drivers: tuple[str, ...] = ()) -> None:
        self.root = root
        self.state = root / "state"
        self.images = root / "images"
        self.images.mkdir(parents=True)
        self.port = free_port()
        env = {"INDIPY_AGENT_STATE": str(self.state), **(env or {})}
        agent = "indipyagents.imager"
        if agent_as_executable:
            agent = AGENT_EXECUTABLE
            env["INDIPY_AGENT_SERVER"] = f"127.0.0.1:{self.port}"
        (root / "server").mkdir()
        self.server = OurServer(agent, *SIMULATORS, *drivers, workdir=root / "server",
                                port=self.port, env=env)

    # -- the server's life ---------------------------------------------------------------

    def start(self) -> None:
        self.server.start()

    def kill_all(self) -> None:
        """SIGKILL to the server's process group and to each of its drivers' (our server
        starts each driver in a session of its own), one after the other at once, as a power
        cut stops them: nothing is left running."""
        process = self.server.process
        assert process is not None and process.poll() is None, self.log_tail()
        groups = [process.pid, *children(process.pid)]
        for group in groups:
            os.killpg(group, signal.SIGKILL)
        process.wait(10)
        wait_for(lambda: not any(group_members(group) for group in groups), 10,
                 lambda: f"processes of groups {groups} still alive")
        self.server.process = None

    def kill_agent(self) -> int:
        """SIGKILL to the agent's process alone (an executable driver of the server); returns
        its pid."""
        pid = self.agent_pid()
        os.kill(pid, signal.SIGKILL)
        return pid

    def agent_pid(self, other_than: int = 0) -> int:
        """The agent's process, a child of the server (not `other_than`, the one killed)."""
        process = self.server.process
        assert process is not None

        def found() -> int | None:
            for pid in children(process.pid):
                if pid != other_than and AGENT_EXECUTABLE in command_line(pid):
                    return pid
            return None

        return wait_for(found, 30, lambda: f"the agent's process: {self.log_tail()}")

    def stop(self) -> None:
        self.server.stop()

    def log_tail(self, lines: int = 30) -> str:
        return self.server.log_tail(lines)

    # -- indi_setprop / indi_getprop, the only client ------------------------------------

    def set(self, spec: str) -> None:
        result = setprop(self.port, spec, timeout=10)
        assert result.returncode == 0, result.describe()

    def seen(self) -> Seen | None:
        """SEQUENCE_STATE's state, PROGRESS and PROGRESS_TOTAL, or None while the agent does
        not answer (being restarted)."""
        vector = f"{AGENT}.SEQUENCE_STATE"
        found = getprop(self.port, f"{vector}._STATE", f"{vector}.PROGRESS",
                        f"{vector}.PROGRESS_TOTAL")
        try:
            return Seen(found[f"{vector}._STATE"], round(float(found[f"{vector}.PROGRESS"])),
                        round(float(found[f"{vector}.PROGRESS_TOTAL"])))
        except (KeyError, ValueError):
            return None

    def answer(self, timeout: float = 30) -> Seen:
        """SEQUENCE_STATE as the agent first answers it: `seen` asked again while no answer
        comes (the agent being restarted), the first answer returned."""
        return wait_for(self.seen, timeout,
                        lambda: f"SEQUENCE_STATE answered\n{self.log_tail()}", interval=0.1)

    def wait_state(self, vector: str, states: tuple[str, ...], timeout: float = 30) -> str:
        """Wait until indi_getprop shows the agent's `vector` in one of `states`."""
        def check() -> str | None:
            found = getprop(self.port, f"{AGENT}.{vector}._STATE")
            state = found.get(f"{AGENT}.{vector}._STATE")
            return state if state in states else None

        return wait_for(check, timeout, lambda: f"{vector} {states}\n{self.log_tail()}",
                        interval=0.05)

    def wait_seen(self, wanted: str, at_least: int = 0, timeout: float = 60) -> Seen:
        """Wait until indi_getprop shows SEQUENCE_STATE `wanted` with PROGRESS >= `at_least`."""
        last: list[Seen | None] = [None]

        def check() -> Seen | None:
            seen = last[0] = self.seen()
            return seen if seen and seen.state == wanted and seen.progress >= at_least \
                else None

        return wait_for(check, timeout, lambda: f"SEQUENCE_STATE {wanted}, PROGRESS >= "
                        f"{at_least}; last seen {last[0]}\n{self.log_tail()}", interval=0.1)

    def load_and_start(self, plan: Path) -> None:
        """What a user types: the image folder, the plan, START."""
        self.set(f"{AGENT}.IMAGE_NAME.IMAGE_FOLDER={self.images}")
        self.set(f"{AGENT}.AGENT_PLAN.FILE={plan}")
        self.set(f"{AGENT}.AGENT_START_PROCESS.SEQUENCE=On")


def _processes() -> list[tuple[int, str, int, int]]:
    """Each process's (pid, state, parent, process group), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found.append((int(entry.name), fields[0], int(fields[1]), int(fields[2])))
    return found


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    return [pid for pid, state, _parent, group in _processes()
            if group == pgid and state != "Z"]


def children(parent: int) -> list[int]:
    """The live child processes of `parent` (the server's drivers)."""
    return [pid for pid, state, ppid, _group in _processes()
            if ppid == parent and state != "Z"]


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def frames_on_disk(folder: Path) -> list[str]:
    """The frames below `folder`, by their path relative to it (not hidden: no partial, not
    the journal; FITS files only: not the night's calibration.json)."""
    try:
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                      if p.is_file() and p.suffix == ".fits"
                      and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    except FileNotFoundError:
        return []


def check_night(folder: Path, expected: list[str], exposure: float = EXPOSURE
                ) -> list[dict[str, object]]:
    """The end checks: exactly `expected` in `folder` and nothing else but the journal's
    folder, each a whole FITS (its size what its header announces, EXPTIME and FILTER those of
    its batch, DEC the target's: the mount pointed there, restarts or not), and the journal
    listing each frame once with its size and digest; returns the journal's frame records."""
    import hashlib

    names = sorted(entry.name for entry in os.scandir(folder))
    assert names == sorted({".journal", *(name.split("/")[0] for name in expected)}), names
    assert frames_on_disk(folder) == sorted(expected)
    journals = sorted((folder / ".journal").iterdir())
    assert len(journals) == 1 and journals[0].suffix == ".journal", journals
    records = [json.loads(line) for line in journals[0].read_bytes().splitlines()]
    frames = [record for record in records if record["kind"] == "frame"]
    assert sorted(str(record["file"]) for record in frames) == expected, frames
    for name in expected:
        data = (folder / name).read_bytes()
        header = read_header(data)
        padded = -(-header.data_size // BLOCK) * BLOCK
        assert len(data) == header.data_offset + padded, (name, len(data))
        assert header.values["EXPTIME"] == exposure, (name, header.values)
        assert header.values["FILTER"] == name.rsplit("/", 1)[-1].split("_")[1], \
            (name, header.values["FILTER"])
        assert abs(float(header.values["DEC"]) - DEC) < 0.5, (name, header.values["DEC"])
        record = next(record for record in frames if record["file"] == name)
        assert record["size"] == len(data), (name, record)
        assert record["sha256"] == hashlib.sha256(data).hexdigest(), name
    return frames


def wait_frames(folder: Path, count: int, rig: Rig) -> None:
    wait_for(lambda: len(frames_on_disk(folder)) >= count, 90,
             lambda: f"{count} frames in {folder}: {frames_on_disk(folder)}\n{rig.log_tail()}",
             interval=0.005)


def long_night_at_first_frame(rig: Rig) -> tuple[Path, Path]:
    """A night of two `LONG` frames through Red, then Green, undithered: written as the rig's
    plan, the rig started, the plan loaded and started, its first frame on disk. Returns the
    plan file and the frames' folder."""
    plan = write_plan(rig.root / "plan.toml",
                      night_plan("night", count=2, dither=False, exposure=LONG))
    folder = rig.images / "night"
    rig.start()
    rig.load_and_start(plan)
    wait_frames(folder, 1, rig)
    return plan, folder
