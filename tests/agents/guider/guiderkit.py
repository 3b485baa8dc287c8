"""The guider tests' rig: our server with our mount and guide camera simulators and the Guider
Agent in-process, the mount connected, and a client of it: the setting every end-to-end
guider test starts from, written once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from datetime import datetime
from typing import Any

from phd2client import Phd2Client
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.guider import make_driver
from indipyagents.guider.agent import GuiderDriver
from indipyclient import setVector
from indipycore.astro import precess_from_j2000
from indipyserver import IPyServer
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
#: (PHD2's 500 ms) and calibration steps half the default's (MIN_CALIBRATION_DRIFT 6 px): a
#: calibration in a third of the wall time of the defaults' (issue 90 item 6).
QUICK = {"EXPOSURE": 0.5, "MIN_CALIBRATION_DRIFT": 6.0}


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
        ended = await phd2.wait_any(("CalibrationComplete", "CalibrationFailed"), calibration)
        assert ended["Event"] == "CalibrationComplete", ended
        done = await phd2.wait_event("SettleDone", 120)
        assert done["Status"] == 0, done
        await phd2.wait_event("GuideStep", 30)
        assert client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding"
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
