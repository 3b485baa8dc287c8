"""Issue 81 item 5, what cannot be guided, with real peers: our server, our mount simulator,
our guide camera drawing the real Tycho-2 sky where the mount truly points, and the Guider
Agent in-process (`guiderkit.guided_sky`). No star in the frame and a calibration that does
not move the star each end a calibration asked through INDI in PHD2's
CalibrationFailed and AGENT_START_PROCESS's Alert, both with the reason, within a bound: never
a hang. Then the agent still answers, and once the fault is gone it calibrates and guides
(`guiderkit.phd2_guides_once`); a saturated star is passed over for a fainter one. The pure
machine's side of the same reasons is
test_guider_machine's; a mount that refuses pulses is test_guider_refused_pulses'."""

from __future__ import annotations

from typing import Any

import pytest
from guiderkit import AGENT
from guiderkit import MOUNT
from guiderkit import QUICK_CALIBRATION
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
#: M101 (J2000 hours, degrees): high galactic latitude, no star brighter than about V 10 in
#: the guide camera's field, above Greenwich's horizon at any hour.
M101 = (14.053, 54.35)
#: A second mount simulator on the same server: where the pulses go when the wrong one is
#: named (the guide camera draws the sky of the first, `MOUNT`).
OTHER = "Other Mount"
PULSE_VECTORS = ("TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE")


async def ready(client: indipyclient.Client, port: int, exposure: float) -> None:
    """Guide frames of `exposure` s, QUICK's calibration (what is tested is how it ends),
    the PHD2 server listening on `port`."""
    await client.set(AGENT, "AGENT_GUIDER_SETTINGS",
                     {**QUICK_CALIBRATION, "EXPOSURE": exposure}, timeout=10)
    await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT")) == port,
                timeout=20)


@pytest.mark.timeout(180)
async def test_a_frame_without_a_star_fails_with_the_reason() -> None:
    """Guide frames of 0.01 s at M101: no star stands out of the noise (the field's brightest
    are about V 10: some 60 e- against a read noise of 3.5 e- a pixel); the calibration ends
    within 20 s (three frames) in CalibrationFailed and the Alert, each saying so (no hang);
    with frames of 1 s (six stars, SNR 20-50) the agent then calibrates and guides. Fails
    if the reason is not said, the request hangs, or the agent no longer guides after it."""
    port = free_port()
    async with guided_sky(phd2_port=port) as (_ours, client):
        await track_at(client, M101)
        await ready(client, port, 0.01)
        async with Phd2Client.connect(port) as phd2:
            failed, message = await calibration_fails(client, phd2, within=20)
        for said in (failed["Reason"], message):
            assert "no usable guide star: no star in the frame" in said, (failed, message)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": 1.0}, timeout=10)
        await phd2_guides_once(port, client, calibration=60)


@pytest.mark.timeout(180)
async def test_a_saturated_star_is_passed_over_for_a_fainter_one() -> None:
    """Guide frames of 1 s on Deneb: Deneb reaches the camera's full scale, but a real
    camera's dynamic range (65535 ADU over a 3.5 e- read noise) shows the field's stars to
    about V 13 beside it, and the guider calibrates and guides on one of them (issue 89 item
    2: on the old, noisier sky Deneb was alone and the calibration failed with "every star
    saturates"; that reason is test_guider_machine's now)."""
    port = free_port()
    async with guided_sky(phd2_port=port) as (_ours, client):
        await track_at(client, DENEB)
        await ready(client, port, 1.0)
        await phd2_guides_once(port, client, calibration=60)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("member", "right"), [("ACTIVE_GUIDER", ""),
                                               ("ACTIVE_TELESCOPE", MOUNT)])
async def test_a_calibration_that_does_not_move_the_star_fails_with_the_reason(
        member: str, right: str) -> None:
    """ACTIVE_DEVICES names a second mount where the pulses go, the mount the guide camera
    draws the sky of left alone: as ACTIVE_GUIDER (an ST4 cable to the wrong mount, or none)
    or as ACTIVE_TELESCOPE (the wrong mount chosen). The star stays put: after
    MAX_CALIBRATION_STEPS (5) West pulses of QUICK's 1 s (8 px on the right mount, more than
    its 6 px), within 40 s, the calibration ends in
    CalibrationFailed and the Alert, each saying the star did not move enough; with `member`
    `right` again the agent calibrates and guides. Fails if the reason is not said, the
    calibration hangs or pulses the right mount, or the agent no longer guides after it."""
    port = free_port()
    async with guided_sky(telescope.make_driver(50.0, device_name=OTHER),
                          phd2_port=port) as (_ours, client):
        await track_at(client)
        await client.set(AGENT, "ACTIVE_DEVICES", {member: OTHER}, timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"MAX_CALIBRATION_STEPS": 5},
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
            assert "in 5 West pulses" in said, (failed, message)
        await client.set(AGENT, "ACTIVE_DEVICES", {member: right}, timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"MAX_CALIBRATION_STEPS": 20},
                         timeout=10)  # the default's margin for the calibration that works
        await phd2_guides_once(port, client, calibration=60)
