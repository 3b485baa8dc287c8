"""examples/snooping_dome.py: the in-process dome follows indilib's telescope simulator run
by our server as an executable driver."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import peers
import pytest
import snooping_dome
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value
from waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_azimuth_of_the_celestial_pole_and_meridian() -> None:
    """The azimuth formula: the north celestial pole is due north, a southern star on the
    meridian is due south, one an hour west of it is south-west of south."""
    pole = snooping_dome.azimuth_deg(3.0, 89.999, 45.0, 3.0)
    assert min(pole, 360.0 - pole) < 1e-6
    assert abs(snooping_dome.azimuth_deg(6.0, -20.0, 45.0, 6.0) - 180.0) < 1e-6
    assert 180.0 < snooping_dome.azimuth_deg(5.0, -20.0, 45.0, 6.0) < 270.0


async def test_dome_follows_the_telescope_it_snoops(tmp_home: Path) -> None:
    """After the telescope is synced to RA 5.5 h DEC -20, Dome.TELESCOPE shows the same
    position (received by snooping through our server) and the dome azimuth is Ok."""
    port = free_port()
    async with serving(snooping_dome.make_server("127.0.0.1", port), ports=[port]):
        await wait_for_value(port, "Telescope Simulator.CONNECTION.CONNECT", lambda v: v != "",
                             timeout=20)
        await setprop(port, "Telescope Simulator.CONNECTION.CONNECT=On")
        await setprop(port, "Telescope Simulator.ON_COORD_SET.SYNC=On")
        await setprop(port, "Telescope Simulator.EQUATORIAL_EOD_COORD.RA;DEC=5.5;-20")
        await wait_for_value(port, "Dome.TELESCOPE.DEC", lambda v: abs(float(v) + 20) < 0.01)
        await wait_for_value(port, "Dome.TELESCOPE.RA", lambda v: abs(float(v) - 5.5) < 0.01)
        values = await getprop(port, "Dome.DOME_AZIMUTH.AZ", "Dome.DOME_AZIMUTH._STATE")
    assert 0.0 <= float(values["Dome.DOME_AZIMUTH.AZ"]) < 360.0
    assert values["Dome.DOME_AZIMUTH._STATE"] == "Ok"


@pytest.mark.parametrize("how", ["script", "indipyserver"])
def test_under_v_it_logs_where_the_dome_turns_without_a_traceback(
        tmp_home: Path, how: str) -> None:
    """Issue 58, 4b: run as its docstring says (``python examples/snooping_dome.py -v``), or
    as docs/guides/command_line.rst does (``indipyserver -v indi_simulator_telescope
    examples/snooping_dome.py``), following a telescope that moves, the dome logs each
    azimuth as a number. It once formatted ``dome["AZ"]`` (a string, as in indipydriver 3.x)
    with ``%.1f``: every update wrote a logging traceback instead."""
    port = peers.free_port()
    dome = str(EXAMPLES / "snooping_dome.py")
    args = ([sys.executable, dome, "--port", str(port), "-v"] if how == "script" else
            [sys.executable, "-m", "indipyserver", "-v", "-p", str(port),
             "indi_simulator_telescope", dome])
    script = peers.ServingProgram(args, port, tmp_home,
                                  env={"PYTHONPATH": os.pathsep.join(sys.path),
                                       "PATH": peers.driver_path()})
    try:
        script.wait_listening()
        wait_for(lambda: peers.getprop(port, "Telescope Simulator.CONNECTION.CONNECT")
                 .get("Telescope Simulator.CONNECTION.CONNECT"), 20, "the telescope's CONNECT",
                 interval=0.3)
        peers.setprop(port, "Telescope Simulator.CONNECTION.CONNECT=On")
        peers.setprop(port, "Telescope Simulator.ON_COORD_SET.SYNC=On")
        peers.setprop(port, "Telescope Simulator.EQUATORIAL_EOD_COORD.RA;DEC=5.5;-20")
        azimuth = re.compile(r"telescope at RA 5\.5\d* DEC -20\.0\d*: dome to azimuth \d+\.\d\b")
        wait_for(lambda: azimuth.search(script.stderr()), 20,
                 lambda: f"the azimuth logged; stderr: {script.stderr()[-2000:]}", interval=0.2)
    finally:
        code, _, err = script.ctrl_c()
    assert code == 0, err[-2000:]
    assert "Traceback" not in err and "Logging error" not in err, err[-3000:]
