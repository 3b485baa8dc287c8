"""Issue 81 item 5, what cannot be guided, with real peers: our server, our mount simulator,
our guide camera drawing the real Tycho-2 sky where the mount truly points, and the Guider
Agent in-process (`guiderkit.guided_sky`). No star in the frame, a star that saturates and a
calibration that does not move the star each end a calibration asked through INDI in PHD2's
CalibrationFailed and AGENT_START_PROCESS's Alert, both with the reason, within a bound: never
a hang. Then the agent still answers, and once the fault is gone it calibrates and guides
(`guiderkit.phd2_guides_once`). The pure machine's side of the same reasons is
test_guider_machine's; a mount that refuses pulses is test_guider_refused_pulses'."""

from __future__ import annotations

from typing import Any

import pytest
from guiderkit import AGENT
from guiderkit import FIELD
from guiderkit import MOUNT
from guiderkit import calibration_fails
from guiderkit import guided_sky
from guiderkit import phd2_guides_once
from guiderkit import track_at
from peers import free_port
from phd2client import Phd2Client
from waiting import until

import indipyclient
from indipyclient import setVector
from indipysimulators import telescope

#: Deneb (J2000 hours, degrees), magnitude 1.3: alone in the guide camera's 26' x 21' (the
#: next star is eight magnitudes fainter), above Greenwich's horizon at any hour.
DENEB = (20.6905, 45.2803)
#: A second mount simulator on the same server: where the pulses go when the wrong one is
#: named (the guide camera draws the sky of the first, `MOUNT`).
OTHER = "Other Mount"
PULSE_VECTORS = ("TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE")


async def ready(client: indipyclient.Client, port: int, exposure: float) -> None:
    """Guide frames of `exposure` s, a calibration of 6 px an axis (quick: what is tested
    is how it ends), the PHD2 server listening on `port`."""
    await client.set(AGENT, "AGENT_GUIDER_SETTINGS",
                     {"EXPOSURE": exposure, "MIN_CALIBRATION_DRIFT": 6.0}, timeout=10)
    await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT")) == port,
                timeout=20)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("field", "exposure", "reason", "fixed"), [
    # Frames of 0.01 s on the Double Cluster: no star stands out of the noise (its
    # brightest peaks at about 80 ADU, the noise is 74 rms); frames of 0.5 s show four.
    (FIELD, 0.01, "no star in the frame", 0.5),
    # Frames of 1 s on Deneb: the one star in the frame reaches the camera's full scale
    # (65535); in frames of 0.02 s it peaks at a quarter of it.
    (DENEB, 1.0, "every star saturates", 0.02)], ids=["no_star", "saturated"])
async def test_a_frame_without_a_usable_star_fails_with_the_reason(
        field: tuple[float, float], exposure: float, reason: str, fixed: float) -> None:
    """Guide frames of `exposure` s on `field`: the calibration ends within 20 s (three
    frames) in CalibrationFailed and the Alert, each saying `reason` (no star guided on,
    a saturated one least of all; no hang); with frames of `fixed` s the agent then
    calibrates and guides. Fails if the reason is not said, the request hangs, or the agent
    no longer guides after it."""
    port = free_port()
    async with guided_sky(phd2_port=port) as (_ours, client):
        await track_at(client, field)
        await ready(client, port, exposure)
        async with Phd2Client.connect(port) as phd2:
            failed, message = await calibration_fails(client, phd2, within=20)
        for said in (failed["Reason"], message):
            assert f"no usable guide star: {reason}" in said, (failed, message)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": fixed}, timeout=10)
        await phd2_guides_once(port, client, calibration=60)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("member", "right"), [("ACTIVE_GUIDER", ""),
                                               ("ACTIVE_TELESCOPE", MOUNT)])
async def test_a_calibration_that_does_not_move_the_star_fails_with_the_reason(
        member: str, right: str) -> None:
    """ACTIVE_DEVICES names a second mount where the pulses go, the mount the guide camera
    draws the sky of left alone: as ACTIVE_GUIDER (an ST4 cable to the wrong mount, or none)
    or as ACTIVE_TELESCOPE (the wrong mount chosen). The star stays put: after
    MAX_CALIBRATION_STEPS (10) West pulses, within 40 s, the calibration ends in
    CalibrationFailed and the Alert, each saying the star did not move enough; with `member`
    `right` again the agent calibrates and guides. Fails if the reason is not said, the
    calibration hangs or pulses the right mount, or the agent no longer guides after it."""
    port = free_port()
    async with guided_sky(telescope.make_driver(50.0, device_name=OTHER),
                          phd2_port=port) as (_ours, client):
        await track_at(client)
        await client.set(AGENT, "ACTIVE_DEVICES", {member: OTHER}, timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"MAX_CALIBRATION_STEPS": 10},
                         timeout=10)
        await ready(client, port, 0.5)
        pulses = {OTHER: 0, MOUNT: 0}

        def count(event: Any) -> bool:
            if isinstance(event, setVector) and event.devicename in pulses \
                    and event.vectorname in PULSE_VECTORS:
                pulses[event.devicename] += 1
            return False

        async with Phd2Client.connect(port) as phd2:
            with client.waiters.watching(count):
                failed, message = await calibration_fails(client, phd2, within=40)
            assert any(e["Event"] == "StartCalibration" for e in phd2.events), phd2.events
        assert pulses[OTHER] > 0 and pulses[MOUNT] == 0, pulses
        for said in (failed["Reason"], message):
            assert "RA calibration failed: the star did not move enough" in said, \
                (failed, message)
            assert "in 10 West pulses" in said, (failed, message)
        await client.set(AGENT, "ACTIVE_DEVICES", {member: right}, timeout=10)
        await phd2_guides_once(port, client, calibration=60)
