"""Issue 81 item 4 end to end: one server of ours with our mount (15" of periodic error over
60 s, 3"/min of drift in Dec), our imaging and guide cameras, the Guider Agent and the Imager
Agent, in-process. A plan with ``[dither] method = "guider"`` and ``[devices] guider``: the
night starts the guider (calibrating), takes its light frames each after a dither through the
guider that settled (AGENT_GUIDER_DITHER Ok before the camera's next exposure), each frame's
header has GUIDERMS; the mount moved away under the guider (its star lost, LostLock) holds the
lights, and the night goes on once the mount is back and the star found."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import load_and_start
from agentkit import night
from agentkit import target
from guiderkit import FIELD
from guiderkit import QUICK
from guiderkit import make_guider
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.imageragent.driver import make_driver as make_imager
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Guiding
from indipyclient import events
from indipycore.fits import read_header
from indipysimulators import ccd
from indipysimulators import guidecamera
from indipysimulators import telescope

GUIDER = "Guider Agent"
MOUNT = telescope.DEVICE


def frames_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.fits")) \
        if folder.is_dir() else []


@pytest.mark.timeout(900)
async def test_a_night_dithers_through_the_guider_and_holds_while_the_star_is_lost(
        tmp_path: Path) -> None:
    imager = make_imager(state=tmp_path / "state")
    served = server(telescope.make_driver(50.0), guidecamera.make_driver(), ccd.make_driver(),
                    make_guider(phd2_port=0), imager)
    async with running(served), \
            indipyclient.connect("127.0.0.1", served.port) as client, \
            indipyclient.connect("127.0.0.1", served.port) as watcher:
        seen: list[tuple[float, str]] = []

        async def watch() -> None:
            exposing = False
            async with watcher.events(maxsize=8192) as stream:
                async for event in stream:
                    if isinstance(event, events.setVector):
                        state = event.vector.state.value
                        if event.vectorname == "AGENT_GUIDER_DITHER":
                            seen.append((time.monotonic(), f"dither {state}"))
                        elif event.devicename == ccd.DEVICE and \
                                event.vectorname == "CCD_EXPOSURE":
                            if state == "Busy" and not exposing:
                                seen.append((time.monotonic(), "exposing"))
                            exposing = state == "Busy"

        await watcher.wait_for(GUIDER, "AGENT_GUIDER_DITHER", timeout=20)
        watching = asyncio.create_task(watch())

        await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(MOUNT, "SIM_PE", {"AMPLITUDE": 15.0, "PERIOD": 60.0}, timeout=10)
        await client.set(MOUNT, "SIM_DRIFT", {"DEC": 3.0}, timeout=10)
        # guiderkit's QUICK: guide frames of 0.5 s, not the default 2 s, and a calibration of
        # 6 pixels an axis, not 12, in pulses of 1 s: a quicker start (issue 90 item 6).
        await client.set(GUIDER, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await client.wait_for(AGENT, "IMAGE_NAME", timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        # Lights of 2 s: four guide frames each, enough for a GUIDERMS; 4 s ones made the
        # five frames and their dithers 10 s longer and proved nothing more. Each dither
        # settles for 1 s (two guide frames within 1.5 px): the order of settling and
        # exposing is the proof, which 3 s proved no better, 8 s longer (issue 90 item 6).
        plan = night("guided", target("DoubleCluster", Batch(5, 2.0), ra=FIELD[0], dec=FIELD[1]),
                     camera=ccd.DEVICE, mount=MOUNT,
                     dither=Dither(every=1, pixels=3.0, method="guider", settle=1.0,
                                   settle_pixels=1.5, settle_timeout=60.0),
                     flip=Flip(enabled=False), guiding=Guiding(lost_wait=300.0))
        await load_and_start(client, tmp_path,
                             replace(plan, devices=replace(plan.devices, guider=GUIDER)))

        folder = tmp_path / "frames" / "night"
        # The guider started by the night: calibrated, guiding, settled; two frames.
        await until(lambda: len(frames_in(folder)) >= 2, 300, "two guided frames")
        assert client.get(GUIDER, "AGENT_GUIDER_STATE", "STATE") == "Guiding"

        # The mount moved away under the guider (3 degrees its true pointing, no slew said: a
        # slew said is a pause, the star chosen again after it): its star lost, the lights held.
        await client.set(MOUNT, "SIM_POINTING_ERROR", {"RA_ERROR": 0.0, "DEC_ERROR": 180.0},
                         timeout=10)
        await until(lambda: client.get(GUIDER, "AGENT_GUIDER_STATE", "STATE") == "LostLock",
                    60, "the guider says its star is lost")
        def started() -> int:
            return sum(what == "exposing" for _t, what in seen)

        # A frame under way when it went ends and is saved (every exposure begun is a file);
        # then nothing while six more guide frames find no star, and at least 12 s (six
        # frames at the default 2 s: the hold watched as long as with those).
        await until(lambda: client.vector(ccd.DEVICE, "CCD_EXPOSURE").state.value != "Busy"
                    and len(frames_in(folder)) == started(), 60, "the frame under way saved")
        held, begun = frames_in(folder), started()
        guided = float(client.get(GUIDER, "AGENT_GUIDER_STATS", "FRAME"))
        lost_since = time.monotonic()
        await until(lambda: float(client.get(GUIDER, "AGENT_GUIDER_STATS", "FRAME"))
                    >= guided + 6 and time.monotonic() - lost_since >= 12, 120,
                    "six guide frames and 12 s with the star lost")
        assert frames_in(folder) == held, "a light frame was taken while the star was lost"
        assert started() == begun, "an exposure began while the star was lost"
        assert client.get(GUIDER, "AGENT_GUIDER_STATE", "STATE") == "LostLock"

        # Back where it was: the star found again, the night goes on to its end.
        await client.set(MOUNT, "SIM_POINTING_ERROR", {"RA_ERROR": 0.0, "DEC_ERROR": 0.0},
                         timeout=10)
        await until(lambda: client.vector(AGENT, "SEQUENCE_STATE").state.value
                    in ("Ok", "Alert"), 300, "the night ends")
        sequence = client.vector(AGENT, "SEQUENCE_STATE")
        assert sequence.state.value == "Ok", sequence.message
        # The night's end stopped the guider it started, before parking (issue 89 item 7).
        await until(lambda: client.get(GUIDER, "AGENT_GUIDER_STATE", "STATE") == "Stopped",
                    30, "the night's end stops the guider")
        watching.cancel()

        saved = frames_in(folder)
        assert len(saved) == 5
        headers = {name: read_header((folder / name).read_bytes()).values for name in saved}
        # GUIDERMS in arcseconds, GUIDESCL its scale: back to guide pixels
        rms = {name: float(h["GUIDERMS"]) / float(h["GUIDESCL"]) for name, h in headers.items()}
        # Every frame says how it was guided; the one exposing while the test moved the
        # mount away may say it badly, the others are guided within 3 guide pixels.
        assert sum(value < 3.0 for value in rms.values()) >= 4, rms

        # Each exposure after the first began after a dither that settled (Ok), and no
        # exposure began while a dither was settling.
        order = [what for _t, what in sorted(seen)]
        exposures = [i for i, what in enumerate(order) if what == "exposing"]
        assert len(exposures) >= 5, order
        dithers = [i for i, what in enumerate(order) if what == "dither Ok"]
        assert len(dithers) >= 4, order
        settling = False
        for what in order:
            if what == "dither Busy":
                settling = True
            elif what in ("dither Ok", "dither Alert"):
                settling = False
            elif what == "exposing":
                assert not settling, order
        for before, after in itertools.pairwise(exposures):
            assert any(before < d < after for d in dithers), order
