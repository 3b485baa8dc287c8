"""Issue 71 items 4 and 6 inside a plan: what a night's saved frames say, and who sees them.

Our server hosts the agent and our simulated camera, focuser (with its filter wheel) and
mount in-process. The plan images a target half an hour east of the meridian (its RA from the
sidereal time at the mount's site, so it is high whenever the test runs) through two filters,
with autofocus at the target's start. Each saved frame's header carries OBJECT (the target),
FILTER (the wheel's filter), EXPTIME, XBINNING, IMAGETYP, what the camera snooped (RA/DEC,
PIERSIDE, FOCUSPOS) and the autofocus's HFR and position (AFHFR, AFPOS);
AGENT_IMAGER_STATS shows the HFD; a client that enabled BLOBs receives every frame on
AGENT_LAST_FRAME as it was saved.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import best_focus_from_here
from nightkit import fits_files
from nightkit import header
from nightkit import load_and_start
from nightkit import rich_field
from nightkit import sequence_ends
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imageragent.driver import make_driver
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Plan
from indipyclient import events
from indipysimulators import ccd
from indipysimulators import focus
from indipysimulators import telescope


def plan(camera: str, wheel: str, focuser: str, mount: str, ra: float, dec: float) -> Plan:
    """Two frames through Red, one through Green binned 2, of the target at (`ra`, `dec`),
    with autofocus at the target's start (1 s frames, 9 points 20 steps apart)."""
    return night("headers", target("High Up", Batch(2, 1, "Red"), Batch(1, 1, "Green", 2),
                                   ra=round(ra, 5), dec=round(dec, 4)),
                 camera=camera, wheel=wheel, focuser=focuser, mount=mount,
                 autofocus=Autofocus(at_start=True, exposure=1, step=20, points=9))


FRAMES = ["lights/Green/High_Up_Green_Light_001.fits", "lights/Red/High_Up_Red_Light_001.fits",
          "lights/Red/High_Up_Red_Light_002.fits"]


@pytest.mark.timeout(180)
async def test_a_nights_frames_carry_the_target_filter_pointing_and_focus(
        tmp_path: Path) -> None:
    """Three frames saved with OBJECT, FILTER, EXPTIME, XBINNING, IMAGETYP, RA/DEC near the
    target, PIERSIDE, FOCUSPOS at the autofocus's end (AFPOS too) and AFHFR its HFR; HFD = 2 x AFHFR in
    AGENT_IMAGER_STATS; a watching client got each frame, byte for byte, on
    AGENT_LAST_FRAME."""
    agent = make_driver(state=tmp_path / "state")
    served = server(agent, ccd.make_driver(), focus.make_driver(), telescope.make_driver())
    async with running(served), \
            indipyclient.connect("127.0.0.1", served.port) as client, \
            indipyclient.connect("127.0.0.1", served.port) as watcher:
        await watcher.wait_for(AGENT, "AGENT_LAST_FRAME", timeout=10)
        await watcher.send_enableBLOB("Also", AGENT, "AGENT_LAST_FRAME")
        delivered: dict[str, bytes] = {}

        async def watch() -> None:
            async with watcher.events(maxsize=4096) as stream:
                async for event in stream:
                    if isinstance(event, events.setBLOBVector) and \
                            event.vectorname == "AGENT_LAST_FRAME":
                        delivered[event.message or ""] = bytes(event["FRAME"])

        watching = asyncio.create_task(watch())

        await client.wait_for(AGENT, "IMAGE_NAME", timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        # High in the sky, in the richest of a few fields there: the camera draws the real
        # sky, and autofocus needs stars bright enough to measure out of focus.
        ra, dec = await rich_field(client)
        here = await best_focus_from_here(client, 40)

        await load_and_start(client, tmp_path, plan(
            camera=CCD, wheel=focus.WHEEL, focuser=focus.FOCUSER, mount=telescope.DEVICE,
            ra=ra, dec=dec))
        state, message = await sequence_ends(client, 150)
        assert (state, message) == ("Ok", "done")
        await until(lambda: len(delivered) == len(FRAMES), 10, "every frame delivered")
        watching.cancel()

        folder = tmp_path / "frames" / "night"
        assert fits_files(folder) == FRAMES
        focused_at = round(float(client.get(focus.FOCUSER, "ABS_FOCUS_POSITION",
                                            "FOCUS_ABSOLUTE_POSITION")))
        assert abs(focused_at - (here + 40)) <= 20
        filters = {"Red": 1, "Green": 2}
        hfd = float(client.get(AGENT, "AGENT_IMAGER_STATS", "HFD"))
        for name in FRAMES:
            cards = header(folder / name)
            wanted = "Green" if "Green" in name else "Red"
            assert cards["OBJECT"] == "High Up", cards
            assert cards["FILTER"] == client.get(
                focus.WHEEL, "FILTER_NAME", f"FILTER_SLOT_NAME_{filters[wanted]}") == wanted
            assert cards["EXPTIME"] == 1.0
            assert cards["XBINNING"] == (2 if wanted == "Green" else 1)
            assert cards["IMAGETYP"] == "Light Frame"
            assert cards["FOCUSPOS"] == cards["AFPOS"] == focused_at
            assert cards["PIERSIDE"] in ("EAST", "WEST")
            assert abs(float(cards["RA"]) - ra * 15.0) < 0.5, (cards["RA"], ra)
            assert abs(float(cards["DEC"]) - dec) < 0.5, (cards["DEC"], dec)
            assert hfd == pytest.approx(2 * float(cards["AFHFR"]), abs=0.01) and hfd > 0
            assert delivered[name.rsplit("/", 1)[-1]] == (folder / name).read_bytes()
