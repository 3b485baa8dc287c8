"""Issue 81 item 2, how the Guider Agent is hosted by our server: ``indipyserver
indipyagents.guider`` (with our simulators, by module name on its command line) serves it
in-process, and it calibrates and guides through its INDI face; the executable
``indipy_agent_guider`` run by our server as a driver of its own (told the server's address by
INDIPY_AGENT_SERVER and its PHD2 port by INDIPY_PHD2_PORT, as under indilib's indiserver:
tests/agents/guider/test_guider_executable.py) calibrates and guides for a PHD2 client.
(``--indi-host``/``--indi-port``, the agent serving itself: bench/guider.py and its smoke test,
tests/bench/test_guider_bench.py.)"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
from agentkit import executable_folder
from guiderkit import QUICK
from guiderkit import field_now
from guiderkit import phd2_guides_once
from peers import ServingProgram
from peers import free_port
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents import defaults
from indipyserver.cli import parse_args
from indipysimulators import guidecamera
from indipysimulators import telescope

AGENT = "Guider Agent"
MOUNT = telescope.DEVICE
EXECUTABLE = "indipy_agent_guider"
PHD2_DEFAULT = 4400


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
        return True


async def point_at_the_field(client: indipyclient.Client) -> None:
    """The agent told our simulators' names, the mount tracking the field."""
    await client.wait_for(AGENT, "ACTIVE_DEVICES", timeout=30)
    await client.set(AGENT, "ACTIVE_DEVICES", {"ACTIVE_CCD": guidecamera.DEVICE,
                                               "ACTIVE_TELESCOPE": MOUNT}, timeout=10)
    await client.wait_for(MOUNT, "CONNECTION", timeout=30)
    await client.set(MOUNT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
    await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
    ra, dec = field_now()
    await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=120)


def test_the_module_is_named_on_indipyservers_command_line() -> None:
    options = parse_args(["indipyagents.guider", "indipysimulators.telescope"])
    assert options.modules == ["indipyagents.guider", "indipysimulators.telescope"]


@pytest.mark.timeout(600)
async def test_indipyserver_serves_the_guider_by_module_name_and_it_guides(
        tmp_path: Path) -> None:
    port = free_port()
    phd2_was_free = port_free(PHD2_DEFAULT)
    program = ServingProgram([sys.executable, "-m", "indipyserver", "indipyagents.guider",
                              "indipysimulators.telescope", "indipysimulators.guidecamera",
                              "-p", str(port), "--no-announce"], port, tmp_path)
    try:
        await asyncio.to_thread(program.wait_listening, 30)
        async with indipyclient.connect("127.0.0.1", port) as client:
            await client.wait_for(AGENT, "ACTIVE_DEVICES", timeout=30)
            # its defaults are indilib's simulators' (the one table); ours are named below,
            # as the night guide names them
            assert client.get(AGENT, "ACTIVE_DEVICES", "ACTIVE_CCD") == defaults.GUIDE_CAMERA
            assert client.get(AGENT, "ACTIVE_DEVICES", "ACTIVE_TELESCOPE") == defaults.MOUNT
            await point_at_the_field(client)
            if phd2_was_free:  # PHD2's own port, as PHD2 (else another program holds it)
                await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT"))
                            == PHD2_DEFAULT, timeout=20)
            await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
            await client.set(AGENT, "AGENT_START_PROCESS", {"CALIBRATION": "On"}, wait=False)
            await until(lambda: client.vector(AGENT, "AGENT_START_PROCESS").state.value
                        in ("Ok", "Alert"), 300, "calibrated and settled")
            started = client.vector(AGENT, "AGENT_START_PROCESS")
            assert started.state.value == "Ok", started.message
            assert client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Guiding"
            await client.set(AGENT, "AGENT_ABORT_PROCESS", {"ABORT": "On"}, wait=False)
            await until(lambda: client.get(AGENT, "AGENT_GUIDER_STATE", "STATE") == "Stopped",
                        30, "stopped")
    finally:
        program.kill()


@pytest.mark.timeout(600)
async def test_the_executable_under_our_server_guides_for_a_phd2_client(
        tmp_path: Path) -> None:
    port, phd2_port = free_port(), free_port()
    folder = executable_folder(tmp_path, EXECUTABLE, "indipyagents.guider.main")
    served = server(telescope.make_driver(50.0), guidecamera.make_driver(), port=port)
    served.add_exdriver(str(Path(folder) / EXECUTABLE), max_restarts=0, env={
        "INDIPY_AGENT_SERVER": f"127.0.0.1:{port}", "INDIPY_PHD2_PORT": str(phd2_port),
        "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    async with running(served), indipyclient.connect("127.0.0.1", port) as client:
        await client.wait_for(AGENT, "AGENT_GUIDER_PHD2", timeout=60)
        await until(lambda: float(client.get(AGENT, "AGENT_GUIDER_PHD2", "PORT")) == phd2_port,
                    timeout=30)
        await point_at_the_field(client)
        await client.set(AGENT, "AGENT_GUIDER_SETTINGS", QUICK, timeout=10)
        await phd2_guides_once(phd2_port, client, calibration=300)
