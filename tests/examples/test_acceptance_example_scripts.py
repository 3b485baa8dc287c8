"""Acceptance (issue 5): every example runs *as its docstring tells a user to run it*.

The other example tests drive each example's factory in-process; these run the scripts
themselves (`python examples/<name>.py --port P ...`) and the chain example's command-line form
(`indipyserver ... "Dome Simulator"@host:port @host:port`), so a broken `main()`, argument
parser or documented command fails a test. Each script must serve its devices to indilib's
`indi_getprop` and stop on Ctrl-C (SIGINT) with exit code 0 and no traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import peers
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Script:
    """A child process started as a user would; stopped with Ctrl-C at the end of the test."""

    def __init__(self, args: list[str], port: int, cwd: Path) -> None:
        self.port = port
        self.process = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )

    def wait_listening(self, timeout: float = 20.0) -> None:
        if not peers.wait_listening(self.process, self.port, timeout):
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise AssertionError(f"{self.process.args} did not listen: {err.decode()[-2000:]}")

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C; the exit code and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate(timeout=10)
            raise AssertionError(f"{self.process.args} ignored Ctrl-C") from None
        return self.process.returncode, err.decode(errors="replace")


@pytest.fixture
def scripts(tmp_home: Path) -> Iterator[list[Script]]:
    started: list[Script] = []
    yield started
    for script in started:
        if script.process.poll() is None:
            script.process.kill()
            script.process.wait(timeout=10)


def _start(scripts: list[Script], args: list[str], port: int, cwd: Path) -> Script:
    script = Script(args, port, cwd)
    scripts.append(script)
    script.wait_listening()
    return script


def _wait_devices(port: int, *specs: str, timeout: float = 15.0) -> peers.GetpropResult:
    """indi_getprop until every spec has a value (remotes and simulators take a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        result = peers.getprop(port, *specs, timeout=2)
        if all(spec in result for spec in specs) or time.monotonic() > deadline:
            assert all(spec in result for spec in specs), result
            return result
        time.sleep(0.3)


def _stops_cleanly(script: Script) -> None:
    code, err = script.interrupt()
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
    scripts: list[Script], tmp_home: Path, example: str, extra: list[str], spec: str
) -> None:
    port = peers.free_port()
    script = _start(scripts, [sys.executable, str(EXAMPLES / example), "--port", str(port),
                              *extra], port, tmp_home)
    _wait_devices(port, spec)
    _stops_cleanly(script)


def test_chain_from_the_command_line_with_device_at_host_and_whole_server_remotes(
    scripts: list[Script], tmp_home: Path
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
