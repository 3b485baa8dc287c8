"""Issue 92 item 2: panel flats need no sky. Our server hosts the imager agent in-process
beside our camera and wheel simulators and indilib's ``indi_simulator_lightpanel`` and
``indi_simulator_dome``; the plan names the dome and says ``sky_free_while_unsafe``. Told
unsafe before it starts, with the dome closed: the plan's flats by level (after a light
frame in the plan's order) are taken at once, the dome never opened for them, while the
light frame is held; told safe, the dome is opened for the light frame and the night ends.
The same with our watchdog (``indipy_agent_watchdog``) guarding that dome (its ACTIVE_DOME),
as in the guide's night: a panel's flat is no light through the dome, so the camera's guard
lets it be taken closed (the guide's night paused at its first flat, "the dome is closed")."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from agentkit import target
from nightkit import CCD
from nightkit import CCD_PROGRAM
from nightkit import FOCUS_PROGRAM
from nightkit import fits_files
from nightkit import hosted
from nightkit import load_and_start
from nightkit import sequence_ends
from waiting import until

import indipyclient
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import Safety
from indipyagents.rig.dome import IndiDome
from indipyagents.rig.keeper import use_device
from indipysimulators.focus import WHEEL

PANEL = "Light Panel Simulator"
DOME = "Dome Simulator"
WATCHDOG_PROGRAM = str(Path(sys.executable).with_name("indipy_agent_watchdog"))


def shutter_open(client: indipyclient.Client) -> bool:
    shutter = client.devices.vector(DOME, "DOME_SHUTTER")
    return shutter is not None and shutter["SHUTTER_OPEN"] == "On"


@pytest.mark.parametrize("watchdog", [False, True], ids=["no watchdog", "guarded by a watchdog"])
async def test_panel_flats_go_on_while_unsafe_with_the_dome_closed(tmp_path: Path,
                                                                   watchdog: bool) -> None:
    plan = night("unsafe flats", target("Flats", Batch(1, 0.2, "Red"),
                                        Batch(2, 1.0, "Red", frame_type="Flat", adu=20000)),
                 folder="night", camera=CCD, safety=Safety(sky_free_while_unsafe=True))
    plan = replace(plan, devices=Devices(camera=CCD, wheel=WHEEL, dome=DOME, panel=PANEL))
    async with hosted(tmp_path, CCD_PROGRAM, FOCUS_PROGRAM, "indi_simulator_lightpanel",
                      "indi_simulator_dome", *([WATCHDOG_PROGRAM] if watchdog else [])) as rig:
        client = rig.client
        if watchdog:  # its ACTIVE_DOME (by default indilib's dome simulator) is guarded
            active = await client.wait_for("WatchDog", "ACTIVE_DEVICES", timeout=20)
            assert active["ACTIVE_DOME"] == DOME
        await use_device(client, DOME)  # connected, as the night will
        await client.wait_for(DOME, "DOME_SHUTTER", timeout=20)
        dome = IndiDome(client, DOME, timeout=60.0)
        await dome.unpark()
        await dome.close_shutter()
        assert not shutter_open(client)
        await client.set(AGENT, "AGENT_SAFETY_CAUSE", {"CAUSE": "rain"}, timeout=10)
        await client.set(AGENT, "AGENT_SAFETY", {"UNSAFE": "On"}, timeout=10)
        opened: list[int] = []  # flats on disk whenever the shutter was seen open

        async def watch() -> None:
            folder = rig.frames / "night"
            while True:
                if shutter_open(client):
                    opened.append(len([name for name in fits_files(folder)
                                       if "_Flat_" in name]) if folder.exists() else 0)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        try:
            await load_and_start(client, tmp_path, plan)
            folder = rig.frames / "night"

            def flats_only() -> bool:
                names = fits_files(folder) if folder.exists() else []
                return len(names) == 2 and all("_Flat_" in name for name in names)

            await until(flats_only, 120, lambda: f"two flats while unsafe: "
                        f"{fits_files(folder) if folder.exists() else []}")
            vector = client.devices.vector(AGENT, "SEQUENCE_STATE")
            assert vector is not None
            await until(lambda: (vector.state.value, vector.message) == (
                "Busy", "held: unsafe (rain)"), 30, lambda: f"held, not {vector.message}")
            assert opened == [] and not shutter_open(client)
            await client.set(AGENT, "AGENT_SAFETY", {"SAFE": "On"}, timeout=10)
            state, message = await sequence_ends(client, 180)
        finally:
            watcher.cancel()
        assert state == "Ok", message
        assert sorted(fits_files(folder)) == ["flats/Red/Flats_Red_Flat_001.fits",
                                              "flats/Red/Flats_Red_Flat_002.fits",
                                              "lights/Red/Flats_Red_Light_001.fits"]
        assert opened and set(opened) == {2}  # opened only for the light, after the flats
