"""The imager agents side by side: dead time between two frames, and CPU while a frame exposes.

    python bench/agent_deadtime.py                   # 3 reps, 6 frames of 1 s each
    python bench/agent_deadtime.py -r 5 -n 10 --cpu-exposure 60

Issue 71 item 9. Each agent runs as an executable driver under indilib's ``indiserver`` beside
indilib's CCD simulator (``indi_simulator_ccd``, its default 1280x1024 16-bit frame) and wheel:

- ``indilib``: ``indi_imager_agent``, which reaches only localhost:7624 (so that port must be
  free: the bench says so and stops otherwise);
- ``ours``: ``indipy_agent_imager --indi-port P`` on a free port.

A batch of one group (``-n`` images of ``--exposure`` s, binning 1, no filter change) is
started through the agent's BATCH, as a client would (indipyclient). A watching client stamps
each CCD_EXPOSURE update as it arrives: an exposure ends when CCD_EXPOSURE turns Ok and the next
starts at the next Busy; the dead time is the gap, the same clock and the same server for both
agents. Then, with ``--cpu-exposure`` (default 60 s) the agent's process CPU time
(``/proc/PID/stat`` utime + stime) is read over the exposure's middle, skipping its first and
last 5 s, and given as a percentage of one core. The agents alternate each rep; medians and
ranges are printed, and each rep's difference of medians (ours minus indilib's: load on a
shared machine comes and goes, and a rep's two agents ran back to back). ``--skip-cpu``
leaves the CPU part out.

``--grading`` (issue 93 item 7): ours runs the same frames as a plan with a ``[grading]``
section instead of a batch, both agents beside our camera simulator (``--camera ours``: its
stars are what grading measures; indilib's draws none without the GSC catalogue) (loaded through AGENT_PLAN, started by AGENT_START_PROCESS), so each
light frame is measured and judged while the next one exposes; indilib's agent runs its batch
as before. The frames ours saved with an ``HFR`` card are counted, so a run that graded nothing
says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from agentkit import plan_toml
from agentkit import target_toml
from processes import cpu_seconds
from processes import free_ports

import indipyclient

AGENT = "Imager Agent"
CCD = "CCD Simulator"
#: The cameras: indilib's simulator (no stars without the GSC catalogue, which Debian does not
#: package) or ours (its stars: what grading measures).
CAMERAS = {"indilib": ("/usr/bin/indi_simulator_ccd", CCD),
           "ours": ("indipy_simulator_ccd", "Python CCD Simulator")}
WHEEL = "Filter Simulator"


def port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def agent_program(kind: str, port: int) -> list[str]:
    if kind == "indilib":
        return ["/usr/bin/indi_imager_agent"]
    exe = shutil.which("indipy_agent_imager") or str(Path(sys.executable).parent
                                                     / "indipy_agent_imager")
    # indiserver runs a driver with no arguments: a wrapper script gives ours its port.
    wrapper = Path(tempfile.mkdtemp(prefix="agentbench-")) / "indipy_agent_imager"
    wrapper.write_text(f"#!/bin/sh\nexec {exe} --indi-port {port} \"$@\"\n")
    wrapper.chmod(0o755)
    return [str(wrapper)]


class Rig:
    """indiserver with the CCD and wheel simulators and one agent, on `port`."""

    def __init__(self, kind: str, port: int, camera: str = "indilib") -> None:
        self.kind = kind
        self.port = port
        program, self.ccd = CAMERAS[camera]
        found = shutil.which(program) or str(Path(sys.executable).parent / program)
        self.folder = Path(tempfile.mkdtemp(prefix=f"agentbench-{kind}-"))
        self.log = (self.folder / "indiserver.log").open("w")
        # A unix socket's path is at most 107 bytes: under a long TMPDIR (a test's tmp_path)
        # indiserver could not bind it and never listened; then it goes in /tmp.
        socket_path = self.folder / "indiserver.sock"
        self.socket_dir = None if len(str(socket_path)) < 100 else \
            Path(tempfile.mkdtemp(prefix="ab-", dir="/tmp"))
        if self.socket_dir is not None:
            socket_path = self.socket_dir / "indiserver.sock"
        self.proc = subprocess.Popen(
            ["indiserver", "-p", str(port), "-r", "0", "-u", str(socket_path),
             found, "/usr/bin/indi_simulator_wheel", *agent_program(kind, port)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    async def night_loaded(self, client: indipyclient.Client, plan: str) -> None:
        """The camera connected, the agent's frames sent to the rig's folder and the plan
        `plan` (its text) loaded through AGENT_PLAN: a night ready to start (RuntimeError if
        the agent refused the plan)."""
        path = self.folder / "plan.toml"
        path.write_text(plan)
        await client.wait_for(AGENT, "AGENT_PLAN", timeout=30)
        await client.wait_for(self.ccd, "CONNECTION", timeout=30)
        await client.set(self.ccd, "CONNECTION", {"CONNECT": "On"}, timeout=30)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(self.folder),
                                               "IMAGE_PREFIX": "IMG"}, timeout=10)
        loaded = await client.set(AGENT, "AGENT_PLAN", {"FILE": str(path)}, timeout=30)
        if str(loaded.state) != "Ok":
            raise RuntimeError(f"the plan was refused: {loaded.message}")

    def agent_pid(self) -> int:
        """The agent's process: the server's child whose command line names the agent."""
        mark = "indi_imager_agent" if self.kind == "indilib" else "indipy_agent_imager"
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if mark in cmd and (ppid == self.proc.pid or self.kind == "ours"):
                found.append(int(entry.name))
        if not found:
            raise RuntimeError(f"{self.kind}: agent process not found")
        return max(found)  # the wrapper's exec keeps the pid; with python: the newest

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)


def graded_lights(name: str, camera: str, frames: int, exposure: float, binning: int,
                  **grading: object) -> str:
    """A plan's text: `frames` lights of `exposure` s at `binning` on `camera` where the mount
    points (no slew), in the folder ``night``, judged by `grading` (``[grading]``'s keys)."""
    return plan_toml(name, {"camera": camera}, target_toml("Here", {
        "type": "Light", "count": frames, "exposure": exposure, "binning": binning}),
        folder="night", grading=grading)


def gaps_of(stamps: list[tuple[float, str]]) -> list[float]:
    """The dead times (ms): from each CCD_EXPOSURE Ok to the next Busy."""
    gaps = []
    end = None
    for when, state in stamps:
        if state == "Ok":
            end = when
        elif state == "Busy" and end is not None:
            gaps.append((when - end) * 1000)
            end = None
    return gaps


def graded_frames(folder: Path) -> tuple[int, int]:
    """(frames saved below `folder`, those whose header has an HFR card)."""
    files = list(folder.rglob("*.fits"))
    graded = sum(1 for path in files if b"HFR     =" in path.read_bytes()[:28800])
    return len(files), graded


async def run_graded(rig: Rig, frames: int, exposure: float) -> list[float]:
    """Ours: the frames as a plan with ``[grading]``; the dead times (ms)."""
    plan = graded_lights("deadtime", rig.ccd, frames, exposure, 1, hfr_ratio=1.5,
                         stars_ratio=0.5, eccentricity_max=0.8, background_ratio=2.0,
                         min_frames=3)
    async with indipyclient.connect("127.0.0.1", rig.port, connect_timeout=20) as client:
        await rig.night_loaded(client, plan)
        stamps: list[tuple[float, str]] = []
        done = asyncio.Event()

        async def watch() -> None:
            async for event in client.events(maxsize=10000):
                if event.devicename == rig.ccd and event.vectorname == "CCD_EXPOSURE" \
                        and event.eventtype == "Set":
                    stamps.append((time.monotonic(), str(client.vector(rig.ccd, "CCD_EXPOSURE")
                                                         .state)))
                if event.devicename == AGENT and event.vectorname == "SEQUENCE_STATE" \
                        and str(client.vector(AGENT, "SEQUENCE_STATE").state) in ("Ok",
                                                                                  "Alert"):
                    done.set()

        watcher = asyncio.create_task(watch())
        await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        try:
            await asyncio.wait_for(done.wait(), timeout=frames * (exposure + 20) + 60)
        except TimeoutError:
            said = client.vector(AGENT, "SEQUENCE_STATE")
            raise RuntimeError(f"the night did not end: {said.state} {said.message}; "
                               f"{len(stamps)} exposure updates; saved: "
                               f"{sorted(p.name for p in rig.folder.rglob('*.fits'))}") from None
        finally:
            watcher.cancel()
        said = client.vector(AGENT, "SEQUENCE_STATE")
        if str(said.state) != "Ok":
            raise RuntimeError(f"the night ended {said.state}: {said.message}")
        return gaps_of(stamps)


async def run_batch(rig: Rig, frames: int, exposure: float, cpu_exposure: float
                    ) -> tuple[list[float], float | None]:
    """(dead times in ms, the agent's CPU % over a long exposure or None)."""
    async with indipyclient.connect("127.0.0.1", rig.port, connect_timeout=20) as client:
        await client.wait_for(AGENT, "GROUPS", timeout=30)
        await client.wait_for(rig.ccd, "CONNECTION", timeout=30)
        if rig.ccd != CCD:  # the agents' default camera is indilib's: named before the
            # connect, so that the agent, snooping it from then on, sees it connected
            await client.wait_for(AGENT, "DEVICES", timeout=30)
            await client.set(AGENT, "DEVICES", {"CCD": rig.ccd}, timeout=10)
        await client.set(rig.ccd, "CONNECTION", {"CONNECT": "On"}, timeout=30)
        await client.set(WHEEL, "CONNECTION", {"CONNECT": "On"}, timeout=30)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(rig.folder),
                                               "IMAGE_PREFIX": "IMG"}, timeout=10)
        await client.set(AGENT, "GROUPS", {"GROUP_COUNT": 1}, timeout=10)
        await client.wait_for(AGENT, "GROUP_01", timeout=10)
        await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": frames, "CCD_BINNING": 1,
                                             "FILTER_SLOT": 0,
                                             "CCD_EXPOSURE_VALUE": exposure}, timeout=10)
        await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=30)
        await client.wait_for(AGENT, "BATCH", timeout=30)
        stamps: list[tuple[float, str]] = []
        stream = client.events(maxsize=10000)
        done = asyncio.Event()

        async def watch() -> None:
            async for event in stream:
                if event.devicename == rig.ccd and event.vectorname == "CCD_EXPOSURE" \
                        and event.eventtype == "Set":
                    stamps.append((time.monotonic(), str(client.vector(rig.ccd, "CCD_EXPOSURE")
                                                         .state)))
                # Both agents turn BATCH back to Off at once; PROGRESS is Busy while the
                # batch runs and Ok (Alert) at its end.
                if event.devicename == AGENT and event.vectorname == "PROGRESS" \
                        and event.eventtype == "Set" \
                        and str(client.vector(AGENT, "PROGRESS").state) in ("Ok", "Alert"):
                    done.set()

        watcher = asyncio.create_task(watch())
        await client.set(AGENT, "BATCH", {"START": "On"}, wait=False)
        await asyncio.wait_for(done.wait(), timeout=frames * (exposure + 20) + 30)
        gaps = gaps_of(stamps)
        if not gaps:
            said = client.vector(AGENT, "PROGRESS")
            print(f"  {rig.kind}: no exposure in the batch: PROGRESS {said.state} "
                  f"{said.message!r}", flush=True)
        cpu = None
        if cpu_exposure > 0:
            pid = rig.agent_pid()
            await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": 1,
                                                 "CCD_EXPOSURE_VALUE": cpu_exposure},
                             timeout=10)
            done.clear()
            await client.set(AGENT, "BATCH", {"START": "On"}, wait=False)
            await asyncio.sleep(5)
            first, t0 = cpu_seconds(pid), time.monotonic()
            await asyncio.sleep(cpu_exposure - 10)
            cpu = 100 * (cpu_seconds(pid) - first) / (time.monotonic() - t0)
            await asyncio.wait_for(done.wait(), timeout=cpu_exposure + 60)
        watcher.cancel()
        return gaps, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-r", "--reps", type=int, default=3)
    parser.add_argument("-n", "--frames", type=int, default=6)
    parser.add_argument("--exposure", type=float, default=1.0)
    parser.add_argument("--cpu-exposure", type=float, default=60.0)
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--grading", action="store_true",
                        help="ours runs the frames as a plan with [grading] (no CPU part)")
    parser.add_argument("--camera", choices=sorted(CAMERAS), default=None,
                        help="the simulated camera (default indilib's; ours with --grading)")
    args = parser.parse_args(argv)
    args.camera = args.camera or ("ours" if args.grading else "indilib")
    print(f"camera: {CAMERAS[args.camera][1]}", flush=True)
    if port_busy(7624):
        print("port 7624 is in use: indi_imager_agent reaches only localhost:7624")
        return 2
    gaps: dict[str, list[float]] = {"indilib": [], "ours": []}
    per_rep: dict[str, list[float]] = {"indilib": [], "ours": []}
    cpus: dict[str, list[float]] = {"indilib": [], "ours": []}
    for rep in range(args.reps):
        order = ("indilib", "ours") if rep % 2 == 0 else ("ours", "indilib")
        for kind in order:
            rig = Rig(kind, 7624 if kind == "indilib" else free_ports(1)[0], args.camera)
            try:
                if args.grading and kind == "ours":
                    got, cpu = asyncio.run(run_graded(rig, args.frames, args.exposure)), None
                    saved, graded = graded_frames(rig.folder)
                    print(f"rep {rep} ours: {graded} of {saved} frames saved with an HFR card",
                          flush=True)
                else:
                    got, cpu = asyncio.run(run_batch(
                        rig, args.frames, args.exposure,
                        0 if args.skip_cpu or args.grading else args.cpu_exposure))
            finally:
                rig.close()
            gaps[kind] += got
            if got:
                per_rep[kind].append(statistics.median(got))
            if cpu is not None:
                cpus[kind].append(cpu)
            print(f"rep {rep} {kind}: dead time ms {[round(g, 1) for g in got]}"
                  + (f", CPU {cpu:.3f} %" if cpu is not None else ""), flush=True)
    for kind in ("indilib", "ours"):
        if gaps[kind]:
            print(f"{kind}: dead time median {statistics.median(gaps[kind]):.1f} ms "
                  f"({min(gaps[kind]):.1f}-{max(gaps[kind]):.1f}, {len(gaps[kind])} gaps)"
                  + (f"; CPU on a {args.cpu_exposure:g} s exposure median "
                     f"{statistics.median(cpus[kind]):.3f} %" if cpus[kind] else ""))
    # Load on a shared machine comes and goes: each rep's two agents ran one after the
    # other, so their difference within a rep is the fairer comparison.
    pairs = [o - i for o, i in zip(per_rep["ours"], per_rep["indilib"], strict=False)]
    if pairs:
        print(f"ours - indilib, per rep (medians): {[round(d, 1) for d in pairs]}; median "
              f"{statistics.median(pairs):+.1f} ms; ours at most indilib's in "
              f"{sum(d <= 0 for d in pairs)} of {len(pairs)} reps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
