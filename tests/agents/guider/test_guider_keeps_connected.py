"""Issue 89 item 1, the guider: its guide camera and mount (our simulators
``indipy_simulator_guide`` and ``indipy_simulator_telescope``, executable drivers of our
server) are connected by the guider itself at its start, and again after their drivers are
killed and restarted by the server (which brings them back disconnected), with no client
setting CONNECT and no PHD2 client asking for frames."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from guiderkit import CAMERA
from guiderkit import MOUNT
from guiderkit import make_guider
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient

pytestmark = pytest.mark.timeout(60)

BIN = Path(sys.executable).parent
PROGRAMS = {CAMERA: str(BIN / "indipy_simulator_guide"),
            MOUNT: str(BIN / "indipy_simulator_telescope")}


async def test_the_guider_connects_its_camera_and_mount_again_after_their_drivers_restart(
) -> None:
    """Both connected from the start by the guider; both drivers SIGKILLed: once the server
    has restarted them, the guider says it connects each and both are connected again."""
    ours = server(make_guider(phd2_port=0))
    drivers = {device: ours.add_exdriver(program, max_restarts=2)
               for device, program in PROGRAMS.items()}
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:

        def connected() -> bool:
            return all(client.devices.vector(device, "CONNECTION") is not None
                       and client.get(device, "CONNECTION", "CONNECT") == "On"
                       for device in PROGRAMS)

        def said_since(start: int, text: str) -> bool:
            return any(text in message.message for message in list(client.messages)[start:])

        await until(connected, 20, "the camera and mount connected by the guider at start")
        before = len(client.messages)
        old = {device: driver.pid for device, driver in drivers.items()}
        for pid in old.values():
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
        await until(lambda: all(said_since(before, f"{device} is disconnected (its driver "
                                           "started or restarted): connecting it")
                                for device in PROGRAMS), 20,
                    lambda: f"the guider reconnecting both: "
                            f"{[m.message for m in list(client.messages)[before:]]}")
        await until(connected, 20, "the camera and mount connected again by the guider")
        assert all(driver.pid not in (None, old[device])
                   for device, driver in drivers.items())
