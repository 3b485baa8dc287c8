"""The Astrometry Agent's speed: a hinted solve, a blind one, and CENTER from a pointing error.

    python bench/astrometry_solve.py                       # 5 hinted, 1 blind, 50 targets
    python bench/astrometry_solve.py --hinted 9 --blind 3 --targets 10 --seed 2

Issue 80 item 7, with astrometry.net's ``solve-field`` and Debian's Tycho-2 index files
(4107-4109) on this machine:

- hinted: our camera simulator's 5 s frame of the default field (430 mm, 5.2 um, 1280 x 1024:
  0.89 x 0.71 degrees) at a random place (Dec 40 to 80), solved by the agent's `Solver` hinted
  with the position within 2 degrees and the scale +-10 %: the wall time of each solve
  (solve-field started, the frame's stars found, the solution read; the temporary folder
  written and removed). Target: median at most 5 s.
- blind: the same frames with no hint at all. Target: each at most 60 s.
- both solved each frame two ways one after the other (issue 90 item 6): by the agent's star
  list (sep finds the stars, solve-field takes the xylist; the image when that fails) and by
  the image alone (solve-field's image2xy); each solve's wall and CPU seconds (this process's,
  sep's thread, and solve-field's process tree: `RUSAGE_CHILDREN`), how far each is off and
  how far apart the two centres are. The targets hold for the agent's way (stars).
- center: our server in-process with our mount and camera simulators and the Astrometry Agent;
  for each of ``--targets`` random targets (Dec 40 to 80: above Greenwich's horizon at any
  hour, as the mount simulator's limit needs) a random pointing error of up to ``--max-error``
  arcminutes on the sky (SIM_POINTING_ERROR), the mount slewed to the target (it says it is
  there; it is not), then AGENT_START_PROCESS.CENTER. A target counts when CENTER ends Ok in
  at most 3 tries and the mount truly points (EQUATORIAL_PE, JNow, precessed to J2000) within
  30 arcseconds of it. Target: at least 95 % of them.

The exit status is 1 when a target is missed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import math
import random
import resource
import statistics
import sys
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np
from astropy.io import fits

import indipyclient
from indipyagents import astrometry
from indipyagents.astrometry.hints import Hints
from indipyagents.astrometry.solver import Solver
from indipyagents.astrometry.wcs import separation
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipydriver.standard.camera import Exposure
from indipyserver import IPyServer
from indipysimulators import ccd
from indipysimulators import telescope

AGENT = "Astrometry Agent"
HINTED_TARGET = 5.0
BLIND_TARGET = 60.0
TOLERANCE = 30.0
MAX_TRIES = 3
SHARE = 0.95


def random_place(rng: random.Random) -> tuple[float, float]:
    """A J2000 position (RA hours, Dec degrees) with Dec 40-80, evenly over the sphere."""
    low, high = math.sin(math.radians(40)), math.sin(math.radians(80))
    return rng.uniform(0, 24), math.degrees(math.asin(rng.uniform(low, high)))


#: Seconds of each exposure: Tycho-2's index 4107 holds as few as a dozen stars of magnitude
#: 10 to 12 in a field far from the Milky Way, which a 1 s frame of our camera simulator barely
#: shows (2 of 13 found at RA 11.9 h, Dec 52.8).
EXPOSURE = 5.0


def frame_at(ra: float, dec: float) -> bytes:
    """Our camera simulator's frame of J2000 (`ra`, `dec`), its header saying the optics."""
    camera = ccd.SimulatedCamera()
    camera.fwhm = lambda: 4.0
    now = precess_from_j2000(ra, dec, datetime.now(UTC))
    camera.pointing = lambda: now
    image = camera.render(Exposure(EXPOSURE, 0, 0, 1280, 1024))
    hdu = fits.PrimaryHDU(np.array(image.pixels, dtype=np.uint16).reshape(image.height,
                                                                          image.width))
    hdu.header["PIXSIZE1"], hdu.header["FOCALLEN"] = 5.2, 430.0
    out = io.BytesIO()
    hdu.writeto(out)
    return out.getvalue()


