"""The guider's pixel scale, asked the moment after a connect, waits for a camera that says
its pixel size late (issue 90 item 4).

indilib's CCD defines CCD_INFO with zeros on a connect and sets the size a moment later. The
guider read it at once: PHD2's get_pixel_scale answered null, and a calibration begun then
sized its steps from a guessed 2.5"/px. Here a driver defines CCD_INFO with zeros and
TELESCOPE_INFO at once, and sets the pixel size `LATE` seconds later.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from serverkit import number_set
from serverkit import running
from serverkit import script_constants
from serverkit import server
from serverkit import stdio_driver

from indipyagents.guider.face import GuiderFace
from indipyagents.guider.phd2methods import Phd2Methods
from indipyagents.guider.session import Session
from indipyagents.link import AgentLink
from indipycore.protocol import DefNumberVector
from indipycore.protocol import DefSwitchVector
from indipycore.protocol import Number
from indipycore.protocol import Perm
from indipycore.protocol import Rule
from indipycore.protocol import State
from indipycore.protocol import Switch
from indipycore.protocol import SwitchState
from indipycore.protocol import serialise

DEVICE = "Late Pixel"
LATE = 1.0  # seconds between CCD_INFO's definition (zeros) and its pixel size
PIXEL, FOCAL = 5.2, 430.0


def late_pixel_camera(folder: Path) -> str:
    """An executable driver of `DEVICE` (camera and mount in one), connected: CONNECTION,
    TELESCOPE_INFO and CCD_INFO (zeros) at the first getProperties, CCD_INFO's size `LATE` s
    after; at a later getProperties (another client's), all of them as they are then, as
    indilib's CCD defines them again."""
    def defined(size: tuple[int, int, float]) -> bytes:
        return b"".join(serialise(vector) for vector in (
            DefSwitchVector(DEVICE, "CONNECTION", State.OK, Perm.RW, Rule.ONE_OF_MANY, (
                Switch("CONNECT", SwitchState.ON), Switch("DISCONNECT", SwitchState.OFF))),
            DefNumberVector(DEVICE, "TELESCOPE_INFO", State.OK, Perm.RW, (
                Number("TELESCOPE_APERTURE", "80", format="%.0f", min="0", max="5000", step="0"),
                Number("TELESCOPE_FOCAL_LENGTH", str(FOCAL), format="%.0f", min="0", max="10000",
                       step="0"))),
            DefNumberVector(DEVICE, "CCD_INFO", State.IDLE, Perm.RO, (
                Number("CCD_MAX_X", str(size[0]), format="%.0f", min="0", max="16000", step="0"),
                Number("CCD_MAX_Y", str(size[1]), format="%.0f", min="0", max="16000", step="0"),
                Number("CCD_PIXEL_SIZE", str(size[2]), format="%.2f", min="0", max="40",
                       step="0")))))
    said = number_set(DEVICE, "CCD_INFO", {"CCD_MAX_X": 1280, "CCD_MAX_Y": 1024,
                                           "CCD_PIXEL_SIZE": PIXEL}, state=State.OK)
    path = folder / "late_pixel.py"
    path.write_text(f"#!{sys.executable}\n" + stdio_driver(
        """
        if told:
            os.write(1, KNOWN)
        else:
            os.write(1, EARLY)
            time.sleep(LATE)
            os.write(1, SAID)
            told = True
        """,
        setup="import time\ntold = False\n" + script_constants(
            EARLY=defined((0, 0, 0)), SAID=said, KNOWN=defined((1280, 1024, PIXEL)),
            LATE=LATE)))
    path.chmod(0o755)
    return str(path)


async def test_the_pixel_scale_asked_after_a_connect_waits_for_a_late_pixel_size(
        tmp_path: Path) -> None:
    """Asked once the driver has defined CCD_INFO with zeros, the session's pixel scale and
    PHD2's get_pixel_scale are 206.26 x pixel / focal length, not None (before: None, read
    at once)."""
    served = server()
    served.add_exdriver(late_pixel_camera(tmp_path), max_restarts=0)
    async with running(served):
        link = AgentLink("127.0.0.1", served.port)
        session = Session(link, GuiderFace(DEVICE, DEVICE))
        try:
            client = await session.client()
            await client.wait_for(DEVICE, "CCD_INFO", timeout=10)
            await session.connect()
            assert client.get(DEVICE, "CCD_INFO", "CCD_PIXEL_SIZE") == 0  # still on its way
            expected = pytest.approx(206.264806 * PIXEL / FOCAL)
            assert await session.pixel_scale() == expected
            assert await Phd2Methods(session).call("get_pixel_scale", {}) == expected
        finally:
            await link.close()
