"""Issue 81 item 2, "the executable ``indipy_agent_guider`` (under indilib's ``indiserver``
too)": indilib's ``indiserver`` (on a free port) runs our executable beside indilib's
telescope and CCD simulators (the CCD drawing the real sky with our ``gsc``); told its INDI
server by INDIPY_AGENT_SERVER and its PHD2 port by INDIPY_PHD2_PORT, as indiserver passes no
arguments. A PHD2 client has it calibrate and guide on indilib's CCD (pulses through its ST4
port, the one indilib's CCD simulator renders) with indilib's mount for the pier side and the
guide rate."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from pathlib import Path

import pytest
from agentkit import executable_folder
from guiderkit import phd2_guides_once
from peers import IndiServer
from peers import driver_path
from peers import free_port
from waiting import until

import indipyclient
from indipycore.astro import precess_from_j2000

EXECUTABLE = "indipy_agent_guider"
AGENT = "Guider Agent"
MOUNT = "Telescope Simulator"
CCD = "CCD Simulator"
#: The Double Cluster (J2000): rich in stars, above Greenwich's horizon at any hour.
TARGET = (2.35, 57.14)



@pytest.mark.timeout(600)
async def test_the_executable_under_indiserver_guides_indilibs_ccd(
        indiserver_factory: Callable[..., IndiServer], tmp_path: Path) -> None:
    port, phd2_port = free_port(), free_port()
    folder = executable_folder(tmp_path, EXECUTABLE, "indipyagents.guider.main")
    env = {"PATH": folder + os.pathsep + driver_path(),
           "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
           "INDIPY_AGENT_SERVER": f"127.0.0.1:{port}", "INDIPY_PHD2_PORT": str(phd2_port)}
    indiserver = indiserver_factory(EXECUTABLE, "indi_simulator_telescope",
                                    "indi_simulator_ccd", port=port, env=env)
    async with indipyclient.connect("127.0.0.1", indiserver.port) as client:
        for device in (MOUNT, CCD):
            await client.wait_for(device, "CONNECTION", timeout=30)
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(AGENT, "AGENT_GUIDER_PHD2", timeout=30)
        await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT"))
                    == phd2_port, timeout=30)
        await client.set(AGENT, "ACTIVE_DEVICES", {"ACTIVE_CCD": CCD, "ACTIVE_TELESCOPE": MOUNT,
                                                   "ACTIVE_GUIDER": CCD}, timeout=10)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", {"EXPOSURE": 1.0}, timeout=10)
        await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
        ra, dec = precess_from_j2000(*TARGET, datetime.now(UTC))
        await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=10)
        await until(lambda: client.devices.vector(MOUNT, "EQUATORIAL_EOD_COORD") is not None
                    and client.devices.vector(MOUNT, "EQUATORIAL_EOD_COORD").state.value == "Ok",
                    timeout=120)

        await phd2_guides_once(phd2_port, client)