#: The two ways the agent solves: its star list (sep) first, and the image (image2xy).
PATHS = {"stars": True, "image": False}


def _cpu() -> tuple[float, float]:
    """CPU seconds so far (user + system) of this process (sep's thread) and of its ended
    children (solve-field's process tree: it waits for each of its own children)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


async def solves(count: int, hinted: bool,
                 rng: random.Random) -> dict[str, tuple[list[float], list[float]]]:
    """For each path (`PATHS`): the wall seconds and CPU seconds (this process's and
    solve-field's) of `count` solves of the same random frames, the paths one after the other
    on each frame; a failure is infinity."""
    solvers = {path: Solver(use_stars=stars) for path, stars in PATHS.items()}
    figures: dict[str, tuple[list[float], list[float]]] = {path: ([], []) for path in PATHS}
    kind = "hinted" if hinted else "blind"
    for _ in range(count):
        ra, dec = random_place(rng)
        image = frame_at(ra, dec)
        hints = Hints(ra=ra, dec=dec, radius=2, scale=2.494, cpulimit=300) if hinted \
            else Hints(cpulimit=300)
        said, centres = [], []
        for path, solver in solvers.items():
            cpu_before, started = _cpu(), time.monotonic()
            try:
                found = await solver.solve(image, hints, field_width=0.885)
                took = time.monotonic() - started
                cpu = sum(_cpu()) - sum(cpu_before)
                centres.append((found.ra, found.dec))
                said.append(f"{path} {took:5.2f} s wall {cpu:5.2f} s CPU, "
                            f"{separation(found.ra, found.dec, ra, dec):4.1f}\" off "
                            f"(by {found.via})")
            except Exception as exc:  # noqa: BLE001 - a failed solve is a figure too
                took = cpu = math.inf
                said.append(f"{path} failed ({exc})")
            figures[path][0].append(took)
            figures[path][1].append(cpu)
        apart = f"; {separation(*centres[0], *centres[1]):.2f}\" apart" \
            if len(centres) == 2 else ""
        print(f"  {kind} RA {ra:6.3f} h Dec {dec:5.2f}: {' | '.join(said)}{apart}", flush=True)
    return figures


async def centring(count: int, max_error: float, rng: random.Random) -> list[tuple[bool, int,
                                                                                   float]]:
    """(counted, tries, arcsec truly off) for each of `count` random targets."""
    results = []
    server = IPyServer(telescope.make_driver(50.0), ccd.make_driver(), astrometry.make_driver(),
                       host="127.0.0.1", port=0, handle_signals=False)
    task = asyncio.create_task(server.asyncrun())
    try:
        await asyncio.wait_for(server.started(), 10)
        async with indipyclient.connect("127.0.0.1", server.port) as client:
            mount, camera = telescope.DEVICE, ccd.DEVICE
            for device in (mount, camera):
                await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
            await client.wait_for(AGENT, "AGENT_START_PROCESS", timeout=10)
            await client.set(AGENT, "ACTIVE_DEVICES", {"ACTIVE_CCD": camera,
                                                        "ACTIVE_TELESCOPE": mount}, timeout=10)
            await client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS",
                             {"EXPOSURE": EXPOSURE}, timeout=10)
            await client.set(AGENT, "AGENT_PLATESOLVER_CENTERING", {"TOLERANCE": TOLERANCE,
                                                                     "TRIES": 5}, timeout=10)
            await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
            for number in range(1, count + 1):
                results.append(await _one_target(client, number, max_error, rng))
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 15)
    return results


async def _one_target(client: indipyclient.Client, number: int, max_error: float,
                      rng: random.Random) -> tuple[bool, int, float]:
    mount = telescope.DEVICE
    ra, dec = random_place(rng)
    size, angle = rng.uniform(0, max_error), rng.uniform(0, 2 * math.pi)
    error = (size * math.cos(angle) / math.cos(math.radians(dec)), size * math.sin(angle))
    # The error first (the mount then "arrives" at the target, truly off by it).
    await client.set(mount, "SIM_POINTING_ERROR", {"RA_ERROR": error[0], "DEC_ERROR": error[1]},
                     timeout=10)
    ra_now, dec_now = precess_from_j2000(ra, dec, datetime.now(UTC))
    await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": ra_now, "DEC": dec_now}, timeout=120)
    ended: list[str] = []

    def watch(event: object) -> bool:
        if getattr(event, "devicename", None) == AGENT \
                and getattr(event, "vectorname", None) == "AGENT_START_PROCESS":
            state = getattr(event, "state", None)
            if state is not None and state.value in ("Ok", "Alert"):
                ended.append(f"{state.value}: {getattr(event, 'message', '')}")
                return True
        return False

    started = time.monotonic()
    with client.waiters.watching(watch) as done:
        await client.set(AGENT, "AGENT_START_PROCESS", {"CENTER": "On"}, wait=False)
        await asyncio.wait_for(done, 900)
    took = time.monotonic() - started
    tries = int(float(client.get(AGENT, "AGENT_PLATESOLVER_CENTERING_STATE", "TRY")))
    await asyncio.sleep(0.3)  # the mount's next position report
    truth = precess_to_j2000(float(client.get(mount, "EQUATORIAL_PE", "RA_PE")),
                             float(client.get(mount, "EQUATORIAL_PE", "DEC_PE")),
                             datetime.now(UTC))
    off = separation(*truth, ra, dec)
    counted = ended[-1].startswith("Ok") and tries <= MAX_TRIES and off <= TOLERANCE
    print(f"  target {number}: RA {ra:.3f} h Dec {dec:.2f}, error {size:.1f}'; "
          f"{ended[-1][:60]}; {tries} tries, {took:.1f} s, truly {off:.1f}\" off"
          f"{'' if counted else '  <- missed'}", flush=True)
    return counted, tries, off


def _figure(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "none solved"
    return (f"median {statistics.median(values):.2f} s, range {min(finite):.2f}-"
            f"{max(finite):.2f} s, {len(values) - len(finite)} failed of {len(values)}")


def _figures(kind: str, figures: dict[str, tuple[list[float], list[float]]]) -> list[float]:
    """Each path's wall and CPU figures printed; the agent's (stars first) wall seconds."""
    for path, (wall, cpu) in figures.items():
        print(f"{kind} by {path}: wall {_figure(wall)}; CPU {_figure(cpu)}")
    return figures["stars"][0]


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    missed = []
    if args.hinted:
        print(f"hinted solves ({args.hinted}):", flush=True)
        hinted = _figures("hinted", await solves(args.hinted, True, rng))
        print(f"(target: the agent's hinted median <= {HINTED_TARGET:g} s)")
        if statistics.median(hinted) > HINTED_TARGET:
            missed.append("hinted")
    if args.blind:
        print(f"blind solves ({args.blind}):", flush=True)
        blind = _figures("blind", await solves(args.blind, False, rng))
        print(f"(target: each of the agent's blind solves <= {BLIND_TARGET:g} s)")
        if max(blind) > BLIND_TARGET:
            missed.append("blind")
    if args.targets:
        print(f"CENTER from errors up to {args.max_error:g}' ({args.targets} targets):",
              flush=True)
        results = await centring(args.targets, args.max_error, rng)
        share = sum(counted for counted, _, _ in results) / len(results)
        tries = [t for _, t, _ in results]
        print(f"center: {share:.0%} within {TOLERANCE:g}\" in at most {MAX_TRIES} tries "
              f"(tries: median {statistics.median(tries):g}, max {max(tries)}; target >= "
              f"{SHARE:.0%})")
        if share < SHARE:
            missed.append("center")
    print("missed: " + ", ".join(missed) if missed else "all targets met")
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hinted", type=int, default=5, help="hinted solves (default 5)")
    parser.add_argument("--blind", type=int, default=1, help="blind solves (default 1)")
    parser.add_argument("--targets", type=int, default=50,
                        help="random targets CENTER is run for (default 50)")
    parser.add_argument("--max-error", type=float, default=60.0,
                        help="the largest pointing error, arcminutes on the sky (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="the random targets' seed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
