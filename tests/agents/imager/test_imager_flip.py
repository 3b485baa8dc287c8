"""Issue 71 item 7 at the plan level: the imager agent (in-process in our server, as
``indipyserver indipyagents.imager`` serves it) runs a plan whose target is half a minute east
of the meridian, with a flip as it crosses, on two rigs at once, each an agent of its own server:
our camera and mount simulators (in-process), and indilib's CCD and telescope simulators
(executables; the telescope simulating its pier side, the CCD snooping it).

The proof is in what the rig left: the saved frames' FITS headers (DATE-OBS, EXPTIME,
PIERSIDE) and a recording of the mount's EQUATORIAL_EOD_COORD Busy intervals, taken by a
client of each server while the plan ran.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from agentkit import write_plan
from peers import HOST
from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyagents.plan.decisions import flip_due
from indipyagents.plan.decisions import hour_angle
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Plan
from indipyclient.model import events as ev
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.fits import read_header
from indipycore.protocol import State
from indipysimulators import ccd
from indipysimulators import telescope

#: Greenwich, so a Dec of 40 crosses the meridian 78.5 degrees high.
LAT, LONG = 51.4769, 0.0
DEC = 40.0
#: The target's time to the meridian when the plan starts, minutes: half of one (the first
#: slew takes 10-20 s of it; a whole minute made the test half a minute longer and proved
#: nothing more: indilib's mount keeps the wall's sky, so the meridian comes on the wall).
TO_MERIDIAN = 0.5
#: The plan's frames: 2 s exposures, more of them than fit in the time to the meridian (at
#: most 15, each frame taking 2 s or more), so at least 3 come after it, as the test asserts
#: (33 frames in a minute's approach gave the same proof in 40 s more).
EXPOSURE = 2.0
COUNT = round(TO_MERIDIAN * 60 / EXPOSURE) + 3
#: (camera, mount) of each rig.
OURS = (ccd.DEVICE, telescope.DEVICE)
THEIRS = ("CCD Simulator", "Telescope Simulator")


def flip_plan(camera: str, mount: str, ra: float, dec: float) -> Plan:
    """`COUNT` frames of `EXPOSURE` s on the target at (`ra`, `dec`), flipped at the meridian
    (hour-angle limit 0), 2 s of settling after the flip; nothing parked or warmed."""
    return night(f"flip {mount}", target("East", Batch(COUNT, EXPOSURE), ra=round(ra, 6),
                                         dec=round(dec, 6)),
                 folder="flip", camera=camera, mount=mount, flip=Flip(hour_angle_limit=0.0,
                                                                  settle=2.0))


@dataclass
class Slews:
    """EQUATORIAL_EOD_COORD's states as a client of the mount's server took them in
    (wall-clock seconds, to compare with the frames' DATE-OBS)."""

    device: str
    states: list[tuple[float, State]] = field(default_factory=list)

    def take(self, event: ev.Event) -> bool:
        if (isinstance(event, ev.setVector) and event.devicename == self.device
                and event.vectorname == "EQUATORIAL_EOD_COORD" and event.state is not None):
            self.states.append((time.time(), event.state))
        return False  # keep watching

    def busy(self) -> list[tuple[float, float]]:
        """The intervals it was Busy: from a Busy set to the next set in another state (open
        at the end: still Busy)."""
        intervals: list[tuple[float, float]] = []
        start: float | None = None
        for when, state in self.states:
            if state == State.BUSY and start is None:
                start = when
            elif state != State.BUSY and start is not None:
                intervals.append((start, when))
                start = None
        if start is not None:
            intervals.append((start, float("inf")))
        return intervals


@dataclass
class Taken:
    """One saved frame: its exposure as its header says (wall-clock seconds) and PIERSIDE."""

    name: str
    start: float
    end: float
    side: str


def frames(folder: Path) -> list[Taken]:
    """The plan's frames in `folder`, in the order they were exposed."""
    taken = []
    for path in folder.rglob("*.fits"):
        header = read_header(path.read_bytes())
        started = datetime.fromisoformat(str(header["DATE-OBS"])).replace(tzinfo=UTC)
        start = started.timestamp()
        taken.append(Taken(path.name, start, start + float(header["EXPTIME"]),
                           str(header.values.get("PIERSIDE"))))
    return sorted(taken, key=lambda frame: frame.start)


def target_east(minutes: float) -> tuple[float, float]:
    """J2000 RA, Dec of a target `minutes` of time east of the meridian now (Dec `DEC`)."""
    now = datetime.now(UTC)
    jnow_ra = (local_sidereal_time(now, LONG) + minutes / 60) % 24
    return precess_to_j2000(jnow_ra, DEC, now)


def hour_angle_at(when: float, ra: float, dec: float) -> float:
    """The target's hour angle (degrees, west positive) at wall-clock `when`, as the
    sequencer reckons it (plan/decisions.py)."""
    moment = datetime.fromtimestamp(when, UTC)
    return hour_angle(precess_from_j2000(ra, dec, moment)[0],
                      local_sidereal_time(moment, LONG))


@dataclass
class Rig:
    """One server with its agent, camera and mount, and a client recording the slews."""

    client: indipyclient.Client
    camera: str
    mount: str
    slews: Slews
    folder: Path


@pytest.fixture
async def rigs(tmp_home: Path) -> AsyncIterator[tuple[Rig, Rig]]:
    """Two servers, each hosting an imager agent in-process: one with our camera and mount,
    one with indilib's CCD and telescope simulators; each mount connected at Greenwich (and
    indilib's simulating its pier side), each agent connected with its IMAGE_FOLDER set, and
    a client of each recording the mount's slews. The agent names the mount in its camera's
    ACTIVE_DEVICES, whose header then says PIERSIDE."""
    ours = server(make_driver(state=tmp_home / "ours"), ccd.make_driver(),
                  telescope.make_driver())
    theirs = server(make_driver(state=tmp_home / "theirs"))
    theirs.add_exdriver("indi_simulator_telescope", max_restarts=0)
    theirs.add_exdriver("indi_simulator_ccd", max_restarts=0)
    async with running(ours), running(theirs), \
            indipyclient.connect(HOST, ours.port) as our_client, \
            indipyclient.connect(HOST, theirs.port) as their_client:
        made = []
        for client, (camera, mount) in ((our_client, OURS), (their_client, THEIRS)):
            slews = Slews(mount)
            await client.set(mount, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            await client.set(mount, "GEOGRAPHIC_COORD", {"LAT": LAT, "LONG": LONG, "ELEV": 0},
                             timeout=10)
            if mount == THEIRS[1]:
                await client.set(mount, "SIM_PIER_SIDE", {"PS_ON": "On"}, timeout=10)
            await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            folder = tmp_home / mount.replace(" ", "_")
            await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder)}, timeout=10)
            made.append(Rig(client, camera, mount, slews, folder))
        with our_client.waiters.watching(made[0].slews.take), \
                their_client.waiters.watching(made[1].slews.take):
            yield made[0], made[1]


