"""Issue 80 items 2 and 6: ``indipy_agent_astrometry`` as an executable driver under
indilib's ``indiserver``, beside indilib's telescope and CCD simulators (the CCD drawing the
real sky with our ``gsc``), told its server by INDIPY_AGENT_SERVER as indiserver passes no
arguments; it solves the CCD's frame to where the telescope points; and indipy-driverxml lists
it under Agent."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import executable_folder
from astrokit import AGENT
from astrokit import TARGET
from astrokit import Sky
from peers import LOADED
from peers import IndiServer
from peers import driver_path
from peers import free_port
from waiting import until

import indipyclient
from indipyagents.astrometry.wcs import separation
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipyserver.driverxml import group_of
from indipyserver.driverxml import read_driver_info

EXECUTABLE = "indipy_agent_astrometry"



@pytest.mark.timeout(600)
async def test_the_executable_under_indiserver_solves_indilibs_ccd(
        indiserver_factory: Callable[..., IndiServer], tmp_path: Path) -> None:
    port = free_port()
    folder = executable_folder(tmp_path, EXECUTABLE, "indipyagents.astrometry.main")
    env = {"PATH": folder + os.pathsep + driver_path(),
           "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           "INDIPY_AGENT_SERVER": f"127.0.0.1:{port}"}
    indiserver = indiserver_factory(EXECUTABLE, "indi_simulator_telescope",
                                    "indi_simulator_ccd", port=port, env=env)
    async with indipyclient.connect("127.0.0.1", indiserver.port) as client:
        rig = Sky(client, indiserver.port)
        for device in ("Telescope Simulator", "CCD Simulator"):
            await client.wait_for(device, "CONNECTION", timeout=30)
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(AGENT, "AGENT_START_PROCESS", timeout=30)
        await client.wait_for(AGENT, "ACTIVE_DEVICES", timeout=30)  # defined after it
        # indilib's defaults: ACTIVE_DEVICES names indilib's simulators.
        assert client.get(AGENT, "ACTIVE_DEVICES", "ACTIVE_CCD") == "CCD Simulator"
        assert client.get(AGENT, "ACTIVE_DEVICES", "ACTIVE_TELESCOPE") == "Telescope Simulator"
        await client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS", {"EXPOSURE": 1.0},
                         timeout=10)
        # indilib's CCD simulator draws through the guide scope by default (TELESCOPE_TYPE)
        # and writes the main one's focal length in its header: both at 430 mm, the default
        # field of 0.89 x 0.71 degrees, the frame's FOCALLEN is its scale.
        await client.set("Telescope Simulator", "TELESCOPE_INFO", {
            "TELESCOPE_APERTURE": 80, "TELESCOPE_FOCAL_LENGTH": 430, "GUIDER_APERTURE": 80,
            "GUIDER_FOCAL_LENGTH": 430}, timeout=10)
        await client.set("Telescope Simulator", "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        ra, dec = precess_from_j2000(*TARGET, datetime.now(UTC))
        await client.set("Telescope Simulator", "EQUATORIAL_EOD_COORD",
                         {"RA": ra, "DEC": dec}, timeout=10)
        await until(lambda: rig.state("Telescope Simulator", "EQUATORIAL_EOD_COORD") == "Ok",
                    timeout=120)
        state, message = await rig.start("SOLVE")
        assert state == "Ok", message
        solved = (rig.number(AGENT, "AGENT_PLATESOLVER_WCS", "RA"),
                  rig.number(AGENT, "AGENT_PLATESOLVER_WCS", "DEC"))
        reported = precess_to_j2000(
            rig.number("Telescope Simulator", "EQUATORIAL_EOD_COORD", "RA"),
            rig.number("Telescope Simulator", "EQUATORIAL_EOD_COORD", "DEC"),
            datetime.now(UTC))
        assert separation(*solved, *reported) < 60, (solved, reported)


async def test_driverxml_lists_it_under_agent(tmp_path: Path) -> None:
    path = Path(executable_folder(tmp_path, EXECUTABLE, 'indipyagents.astrometry.main')) / EXECUTABLE
    entries = await read_driver_info(str(path), timeout=LOADED)
    assert [(e.label, e.name) for e in entries] == [(AGENT, AGENT)]
    assert group_of(entries[0].interface, entries[0].exec) == "Agent"
