"""Issue 89 item 3: the calibration kept across a restart (PHD2's auto restore). Real peers:
our server with our mount and guide camera simulators and the Guider Agent in-process,
started twice on one state folder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from guiderkit import QUICK
from guiderkit import guided_sky
from guiderkit import phd2_guides_once
from guiderkit import seed_calibration
from guiderkit import track_at
from peers import free_port
from phd2client import Phd2Client
from waiting import until

import indipyclient
from indipyagents.guider.calkeep import FILE_NAME
from indipysimulators import guidecamera

SETTLE = {"pixels": 1.5, "time": 3, "timeout": 60}


@asynccontextmanager
async def guiding_on_the_kept(client: indipyclient.Client, port: int) -> AsyncIterator[Phd2Client]:
    """A PHD2 client on the agent's `port` (once the agent serves there) asks it to guide
    without recalibrating: the first event is a settle that ends Ok, no StartCalibration."""
    await until(lambda: float(client.get("Guider Agent", "AGENT_GUIDER_PHD2", "PORT")) == port,
                timeout=20)
    async with Phd2Client.connect(port) as phd2:
        reply = await phd2.call("guide", {"settle": SETTLE, "recalibrate": False})
        assert reply["result"] == 0, reply
        first = await phd2.wait_any(("StartCalibration", "SettleDone"), 120)
        assert first["Event"] == "SettleDone" and first["Status"] == 0, first
        yield phd2


@pytest.mark.timeout(600)
async def test_a_restarted_guider_guides_on_its_kept_calibration(tmp_path: Path) -> None:
    """Calibrated once, the server and agent restarted: guide without recalibrate runs no
    calibration (the first thing said after the guide is the settle done, not
    StartCalibration) and guides; PHD2's clear_calibration then removes the kept one."""
    state = str(tmp_path / "guider")
    port = free_port()
    async with guided_sky(phd2_port=port, state=state) as (_ours, client):
        await client.set("Guider Agent", "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await track_at(client)
        await until(lambda: float(client.get("Guider Agent", "AGENT_GUIDER_PHD2", "PORT"))
                    == port, timeout=20)
        await phd2_guides_once(port, client)
    kept = json.loads((tmp_path / "guider" / FILE_NAME).read_bytes())
    assert kept["camera"] and kept["mount"] and kept["binning"] == 1

    port = free_port()
    async with guided_sky(phd2_port=port, state=state) as (_ours, client):
        await client.set("Guider Agent", "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await track_at(client)
        async with guiding_on_the_kept(client, port) as phd2:
            await phd2.wait_event("GuideStep", 30)
            assert (await phd2.call("get_calibrated"))["result"] is True
            assert (await phd2.call("clear_calibration"))["result"] == 0
            assert not (tmp_path / "guider" / FILE_NAME).exists()


@pytest.mark.timeout(600)
async def test_a_live_binning_change_scales_the_calibration(tmp_path: Path) -> None:
    """Guiding at binning 1, the guide camera's CCD_BINNING set to 2: the guider says the
    calibration was scaled (PHD2's Alert), runs no calibration, and guides on (GuideSteps,
    AGENT_GUIDER_STATE Guiding) with the RA and Dec rates halved; the kept calibration is the
    scaled one, at binning 2, so a restart reuses it. The calibration at binning 1 is a kept
    one (`guiderkit.seed_calibration`: the test above proves one made is kept and reused),
    guide frames QUICK's: the scaling is what is proven, not calibrating."""
    state = tmp_path / "guider"
    port = free_port()
    async with guided_sky(phd2_port=port, state=str(state)) as (_ours, client):
        await client.set("Guider Agent", "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await track_at(client)
        seed_calibration(client, state)
        async with guiding_on_the_kept(client, port) as phd2:
            before = json.loads((state / FILE_NAME).read_bytes())
            assert before["binning"] == 1
            await client.set(guidecamera.DEVICE, "CCD_BINNING", {"HOR_BIN": 2, "VER_BIN": 2},
                             timeout=10)
            alert = await phd2.wait_any(("Alert", "StartCalibration"), 60)
            assert alert["Event"] == "Alert" and "binning 1 to 2" in alert["Msg"], alert
            assert "calibration scaled" in alert["Msg"], alert
            for _ in range(3):
                step = await phd2.wait_any(("GuideStep", "StarLost", "StartCalibration"), 60)
                assert step["Event"] == "GuideStep", (step, alert)
            assert client.get("Guider Agent", "AGENT_GUIDER_STATE", "STATE") == "Guiding"
            after = json.loads((state / FILE_NAME).read_bytes())
            assert after["binning"] == 2
            for axis in ("ra", "dec"):
                assert after[axis] == pytest.approx([v / 2 for v in before[axis]]), axis
