"""Issue 89 item 7: a guider whose mount parks stops guiding by itself and says why, instead
of pulsing a parked mount (a night's end once left it logging 23 refused pulses in two
minutes); a guide asked of a parked mount is refused, naming the park. Our server with our
mount and guide camera simulators and the Guider Agent (tests/agents/guider/guiderkit.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from guiderkit import AGENT
from guiderkit import MOUNT
from guiderkit import QUICK
from guiderkit import guided_sky
from guiderkit import seed_calibration
from guiderkit import track_at
from waiting import until

import indipyclient
from indipyclient import events

PULSES = ("TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE")


@pytest.mark.timeout(400)
async def test_a_mount_parked_under_guiding_stops_the_guider_which_says_why(
        tmp_path: Path) -> None:
    """Guiding; the mount parked (TELESCOPE_PARK.PARK): AGENT_GUIDER_STATE goes Stopped with
    the reason in its message, and in the 6 s that follow (a dozen 0.5 s guide frames' worth)
    the mount is asked for no pulse. Then a GUIDING asked of the parked mount ends Alert
    naming the park. The guider guides on a kept calibration (`guiderkit.seed_calibration`):
    the park is the point, not calibrating (issue 90 item 6)."""
    state = tmp_path / "guider"
    async with guided_sky(state=str(state)) as (ours, client), \
            indipyclient.connect("127.0.0.1", ours.port) as watcher:
        await track_at(client)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        seed_calibration(client, state)
        await client.set(AGENT, "AGENT_START_PROCESS", {"GUIDING": "On"}, timeout=300)
        assert client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding"

        pulses: list[str] = []
        stopped: list[str] = []

        async def watch() -> None:
            async with watcher.events(maxsize=8192) as stream:
                async for event in stream:
                    if not isinstance(event, events.setVector):
                        continue
                    if event.devicename == MOUNT and event.vectorname in PULSES:
                        pulses.append(event.vector.state.value)
                    elif event.devicename == AGENT and event.vectorname == "AGENT_GUIDER_STATE" \
                            and event.vector["STATE"] == "Stopped":
                        stopped.append(event.message or "")

        watching = asyncio.create_task(watch())
        await watcher.wait_for(MOUNT, "TELESCOPE_PARK", timeout=10)
        await client.set(MOUNT, "TELESCOPE_PARK", {"PARK": "On"}, timeout=120)
        await until(lambda: bool(stopped), 30, "the guider stops")
        assert "parked" in stopped[0] and MOUNT in stopped[0], stopped
        pulses.clear()
        await asyncio.sleep(6.0)  # the span watched for pulses: nothing may come in it
        assert pulses == [], f"pulses asked of the parked mount: {pulses}"
        watching.cancel()

        refused = await client.set(AGENT, "AGENT_START_PROCESS", {"GUIDING": "On"}, timeout=60)
        assert refused.state.value == "Alert" and "parked" in refused.message, refused
