"""Issue 81 item 5, "a mount that refuses pulses": our mount simulator parked refuses every
guide pulse (Alert, "Guide pulse refused: The mount is parked"). A calibration asked through
INDI (AGENT_START_PROCESS CALIBRATION) ends in PHD2's CalibrationFailed and the vector's
Alert, each with the reason naming the mount's refusal, within a few frames: never a hang.

(indilib's own ``indi_simulator_telescope`` 1.9.9 does not refuse: parked, it takes a pulse,
Busy then Idle, measured here with indiserver; so the refusing peer is ours.)"""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from guiderkit import guided_sky
from peers import free_port
from phd2client import Phd2Client
from waiting import until

from indipyclient import setVector
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import precess_from_j2000
from indipysimulators import telescope

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE
#: The Double Cluster (J2000): rich in stars, above Greenwich's horizon at any hour.
TARGET = (2.35, 57.14)


@pytest.mark.timeout(300)
async def test_a_parked_mount_ends_the_calibration_with_its_refusal() -> None:
    phd2_port = free_port()
    async with guided_sky(phd2_port=phd2_port) as (_ours, client):
        # Parked where the sky is rich (the Double Cluster), not at the pole: the guider
        # must find a star before it pulses.
        ra, dec = precess_from_j2000(*TARGET, datetime.now(UTC))
        longitude = float(client.get(MOUNT, "GEOGRAPHIC_COORD", "LONG"))
        ha = hour_angle(local_sidereal_time(datetime.now(UTC), longitude), ra)
        await client.set(MOUNT, "TELESCOPE_PARK_POSITION", {"PARK_HA": ha,
                                                             "PARK_DEC": dec}, timeout=10)
        await client.set(MOUNT, "TELESCOPE_PARK", {"PARK": "On"}, timeout=120)
        await until(lambda: client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On", timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": 1.0}, timeout=10)
        await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT"))
                    == phd2_port, timeout=20)
        async with Phd2Client.connect(phd2_port) as phd2:

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
                await phd2.wait_event("StartCalibration", 60)
                failed = await phd2.wait_any(("CalibrationFailed", "CalibrationComplete"), 60)
                assert failed["Event"] == "CalibrationFailed", failed
                assert "the mount (Python Mount) refused a guide pulse" in failed["Reason"], failed
                assert "parked" in failed["Reason"], failed
                await until(lambda: done.done(), timeout=30)
            seconds = time.monotonic() - started
            state, message = ended[-1]
            assert state == "Alert", ended
            assert "refused a guide pulse" in message and "parked" in message, message
            assert client.get(AGENT, "AGENT_START_PROCESS", "CALIBRATION") == "Off"
            assert seconds < 60, seconds
            # Not a hang: the agent answers and stops cleanly.
            assert (await phd2.call("get_calibrated"))["result"] is False
            assert (await phd2.call("stop_capture"))["result"] == 0
            await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Stopped",
                        timeout=30)
