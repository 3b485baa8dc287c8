"""Issue 81 item 5, "a mount that refuses pulses", and issue 89 item 7: our mount simulator
parked refuses every guide pulse (Alert, "Guide pulse refused: The mount is parked"), so the
guider no longer starts a calibration on a parked mount: asked through PHD2 (guide) or INDI
(AGENT_START_PROCESS CALIBRATION), it refuses at once naming the park, and stays
uncalibrated. (A pulse refused mid-calibration by a mount that is not parked still ends the
calibration with the refusal, `GuiderMachine.pulse_failed`; no peer of ours refuses so.)

(indilib's own ``indi_simulator_telescope`` 1.9.9 does not refuse: parked, it takes a pulse,
Busy then Idle, measured here with indiserver; so the refusing peer is ours.)"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
from guiderkit import AGENT
from guiderkit import MOUNT
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
            # Through PHD2: the guide refused at once, naming the park (issue 89 item 7: a
            # guider asked to guide a parked mount calibrates no more, pulse after refused
            # pulse); through INDI, AGENT_START_PROCESS ends Alert with the same reason.
            reply = await phd2.call("guide", {"settle": {"pixels": 1.5, "time": 3,
                                                         "timeout": 60}, "recalibrate": True})
            assert "error" in reply and "parked" in reply["error"]["message"], reply
            refused = await client.set(AGENT, "AGENT_START_PROCESS", {"CALIBRATION": "On"},
                                       timeout=60)
            assert refused.state.value == "Alert" and "parked" in refused.message, refused
            assert not any(e["Event"] == "StartCalibration" for e in phd2.events), phd2.events
            assert (await phd2.call("get_calibrated"))["result"] is False
