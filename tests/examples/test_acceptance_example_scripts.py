"""Acceptance (issue 5): every example runs *as its docstring tells a user to run it*.

The other example tests drive each example's factory in-process; these run the scripts
themselves (`python examples/<name>.py --port P ...`) and the chain example's command-line form
(`indipyserver ... "Dome Simulator"@host:port @host:port`), so a broken `main()`, argument
parser or documented command fails a test. Each script must serve its devices to indilib's
`indi_getprop` and stop on Ctrl-C (SIGINT) with exit code 0 and no traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import peers
import pytest
from waiting import wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def scripts(tmp_home: Path) -> Iterator[list[peers.ServingProgram]]:
    started: list[peers.ServingProgram] = []
    yield started
    for script in started:
        script.kill()


def _start(scripts: list[peers.ServingProgram], args: list[str], port: int,
           cwd: Path) -> peers.ServingProgram:
    script = peers.ServingProgram(args, port, cwd, env={"PYTHONPATH": os.pathsep.join(sys.path)})
    scripts.append(script)
    return script.wait_listening()


def _wait_devices(port: int, *specs: str, timeout: float = 15.0) -> peers.GetpropResult:
    """indi_getprop until every spec has a value (remotes and simulators take a moment)."""
    last: list[peers.GetpropResult] = []

    def every_spec() -> peers.GetpropResult | None:
        last[:] = [peers.getprop(port, *specs, timeout=2)]
        return last[0] if all(spec in last[0] for spec in specs) else None

    return wait_for(every_spec, timeout, lambda: f"{specs}; last seen {dict(last[0])}",
                    interval=0.3)


def _stops_cleanly(script: peers.ServingProgram) -> None:
    code, _, err = script.ctrl_c()
    assert code == 0, err[-2000:]
    assert "Traceback" not in err, err[-2000:]


@pytest.mark.parametrize(
    ("example", "extra", "spec"),
    [
        ("thermostat.py", ["--interval", "0.5"], "Thermostat.SITE.FIRMWARE"),
        ("rpi_led.py", ["--mock"], "LED.LED_SWITCH.ON"),
        ("snooping_dome.py", [], "Dome.DOME_AZIMUTH.AZ"),
        ("third_party.py", [], "CCD Simulator.CONNECTION.CONNECT"),
        ("mount_simulator.py", [], "Python Mount.DRIVER_INFO.DRIVER_INTERFACE"),
        ("focuser_simulator.py", [], "Python Filter Wheel.DRIVER_INFO.DRIVER_INTERFACE"),
        ("weather_simulator.py", [], "Python Weather.DRIVER_INFO.DRIVER_INTERFACE"),
    ],
)
def test_example_script_serves_its_devices_and_stops_on_ctrl_c(
    scripts: list[peers.ServingProgram], tmp_home: Path, example: str, extra: list[str], spec: str
) -> None:
    port = peers.free_port()
    script = _start(scripts, [sys.executable, str(EXAMPLES / example), "--port", str(port),
                              *extra], port, tmp_home)
    _wait_devices(port, spec)
    _stops_cleanly(script)


def test_chain_from_the_command_line_with_device_at_host_and_whole_server_remotes(
    scripts: list[peers.ServingProgram], tmp_home: Path
) -> None:
    """The command-line form in examples/chain.py's docstring, on free ports:

        indipyserver -p EAST indi_simulator_dome
        indipyserver -p WEST indi_simulator_weather
        indipyserver -p ROOT "Dome Simulator"@localhost:EAST @localhost:WEST
    """
    peers.find_binary("indi_simulator_dome")
    peers.find_binary("indi_simulator_weather")
    root, east, west = peers.free_port(), peers.free_port(), peers.free_port()
    command = [sys.executable, "-m", "indipyserver"]
    leaves = [
        _start(scripts, [*command, "-p", str(east), "indi_simulator_dome"], east, tmp_home),
        _start(scripts, [*command, "-p", str(west), "indi_simulator_weather"], west, tmp_home),
    ]
    top = _start(scripts, [*command, "-p", str(root), f"Dome Simulator@localhost:{east}",
                           f"@localhost:{west}"], root, tmp_home)
    values = _wait_devices(root, "Dome Simulator.CONNECTION.CONNECT",
                           "Weather Simulator.CONNECTION.CONNECT")
    assert values["Dome Simulator.CONNECTION.CONNECT"] in ("On", "Off")
    for script in (top, *leaves):
        _stops_cleanly(script)
