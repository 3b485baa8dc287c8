"""Issue 81 item 5, "a mount that refuses pulses": our mount simulator parked refuses every
guide pulse (Alert, "Guide pulse refused: The mount is parked"). A calibration asked through
INDI (AGENT_START_PROCESS CALIBRATION) ends in PHD2's CalibrationFailed and the vector's
Alert, each with the reason naming the mount's refusal, within a minute: never a hang; the
agent answers after (`guiderkit.calibration_fails`).

(indilib's own ``indi_simulator_telescope`` 1.9.9 does not refuse: parked, it takes a pulse,
Busy then Idle, measured here with indiserver; so the refusing peer is ours.)"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from guiderkit import AGENT
from guiderkit import MOUNT
from guiderkit import calibration_fails
from guiderkit import field_now
from guiderkit import guided_sky
from peers import free_port
from phd2client import Phd2Client
from waiting import until

from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time


@pytest.mark.timeout(300)
async def test_a_parked_mount_ends_the_calibration_with_its_refusal() -> None:
    phd2_port = free_port()
    async with guided_sky(phd2_port=phd2_port) as (_ours, client):
        # Parked where the sky is rich (the Double Cluster), not at the pole: the guider
        # must find a star before it pulses.
        ra, dec = field_now()
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
            failed, message = await calibration_fails(client, phd2, within=60)
            assert any(e["Event"] == "StartCalibration" for e in phd2.events), phd2.events
        assert "the mount (Python Mount) refused a guide pulse" in failed["Reason"], failed
        assert "parked" in failed["Reason"], failed
        assert "refused a guide pulse" in message and "parked" in message, message
