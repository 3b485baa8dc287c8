"""The guider tests' rig: our server with our mount and guide camera simulators and the Guider
Agent in-process, the mount connected, and a client of it: the setting every end-to-end
guider test starts from, written once; and a guided night of the Imager Agent on it (the rig
made ready, the plan), for the tests of what guiding does to a night's frames."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

from agentkit import AGENT as IMAGER
from agentkit import night
from agentkit import target
from phd2client import Phd2Client
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.guider import calkeep
from indipyagents.guider import make_driver
from indipyagents.guider.agent import GuiderDriver
from indipyagents.guider.guidemath import SIDEREAL_ARCSEC_PER_S
from indipyagents.guider.guidemath import Calibration
from indipyagents.guider.guidemath import expected_rate
from indipyagents.plan.grading import Grading
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Flip
from indipyagents.plan.model import Guiding
from indipyagents.plan.model import Plan
from indipyclient import setVector
from indipycore.astro import precess_from_j2000
from indipyserver import IPyServer
from indipysimulators import ccd
from indipysimulators import guidecamera
from indipysimulators import telescope

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE
CAMERA = guidecamera.DEVICE
#: The Double Cluster (J2000 hours, degrees): rich in stars in the guide camera's 26' x 21',
#: and above the horizon of our mount simulator's site (Greenwich) at any hour, which the
#: Pleiades are not (they set for seven hours a day: a test pointed there fails by the clock).
FIELD = (2.35, 57.14)
#: AGENT_GUIDER_SETTINGS for tests that prove guiding, not its figures: guide frames of 0.5 s
#: (PHD2's 500 ms), a calibration half the default's length (MIN_CALIBRATION_DRIFT 6 px) in
#: pulses of 1 s (STEP; sized from the guide rate it is about 0.45 s at the Double Cluster,
#: eight steps an axis): the same pulse time an axis in half the frames, each frame costing
#: its exposure and reading whatever the pulse (issue 90 item 6).
QUICK = {"EXPOSURE": 0.5, "MIN_CALIBRATION_DRIFT": 6.0, "STEP": 1.0}
#: QUICK's calibration alone, for a test that sets its guide frames another way (PHD2's
#: set_exposure) or to what it proves.
QUICK_CALIBRATION = {k: v for k, v in QUICK.items() if k != "EXPOSURE"}


def make_guider(**options: Any) -> GuiderDriver:
    """The Guider Agent on our simulators, named here (its defaults are indilib's
    simulators', `indipyagents.defaults`): every guider test's devices in one place."""
    return make_driver(camera=CAMERA, mount=MOUNT, **options)


def field_now(field: tuple[float, float] = FIELD) -> tuple[float, float]:
    """`field` (J2000) now (JNow), as EQUATORIAL_EOD_COORD takes it."""
    return precess_from_j2000(*field, datetime.now(UTC))


async def track_at(client: indipyclient.Client, field: tuple[float, float] = FIELD,
                   mount: str = MOUNT) -> None:
    """`mount` tracking, its goto to `field` (J2000) done."""
    await client.set(mount, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
    ra, dec = field_now(field)
    await client.set(mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=30)


#: Our guide camera's arcseconds a pixel (CCD_INFO's 5.2 um on our mount's 430 mm: PHD2's
#: get_pixel_scale, test_guider_end_to_end).
SCALE = 2.494


def seed_calibration(client: indipyclient.Client, state: Path) -> Calibration:
    """A kept calibration of our simulators in the guider's state folder `state`, for a test
    that is not about calibrating: the guider reuses it (PHD2's auto restore, `calkeep`)
    instead of some twenty frames of calibration. Its rates are the mount's GUIDE_RATE at its
    declination now on SCALE (as measured: a West pulse moves the star +x, a North pulse +y on
    PIER_EAST, the camera turned half round on PIER_WEST: `Calibration.flipped`), made at the
    mount's pier side and declination now, so the guider reuses it as it is."""
    rate = float(client.get(MOUNT, "GUIDE_RATE", "GUIDE_RATE_WE"))
    dec = float(client.get(MOUNT, "EQUATORIAL_EOD_COORD", "DEC"))
    north = rate * SIDEREAL_ARCSEC_PER_S / SCALE / 1000
    cal = Calibration((expected_rate(SCALE, rate, dec), 0.0), (0.0, north), "PIER_EAST", dec)
    if client.get(MOUNT, "TELESCOPE_PIER_SIDE", "PIER_WEST") == "On":
        cal = cal.flipped()
    state.mkdir(parents=True, exist_ok=True)
    calkeep.save(state, calkeep.Kept(cal, MOUNT, CAMERA, 1))
    return cal


@asynccontextmanager
async def guided_sky(*more: object, phd2_port: int = 0, state: str | None = None
                     ) -> AsyncIterator[tuple[IPyServer, indipyclient.Client]]:
    """The rig above (the mount slewing at 50 deg/s), with `more` drivers beside it; the
    agent's PHD2 event server on `phd2_port` of 127.0.0.1 (0: none); its calibration kept in
    the folder `state` (None: not kept)."""
    guider = make_guider(phd2_port=phd2_port, phd2_host="127.0.0.1", state=state)
    async with running(server(telescope.make_driver(50.0), guidecamera.make_driver(), guider,
                              *more)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        yield ours, client


#: The lights of `guided_night`, as the Imager Agent saves them.
GUIDED_LIGHTS = [f"lights/NoFilter/DoubleCluster_NoFilter_Light_{n:03d}.fits"
                 for n in range(1, 5)]


async def ready_for_a_guided_night(client: indipyclient.Client, frames: Path,
                                   state: Path) -> None:
    """`guided_sky` with the Imager Agent beside it made ready for a night that is about the
    frames, not calibrating: the mount tracking at FIELD, the guider on QUICK with a kept
    calibration in its state folder `state` (`seed_calibration`), the agent's frames to
    `frames`."""
    await track_at(client)
    await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
    seed_calibration(client, state)
    await client.wait_for(IMAGER, "IMAGE_NAME", timeout=10)
    await client.set(IMAGER, "IMAGE_NAME", {"IMAGE_FOLDER": str(frames)}, timeout=10)


def guided_night(grading: Grading) -> Plan:
    """Four 3 s lights of FIELD (`GUIDED_LIGHTS`) on our camera and mount, guided by the
    Guider Agent and judged by `grading`: no dither, the guider settled (1.5 px for 1 s,
    within 60 s) before the first, no flip, a lost star waited for up to 300 s."""
    plan = night("guided", target("DoubleCluster", Batch(4, 3.0), ra=FIELD[0], dec=FIELD[1]),
                 camera=ccd.DEVICE, mount=MOUNT,
                 dither=Dither(every=0, settle=1.0, settle_pixels=1.5, settle_timeout=60.0),
                 flip=Flip(enabled=False), guiding=Guiding(lost_wait=300.0), grading=grading)
    return replace(plan, devices=replace(plan.devices, guider=AGENT))


async def phd2_guides_once(phd2_port: int, client: indipyclient.Client,
                           calibration: float = 400) -> None:
    """A PHD2 client of the agent on `phd2_port` has it calibrate afresh and guide (the state
    Stopped at connect, StartCalibration, CalibrationComplete within `calibration` seconds, a
    settle that ends Ok, a GuideStep, AGENT_GUIDER_STATE Guiding at `client`), then stops it
    (GuidingStopped): how the executable's tests prove it guides wherever it is hosted."""
    async with Phd2Client.connect(phd2_port) as phd2:
        assert (await phd2.wait_event("AppState", 10))["State"] == "Stopped"
        reply = await phd2.call("guide", {"settle": {"pixels": 1.5, "time": 3, "timeout": 60},
                                          "recalibrate": True})
        assert reply["result"] == 0, reply
        await phd2.wait_event("StartCalibration", 60)
        await calibrated_then_guiding(phd2, client, calibration)
        assert (await phd2.call("stop_capture"))["result"] == 0
        await phd2.wait_event("GuidingStopped", 10)


async def calibration_fails(client: indipyclient.Client, phd2: Phd2Client,
                            within: float) -> tuple[dict[str, Any], str]:
    """A calibration asked through INDI (AGENT_START_PROCESS CALIBRATION) that cannot be done
    ends within `within` seconds in PHD2's CalibrationFailed and the vector's Alert (its
    CALIBRATION Off): never a hang nor a CalibrationComplete. Then the agent still answers
    (get_calibrated false, stop_capture, AGENT_GUIDER_STATE Stopped). The event and the
    Alert's message, for the caller to find the reason in."""
    ended: list[tuple[str, str]] = []

    def start_ends(event: Any) -> bool:
        if isinstance(event, setVector) and event.devicename == AGENT \
                and event.vectorname == "AGENT_START_PROCESS" \
                and event.state is not None and event.state.value in ("Ok", "Alert"):
            ended.append((event.state.value, str(event.message or "")))
            return True
        return False

    started = time.monotonic()
    with client.waiters.watching(start_ends) as done:
        await client.set(AGENT, "AGENT_START_PROCESS", {"CALIBRATION": "On"}, wait=False)
        failed = await phd2.wait_any(("CalibrationFailed", "CalibrationComplete"), within)
        assert failed["Event"] == "CalibrationFailed", failed
        await until(lambda: done.done(), timeout=max(1.0, within - (time.monotonic() - started)))
    state, message = ended[-1]
    assert state == "Alert", ended
    assert client.get(AGENT, "AGENT_START_PROCESS", "CALIBRATION") == "Off"
    assert time.monotonic() - started < within
    assert (await phd2.call("get_calibrated"))["result"] is False
    assert (await phd2.call("stop_capture"))["result"] == 0
    await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Stopped",
                timeout=30)
    return failed, message


async def calibrated_then_guiding(phd2: Phd2Client, client: indipyclient.Client,
                                  calibration: float) -> None:
    """The calibration under way on `phd2` completes within `calibration` seconds, the settle
    ends Ok, a GuideStep comes, and the INDI face says Guiding."""
    ended = await phd2.wait_any(("CalibrationComplete", "CalibrationFailed"), calibration)
    assert ended["Event"] == "CalibrationComplete", ended
    done = await phd2.wait_event("SettleDone", 120)
    assert done["Status"] == 0, done
    await phd2.wait_event("GuideStep", 30)
    # The INDI face's state comes through the server, not the PHD2 socket: on a loaded
    # machine it lands after the GuideStep (a full run with twelve workers read it first).
    await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding",
                timeout=10, what="AGENT_GUIDER_STATE Guiding after the GuideStep")
