"""Issue 72 item 4 with both agents as they run together: our watchdog and the Imager Agent in
one server (in-process, as ``indipyserver indipyagents.watchdog indipyagents.imager ...``)
beside our camera, wheel and mount and indilib's weather simulator. No client stands in for
either agent: the rain makes the watchdog hold the night (its PAUSE_SEQUENCE step sets the
agent's AGENT_SAFETY) and park the mount; dry weather for WATCHDOG_RESUME_VALUE lets the
night go on, pointed at its target again, to exactly its frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from nightkit import CCD
from nightkit import WATCHDOG
from nightkit import fits_files
from nightkit import high_target
from nightkit import load_and_start
from nightkit import rain
from nightkit import sequence
from nightkit import sequence_ends
from nightkit import watch_the_weather
from nightkit import watched
from serverkit import running
from waiting import until

import indipyclient
from indipyagents.journal import Journal
from indipyagents.plan.model import Plan

MOUNT = "Python Mount"
LIGHTS = ["lights/Red/High_Red_Light_001.fits", "lights/Red/High_Red_Light_002.fits",
          "lights/Red/High_Red_Light_003.fits"]


def plan() -> Plan:
    """Three light frames of a target high now at our mount's site (Greenwich)."""
    return night("watched", high_target(), camera=CCD, wheel="Python Filter Wheel", mount=MOUNT)


@pytest.mark.timeout(180)
async def test_rain_holds_the_night_and_parks_and_dry_weather_lets_it_finish(
        tmp_path: Path) -> None:
    """Rain while the second light is exposed: after the 1 s threshold the watchdog's steps
    hold the night ("held: unsafe (weather 'Weather Simulator': ...)", the exposure cut) and
    park the mount; dry again, 3 s later (WATCHDOG_RESUME_VALUE) the watchdog says SAFE, and
    the night slews back and ends Ok with exactly its three frames, the cut one begun twice."""
    served = watched(tmp_path, "indi_simulator_weather")
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await watch_the_weather(client, resume=3, park_mount=True)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        await load_and_start(client, tmp_path, plan())
        folder = tmp_path / "frames" / "night"

        def exposing_the_second() -> bool:
            vector = client.devices.vector(CCD, "CCD_EXPOSURE")
            return vector is not None and vector.state.value == "Busy" and folder.exists() \
                and len(fits_files(folder)) == 1

        await until(exposing_the_second, 90, "the first light saved, the second exposing")
        await rain(client, True)
        cause = "weather 'Weather Simulator': WEATHER_STATUS is Alert"
        await until(lambda: sequence(client) == ("Busy", f"held: unsafe ({cause})"), 30,
                    lambda: f"the night held, not {sequence(client)}")
        await until(lambda: client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On"
                    and str(client.devices.vector(MOUNT, "TELESCOPE_PARK").state) == "Ok", 60,
                    "the mount parked by the watchdog")
        assert client.get(WATCHDOG, "WATCHDOG_STEPS", "PAUSE_SEQUENCE") == "Ok"
        assert fits_files(folder) == LIGHTS[:1]  # the cut frame was not saved
        await rain(client, False)
        await until(lambda: client.get(AGENT, "AGENT_SAFETY", "SAFE") == "On", 30,
                    "the watchdog saying SAFE once dry for WATCHDOG_RESUME_VALUE")
        assert await sequence_ends(client, 120) == ("Ok", "done")
        journals = list((folder / ".journal").iterdir())
    assert fits_files(folder) == LIGHTS
    records = Journal(journals[0]).records()
    assert sorted(str(r["file"]) for r in records if r["kind"] == "frame") == LIGHTS
    begun = [r["step"] for r in records if r["kind"] == "begin"]
    assert begun.count("High/0/Red/Light/002") == 2
