"""A night through passing cloud (issue 93 item 7): a third of the exposures pass through cloud,
and the night, graded with the clouds rule, ends with exactly the accepted frames asked for,
none of them clouded.

    python bench/cloud_night.py                  # 12 light frames of 2 s asked
    python bench/cloud_night.py -n 2 --exposure 1    # the smallest honest night

indilib's ``indiserver`` with our camera simulator (``indipy_simulator_ccd``: its stars are
what grading measures) and indilib's wheel, and our ``indipy_agent_imager`` as an executable
(agent_deadtime.py's rig). A plan of ``-n`` light frames (an even number) with a ``[grading]``
section and the clouds rule (``clouds_after = 3``). The bench watches the camera's
CCD_EXPOSURE: as the exposures are counted from 0, every one whose number is 1 modulo 3 is
clouded (SIM_CLOUDS.TRANSPARENCY 0 set as it begins, the transparency at readout is the
frame's; 1 again once it ended), so a night of 2k frames accepted takes 3k exposures, k through
cloud, if each clouded frame is rejected and taken again and no clear one is.

- accepted: the journal's frames accepted. Target: exactly ``-n``, and the night ends Ok.
- clouded accepted: the accepted frames that were exposures the bench clouded (the journal's
  frames in order are the exposures in order). Target: 0.
- stars: each accepted frame's STARS card against their median. Target: each at least 0.7 x
  (none dimmed by cloud).
- cloud: the exposures the bench clouded, of all. Target: a third (k of 3k).

Each figure is printed with its target and PASS or FAIL, then the load average; the exit
status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only, as agent_deadtime.py.
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from agent_deadtime import AGENT
from agent_deadtime import Rig
from agent_deadtime import graded_lights
from processes import free_ports

import indipyclient
from indipycore.fits import read_header

#: An accepted frame's stars at least this share of the accepted frames' median.
CLEAR = 0.7


def clouded(exposure: int) -> bool:
    """Whether the bench clouds the exposure numbered `exposure` (from 0)."""
    return exposure % 3 == 1


async def night(rig: Rig, frames: int, exposure: float) -> tuple[str, list[bool]]:
    """The night run to its end: (SEQUENCE_STATE's state and message, each exposure clouded
    or not, in order)."""
    plan = graded_lights("clouds", rig.ccd, frames, exposure, 2, stars_ratio=0.5,
                         min_frames=2, clouds_after=3)
    async with indipyclient.connect("127.0.0.1", rig.port, connect_timeout=20) as client:
        await rig.night_loaded(client, plan)
        await client.wait_for(rig.ccd, "SIM_CLOUDS", timeout=30)
        exposures: list[bool] = []
        changes: asyncio.Queue[float] = asyncio.Queue()
        done = asyncio.Event()

        async def watch() -> None:
            busy = False
            async for event in client.events(maxsize=10000):
                if event.devicename == rig.ccd and event.vectorname == "CCD_EXPOSURE" \
                        and event.eventtype == "Set":
                    now = str(client.vector(rig.ccd, "CCD_EXPOSURE").state) == "Busy"
                    if now and not busy:
                        exposures.append(clouded(len(exposures)))
                        if exposures[-1]:
                            changes.put_nowait(0.0)
                    elif busy and not now and exposures and exposures[-1]:
                        changes.put_nowait(1.0)
                    busy = now
                if event.devicename == AGENT and event.vectorname == "SEQUENCE_STATE" \
                        and str(client.vector(AGENT, "SEQUENCE_STATE").state) in ("Ok",
                                                                                  "Alert"):
                    done.set()

        async def weather() -> None:
            while True:
                transparency = await changes.get()
                await client.set(rig.ccd, "SIM_CLOUDS", {"TRANSPARENCY": transparency},
                                 timeout=10)

        tasks = [asyncio.create_task(watch()), asyncio.create_task(weather())]
        await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
        try:
            await asyncio.wait_for(done.wait(), timeout=frames * 3 * (exposure + 20) + 120)
        finally:
            for task in tasks:
                task.cancel()
        said = client.vector(AGENT, "SEQUENCE_STATE")
        return f"{said.state} {said.message}", exposures


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--frames", type=int, default=12, help="light frames asked (even)")
    parser.add_argument("--exposure", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.frames < 2 or args.frames % 2:
        parser.error("-n: an even number, at least 2 (a third of 3k exposures clouded)")
    rig = Rig("ours", free_ports(1)[0], "ours")
    started = time.monotonic()
    try:
        ended, exposures = asyncio.run(night(rig, args.frames, args.exposure))
        folder = rig.folder / "night"
        records = []
        for journal in sorted(folder.glob(".journal/*.journal")):
            records += [json.loads(line) for line in journal.read_text().splitlines()]
        saved = [r for r in records if r.get("kind") == "frame"]
        graded = [r for r in records if r.get("kind") == "graded"]
        stars = {r["file"]: int(read_header((folder / r["file"]).read_bytes()).values["STARS"])
                 for r in graded if r["verdict"] == "accepted"}
    finally:
        rig.close()
    wall = time.monotonic() - started
    accepted = [r for r in graded if r["verdict"] == "accepted"]
    rejected = [r for r in graded if r["verdict"] == "rejected"]
    print(f"night: {ended}; {len(exposures)} exposures, {len(saved)} frames saved, "
          f"{len(accepted)} accepted, {len(rejected)} rejected "
          f"({sorted({'; '.join(r['reasons']) for r in rejected})}), {wall:.0f} s")
    results = []
    ok = ended.startswith("Ok") and len(accepted) == args.frames
    results.append(ok)
    print(f"accepted frames: {len(accepted)} (target: exactly {args.frames}, the night Ok) "
          f"-> {verdict(ok)}")
    # The journal's frames in order are the exposures in order (one frame an exposure).
    through = sum(1 for record, cloudy in zip(graded, exposures, strict=False)
                  if cloudy and record["verdict"] == "accepted")
    ok = through == 0 and len(graded) == len(exposures)
    results.append(ok)
    print(f"clouded accepted: {through} of {len(graded)} verdicts for {len(exposures)} "
          f"exposures (target: 0, a verdict each) -> {verdict(ok)}")
    median = statistics.median(stars.values()) if stars else 0
    low = min(stars.values()) if stars else 0
    ok = bool(stars) and low >= CLEAR * median
    results.append(ok)
    print(f"stars of the accepted frames: median {median:g}, least {low} (target: each at "
          f"least {CLEAR:g} x the median) -> {verdict(ok)}")
    cloudy = sum(exposures)
    ok = 3 * cloudy == len(exposures)
    results.append(ok)
    print(f"exposures through cloud: {cloudy} of {len(exposures)} (target: a third) "
          f"-> {verdict(ok)}")
    load = os.getloadavg()
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    names = ("accepted", "clouded accepted", "stars", "cloud")
    missed = [name for name, good in zip(names, results, strict=True) if not good]
    print("all targets met" if not missed else "missed: " + ", ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
