"""Issue 81 item 4, "the watchdog's shutdown stops guiding", with the real guider: our server
with our mount and guide camera simulators, our Guider Agent guiding, and our watchdog
(indipyagents.watchdog) naming it in ACTIVE_DEVICES.ACTIVE_GUIDER with only STOP_GUIDING in its
shutdown. The client's heartbeat stops: the watchdog's STOP_GUIDING step ends Ok and the
Guider Agent has stopped (AGENT_GUIDER_STATE Stopped, AGENT_START_PROCESS Off)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from guiderkit import QUICK
from guiderkit import field_now
from guiderkit import guided_sky
from guiderkit import seed_calibration
from waiting import until

from indipysimulators import telescope

sys.path.insert(0, str(Path(__file__).parents[1] / "watchdog"))
from watchdogkit import configure
from watchdogkit import heartbeat_shutdown
from watchdogkit import steps_done
from watchdogkit import watchdog

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE


@pytest.mark.timeout(600)
async def test_the_watchdogs_shutdown_stops_our_guider(tmp_path: Path) -> None:
    state = tmp_path / "guider"
    async with guided_sky(watchdog(tmp_path), state=str(state)) as (_ours, client):
        await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        ra, dec = field_now()
        await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=60)
        # guiderkit's QUICK frames, a kept calibration (seed_calibration, PHD2's auto restore)
        # and a settle of 2 s: the test is about the stop, not about calibrating or settling
        # (a quicker way to "guiding, settled"; issue 90 item 6).
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_DITHER_SETTINGS", {"SETTLE_TIME": 2}, timeout=10)
        seed_calibration(client, state)
        result = await client.set(AGENT, "AGENT_START_PROCESS", {"GUIDING": "On"}, timeout=10)
        # Busy while it settles, or already Ok (settled): on a kept calibration the 2 s
        # settle may end within the set's own wait.
        assert result.state in ("Busy", "Ok"), result
        await until(lambda: client.vector(AGENT, "AGENT_START_PROCESS").state == "Ok",
                    300, "guiding, settled")
        assert client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding"

        await client.wait_for("WatchDog", "WATCHDOG_STEPS", timeout=10)
        await configure(client, ACTIVE_DEVICES={
            "ACTIVE_TELESCOPE": MOUNT, "ACTIVE_DOME": "", "ACTIVE_WEATHER": "",
            "ACTIVE_CCD": "", "ACTIVE_SEQUENCER": "", "ACTIVE_GUIDER": AGENT},
            WATCHDOG_SHUTDOWN={"STOP_GUIDING": "On", "PAUSE_SEQUENCE": "Off",
                               "ABORT_EXPOSURE": "Off", "PARK_MOUNT": "Off",
                               "PARK_DOME": "Off", "WARM_CAMERA": "Off",
                               "EXECUTE_SCRIPT": "Off"})
        await heartbeat_shutdown(client)
        steps = await steps_done(client)
        assert steps["STOP_GUIDING"] == "Ok", steps
        await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Stopped",
                    10, "the guider stopped")
        assert client.get(AGENT, "AGENT_START_PROCESS", "GUIDING") == "Off"
        assert client.get(AGENT, "AGENT_START_PROCESS", "CALIBRATION") == "Off"