async def run_plan(rig: Rig, ra: float, dec: float) -> None:
    """The plan loaded by AGENT_PLAN.FILE and started, waited to its end (SEQUENCE_STATE
    Ok; Alert fails with the agent's reason)."""
    plan = write_plan(rig.folder.parent / f"{rig.mount.replace(' ', '_')}.toml",
                      flip_plan(rig.camera, rig.mount, ra, dec))
    loaded = await rig.client.set(AGENT, "AGENT_PLAN", {"FILE": str(plan)}, timeout=10)
    assert loaded.state == "Ok", loaded.message
    await rig.client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
    await rig.client.wait_for(AGENT, "SEQUENCE_STATE", state="Busy", timeout=20)
    ended = await rig.client.wait_for(AGENT, "SEQUENCE_STATE", state=("Ok", "Alert"),
                                      timeout=360)
    assert ended.state == "Ok", (rig.mount, ended.message)


@pytest.mark.timeout(400)
async def test_a_target_crossing_the_meridian_is_imaged_on_after_the_flip(
        rigs: tuple[Rig, Rig]) -> None:
    """Issue 71 item 7: a plan whose target is half a minute east of the meridian ([flip]
    hour_angle_limit 0) on our mount and camera and, at the same time, on indilib's
    telescope simulator (pier side simulated) and CCD simulator, each run by an imager agent
    to its end. Every planned frame is saved; those exposed before the flip say PIERSIDE
    WEST, those after it EAST, and at least 3 come after; by plan/decisions.py's flip_due,
    no flip was due at the first frame nor when the last WEST one was decided, and one was
    due when the flip's slew began; the mount slewed exactly once after the first frame
    (the flip), between the end of the last WEST exposure and the start of the first EAST
    one, and no frame's exposure overlaps any slew."""
    ra, dec = target_east(TO_MERIDIAN)
    await asyncio.gather(*(run_plan(rig, ra, dec) for rig in rigs))
    limit = Flip(hour_angle_limit=0.0)
    for rig in rigs:
        taken = frames(rig.folder / "flip")
        assert len(taken) == COUNT, (rig.mount, [frame.name for frame in taken])
        sides = [frame.side for frame in taken]
        flipped = sides.index("EAST") if "EAST" in sides else len(sides)
        assert flipped > 0 and sides == ["WEST"] * flipped + ["EAST"] * (COUNT - flipped), (
            rig.mount, sides)
        assert COUNT - flipped >= 3, (rig.mount, sides, "imaging did not go on after the flip")
        last_west, first_east = taken[flipped - 1], taken[flipped]
        assert not flip_due(hour_angle_at(taken[0].start, ra, dec), limit, "WEST"), (
            rig.mount, "the first frame was already past the meridian")
        # The engine decides before each exposure: the last WEST frame's decision came
        # after the frame before it ended, and no flip was due then; the flip's came before
        # its slew began, and one was due.
        decided = taken[flipped - 2].end if flipped > 1 else taken[0].start
        assert not flip_due(hour_angle_at(decided, ra, dec), limit, "WEST"), rig.mount
        busy = rig.slews.busy()
        after_first = [(start, end) for start, end in busy if start >= taken[0].start]
        assert len(after_first) == 1, (rig.mount, busy, taken[0].start)
        flip_start, flip_end = after_first[0]
        assert last_west.end <= flip_start and flip_end <= first_east.start, (
            rig.mount, (last_west.end, flip_start, flip_end, first_east.start))
        assert flip_due(hour_angle_at(flip_start, ra, dec), limit, "WEST"), rig.mount
        for frame in taken:
            assert all(frame.end <= start or end <= frame.start for start, end in busy), (
                rig.mount, frame, busy)
