"""Drivers written the indipydriver 3.x way run here unchanged (issue 27).

The scripts in tests/driver/compat3x/ follow 3.x's documentation (first LED example, examples
1-4, the add_exdriver and add_remote snippets). Each is run as a user runs it, answered by
indilib's ``indi_getprop``/``indi_setprop``, checked to behave as the 3.x documentation says,
and stopped with Ctrl-C, after which it must have exited 0 with nothing on stderr. The drivers
also run as executable drivers under indilib's ``indiserver``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import peers
import pytest
from waiting import wait_for

HERE = Path(__file__).resolve().parent / "compat3x"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run(tmp_home: Path) -> Iterator[Callable[..., peers.ServingProgram]]:
    """Run a compat3x script as a user runs it (``script.py PORT ARGS``), serving; each is
    killed at teardown if it still runs."""
    started: list[peers.ServingProgram] = []

    def start(name: str, *args: str, port: int | None = None) -> peers.ServingProgram:
        port = port or peers.free_port()
        script = peers.ServingProgram(
            [sys.executable, str(HERE / name), str(port), *args], port, HERE,
            env={"PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])})
        started.append(script)
        return script.wait_listening()

    yield start
    for script in started:
        script.kill()


def stops_on_ctrl_c(script: peers.ServingProgram, *logged: str) -> str:
    """Ctrl-C ends the script with exit code 0 and nothing on stderr but the warnings the test
    provoked (each line containing one of `logged`); its stdout."""
    code, out, err = script.ctrl_c()
    assert code == 0, err[-2000:]
    unexpected = [line for line in err.splitlines() if not any(s in line for s in logged)]
    assert unexpected == [], err[-2000:]
    return out


def until(port: int, spec: str, wanted: Callable[[str], bool], timeout: float = 15.0) -> str:
    """indi_getprop `spec` until its value satisfies `wanted`; the value."""
    last = ""

    def value() -> str | None:
        nonlocal last
        last = peers.getprop(port, spec).get(spec, "")
        return last if wanted(last) else None

    try:
        found: str = wait_for(value, timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"{spec} = {last!r}") from None
    return found


def setprop(port: int, spec: str) -> None:
    result = peers.setprop(port, spec, timeout=5)
    assert result.returncode == 0, result.describe()


def test_first_example_led_is_switched_by_indi_setprop_through_its_wo_switch(
        run: Callable[..., peers.ServingProgram]) -> None:
    """3.x's first example declares its LED switch perm 'wo' (sent as 'rw', SPEC p.3), so
    indi_getprop shows it, and indi_setprop switches the LED on and off."""
    script = run("led.py")
    assert until(script.port, "led.ledvector.ledmember", bool) == "Off"
    perm = peers.getprop(script.port, "led.ledvector._PERM", timeout=20)
    assert perm.returncode == 0, perm.result.describe()
    assert perm["led.ledvector._PERM"] == "rw"
    setprop(script.port, "led.ledvector.ledmember=On")
    until(script.port, "led.ledvector.ledmember", lambda v: v == "On")
    setprop(script.port, "led.ledvector.ledmember=Off")
    until(script.port, "led.ledvector.ledmember", lambda v: v == "Off")
    out = stops_on_ctrl_c(script)
    assert "with indipydriver 0.1.0" in out  # ipd.version printed at start


def test_thermostat_reports_and_takes_a_target_as_written(run: Callable[..., peers.ServingProgram]) -> None:
    """Examples 1 and 2: the temperature is reported, a target set by indi_setprop is echoed
    as the client wrote it (15 stays "15"), and the temperature follows the target."""
    script = run("thermostat.py", "--fast")
    # Named, not Thermostat.*.* (a wildcard waits out its fixed timeout and says what came,
    # however late the script answers): indi_getprop ends as soon as both came.
    values = peers.getprop(script.port, "Thermostat.targetvector.target",
                           "Thermostat.targetvector._TO", timeout=20)
    assert values.returncode == 0, values.result.describe()
    assert values["Thermostat.targetvector.target"] == "15"  # membervalue=15, sent as 15
    assert values["Thermostat.targetvector._TO"] == "8"  # vector.timeout = 8, an int
    setprop(script.port, "Thermostat.targetvector.target=25")
    assert until(script.port, "Thermostat.targetvector.target", lambda v: v == "25") == "25"
    until(script.port, "Thermostat.temperaturevector.temperature", lambda v: float(v) > 21)
    refused = peers.setprop(script.port, "Thermostat.targetvector.target=150")
    assert refused.returncode == 0  # sent; the driver refuses it: outside -50..99
    wait_for(lambda: "target: 150 is outside min" in script.stderr(), what="the refusal logged")
    assert until(script.port, "Thermostat.targetvector.target", bool) == "25"
    # The refusal is logged (a warning: printed to stderr when logging is not configured).
    stops_on_ctrl_c(script, "Thermostat.targetvector.target: 150 is outside min -50 .. max 99")


def test_window_snooping_the_thermostat_closes_when_the_temperature_falls(
        run: Callable[..., peers.ServingProgram]) -> None:
    """Example 3: the window driver snoops the thermostat (a plain ``self.snoop(...)`` call);
    the temperature falls from 20 towards the target 15, and below 18 the window closes; a
    target of 25 warms the room and above 21 it opens again."""
    script = run("window.py", "--fast")
    until(script.port, "Window.windowstatus.status", lambda v: v == "Closed")
    temperature = peers.getprop(script.port, "Thermostat.temperaturevector.temperature",
                                timeout=20)
    assert temperature.returncode == 0, temperature.result.describe()
    assert float(temperature["Thermostat.temperaturevector.temperature"]) < 18
    setprop(script.port, "Thermostat.targetvector.target=25")
    until(script.port, "Window.windowstatus.status", lambda v: v == "Open", timeout=30)
    stops_on_ctrl_c(script)


def test_delegating_driver_runs_its_device_and_takes_a_target(
        run: Callable[..., peers.ServingProgram]) -> None:
    """Example 4: the driver hands events to its Device subclass's devrxevent and runs its
    devhardware in the background, which reports while ``not self.stop``."""
    script = run("delegate.py", "--fast")
    until(script.port, "Thermostat.temperaturevector.temperature", lambda v: float(v) < 20)
    setprop(script.port, "Thermostat.targetvector.target=12:30")  # sexagesimal, 12.5
    assert until(script.port, "Thermostat.targetvector.target",
                 lambda v: v != "15") == "12.5"
    stops_on_ctrl_c(script)


def test_add_exdriver_serves_indilib_simulators(run: Callable[..., peers.ServingProgram]) -> None:
    """The add_exdriver snippet: two indilib simulators, one with debug_enable."""
    peers.find_binary("indi_simulator_dome")
    script = run("exdrivers.py")
    until(script.port, "Dome Simulator.CONNECTION.CONNECT", bool)
    until(script.port, "Weather Simulator.CONNECTION.CONNECT", bool)
    setprop(script.port, "Dome Simulator.CONNECTION.CONNECT=On")
    until(script.port, "Dome Simulator.CONNECTION.CONNECT", lambda v: v == "On")
    out = stops_on_ctrl_c(script)
    assert "2 executable drivers" in out


def test_add_remote_serves_another_servers_devices_beside_its_own(
        run: Callable[..., peers.ServingProgram]) -> None:
    """The add_remote snippet (with debug_enable), and an awaited send_message."""
    far = run("led.py")
    near = run("remote.py", str(far.port))
    until(near.port, "led.ledvector.ledmember", bool)
    until(near.port, "remoteled.ledvector.ledmember", bool)
    setprop(near.port, "led.ledvector.ledmember=On")  # through the chain
    until(far.port, "led.ledvector.ledmember", lambda v: v == "On")
    out = stops_on_ctrl_c(near)
    assert "1 driver, 1 remote" in out
    stops_on_ctrl_c(far)


def _executable(tmp_path: Path, name: str, *args: str) -> str:
    """A wrapper indiserver can exec: runs the script with --stdio (and `args`)."""
    wrapper = tmp_path / f"compat3x_{Path(name).stem}"
    path = os.pathsep.join([str(ROOT), str(HERE)])
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={path} exec {sys.executable} "
                       f"{HERE / name} --stdio {' '.join(args)}\n")
    wrapper.chmod(0o755)
    return str(wrapper)


def test_the_drivers_run_as_executable_drivers_under_indiserver(
        tmp_path: Path, indiserver_factory: Callable[..., peers.IndiServer]) -> None:
    """Under indilib's indiserver (stdin/stdout): the LED switches, the thermostat takes a
    target, and the window, snooping through indiserver, closes as the room cools."""
    server = indiserver_factory(_executable(tmp_path, "led.py"),
                                _executable(tmp_path, "thermostat.py", "--fast"),
                                _executable(tmp_path, "window.py", "--fast"))
    until(server.port, "led.ledvector.ledmember", bool)
    setprop(server.port, "led.ledvector.ledmember=On")
    until(server.port, "led.ledvector.ledmember", lambda v: v == "On")
    until(server.port, "Window.windowstatus.status", lambda v: v == "Closed")
    setprop(server.port, "Thermostat.targetvector.target=25")
    until(server.port, "Thermostat.targetvector.target", lambda v: v == "25")
    until(server.port, "Window.windowstatus.status", lambda v: v == "Open", timeout=30)
    assert "Traceback" not in server.log_text(), server.log_tail()


def test_the_delegating_driver_runs_under_indiserver(
        tmp_path: Path, indiserver_factory: Callable[..., peers.IndiServer]) -> None:
    server = indiserver_factory(_executable(tmp_path, "delegate.py", "--fast"))
    setprop(server.port, "Thermostat.targetvector.target=18")
    until(server.port, "Thermostat.targetvector.target", lambda v: v == "18.0")
    assert "Traceback" not in server.log_text(), server.log_tail()
