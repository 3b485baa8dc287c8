"""Issue 81 item 2, "pulses through the mount or the camera's ST4 port": the Guider Agent with
ACTIVE_GUIDER naming indilib's own ``indi_simulator_ccd`` (1.9.9, its guide port: a pulse
shifts its rendered field, indilib's drivers/ccd/ccd_simulator.cpp GuideNorth/.../GuideWest),
under our server beside our mount simulator, with our ``gsc`` on PATH so it draws the real
sky. The agent calibrates and guides through the camera's ST4 port: every pulse goes to the
CCD Simulator's TELESCOPE_TIMED_GUIDE_NS/WE, none to the mount's."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from peers import driver_path
from peers import find_binary
from peers import free_port
from phd2client import Phd2Client
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents.guider import make_driver
from indipyclient import setVector
from indipycore.astro import precess_from_j2000
from indipycore.retrypolicy import ExponentialBackoff
from indipysimulators import telescope

CCD = "CCD Simulator"
MOUNT = telescope.DEVICE
AGENT = "Guider Agent"
PULSE_VECTORS = ("TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE")
#: The Double Cluster (J2000): rich in stars, above Greenwich's horizon at any hour.
TARGET = (2.35, 57.14)


@pytest.mark.timeout(600)
async def test_the_agent_calibrates_and_guides_through_the_cameras_st4_port(
        tmp_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    find_binary("indi_simulator_ccd")
    monkeypatch.setenv("PATH", driver_path())  # our gsc, before anything else named so
    phd2_port = free_port()
    ours = server(telescope.make_driver(50.0),
                  make_driver(phd2_port=phd2_port, phd2_host="127.0.0.1", camera=CCD,
                              mount=telescope.DEVICE))
    ours.add_exdriver("indi_simulator_ccd", backoff=ExponentialBackoff(0.2, 30.0))
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:
        pulses: dict[str, int] = {CCD: 0, MOUNT: 0}

        def count(event: Any) -> bool:
            device = getattr(event, "devicename", None)
            if device in pulses and getattr(event, "vectorname", None) in PULSE_VECTORS \
                    and isinstance(event, setVector):
                pulses[device] += 1
            return False

        with client.waiters.watching(count):
            await client.wait_for(CCD, "CONNECTION", timeout=30)
            await client.set(CCD, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": MOUNT}, timeout=10)
            for device in (MOUNT, CCD):
                await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
            await client.wait_for(CCD, "TELESCOPE_TIMED_GUIDE_WE", timeout=10)
            await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
            ra, dec = precess_from_j2000(*TARGET, datetime.now(UTC))
            await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=60)
            await client.set(AGENT, "ACTIVE_DEVICES", {"ACTIVE_CCD": CCD,
                                                       "ACTIVE_TELESCOPE": MOUNT,
                                                       "ACTIVE_GUIDER": CCD}, timeout=10)
            await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": 1.0}, timeout=10)
            await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT"))
                        == phd2_port, timeout=20)
            pulses.update({CCD: 0, MOUNT: 0})  # the connections' own reports set aside

            async with Phd2Client.connect(phd2_port) as phd2:
                reply = await phd2.call("guide", {"settle": {"pixels": 1.5, "time": 3,
                                                             "timeout": 60},
                                                  "recalibrate": True})
                assert reply["result"] == 0, reply
                await phd2.wait_event("StartCalibration", 60)
                west = await phd2.wait_event("Calibrating", 60)
                assert west["dir"] == "West", west
                complete_or_failed = await phd2.wait_any(("CalibrationComplete",
                                                          "CalibrationFailed"), 400)
                assert complete_or_failed["Event"] == "CalibrationComplete", complete_or_failed
                await phd2.wait_event("StartGuiding", 10)
                done = await phd2.wait_event("SettleDone", 120)
                assert done["Status"] == 0, done
                for _ in range(3):
                    step = await phd2.wait_event("GuideStep", 30)
                    assert abs(step["RADistanceRaw"]) < 1.5 and abs(step["DECDistanceRaw"]) < 1.5, \
                        step
                assert (await phd2.call("stop_capture"))["result"] == 0
                await phd2.wait_event("GuidingStopped", 10)

        # Calibration alone pulses West, East, North and South a few times each.
        assert pulses[CCD] >= 8, pulses
        assert pulses[MOUNT] == 0, pulses
