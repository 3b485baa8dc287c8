"""pyindi-client programs run unchanged on our pure-Python ``PyIndi``, against indilib's telescope
and CCD simulators served by indilib's ``indiserver`` and by our server (``python -m
indipyserver`` running the same executables).

Each program in ``pyindi_scripts/`` is written as pyindi-client users write them (our own code)
and prints what it saw; the tests run it as its own process and check those lines.

Protects: connecting, listing devices and properties (a missing property or device is falsy);
connecting a camera, exposing and receiving the FITS twice (``getblobdata()``, sizes); slewing
a mount and waiting while Busy on the live property; toggling switches both ways; receiving a
device's messages; a callback that raises is logged and the client goes on; a 1.x program's
``newSwitch``/``newNumber`` with the struct fields; the server going away
(``serverDisconnected(-1)``, not connected, no devices) and ``connectServer()`` working again
once it is back, then ``serverDisconnected(0)`` after ``disconnectServer()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import IndiServer, driver_path, find_binary, free_port, terminate, wait_listening

SCRIPTS = Path(__file__).resolve().parent / "pyindi_scripts"
DRIVERS = ("indi_simulator_telescope", "indi_simulator_ccd")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """A server of the simulators on ``port``; ``stop()`` and ``start()`` it again on the
    same port."""

    port: int
    start: Callable[[], None]
    stop: Callable[[], None]


class OurServer:
    """``python -m indipyserver`` running the simulators as executables, on a fixed port."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        home = self.workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(home), "PATH": driver_path()}
        with (self.workdir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "indipyserver", "--host", "127.0.0.1", "-p",
                 str(self.port), *DRIVERS],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        if not wait_listening(self.process, self.port, 20):
            self.stop()
            pytest.fail(f"our server did not listen on {self.port}:\n"
                        f"{(self.workdir / 'server.log').read_text()[-3000:]}", pytrace=False)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process, 10)
            self.process = None


@pytest.fixture(params=["indiserver", "indipyserver"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    """The simulators behind indilib's indiserver, then behind ours."""
    for driver in DRIVERS:
        find_binary(driver)
    if request.param == "indiserver":
        first = IndiServer(*DRIVERS, workdir=tmp_path / "indiserver").start()
        port = first.port
        servers = [first]

        def start() -> None:
            servers.append(IndiServer(*DRIVERS, workdir=tmp_path / f"indiserver{len(servers)}",
                                      port=port).start())

        def stop() -> None:
            servers[-1].stop()

        try:
            yield Served(port, start, stop)
        finally:
            for server in servers:
                server.stop()
    else:
        ours = OurServer(tmp_path, free_port())
        ours.start()
        try:
            yield Served(ours.port, ours.start, ours.stop)
        finally:
            ours.stop()


def script_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "client-home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "HOME": str(home), "PYTHONPATH": path}


def run_script(name: str, port: int, tmp_path: Path, python: str = sys.executable,
               timeout: float = 120) -> list[str]:
    """Run one program to its end; its stdout lines (it must exit 0)."""
    result = subprocess.run([python, str(SCRIPTS / name), "127.0.0.1", str(port)],
                            check=False, capture_output=True, text=True, timeout=timeout,
                            cwd=SCRIPTS,
                            env=script_env(tmp_path))
    assert result.returncode == 0, (f"{name} exited {result.returncode}\n--- stdout ---\n"
                                    f"{result.stdout}\n--- stderr ---\n{result.stderr[-4000:]}")
    return result.stdout.splitlines()


def test_lists_devices_and_properties(served: Served, tmp_path: Path) -> None:
    """The README lister: both simulators with their interface bits, DRIVER_INFO and
    CONNECTION read through the generic and the typed properties; missing things falsy."""
    lines = run_script("list_devices.py", served.port, tmp_path)
    assert lines[:2] == ["host 127.0.0.1 port True", "connected True True"]
    assert "device CCD Simulator interface 22 True" in lines
    assert "device Telescope Simulator interface 5 True" in lines
    assert lines.count("  CONNECTION INDI_SWITCH rw OneOfMany Main Control 2") == 2
    assert lines.count("    DISCONNECT Disconnect On") == 2
    assert "    DRIVER_EXEC indi_simulator_ccd" in lines
    assert "    DRIVER_EXEC indi_simulator_telescope" in lines
    assert lines[-4:] == ["missing number falsy True", "wrong kind falsy True",
                          "generic to typed True False", "missing device falsy True"]


def test_camera_exposes_and_receives_the_fits(served: Served, tmp_path: Path) -> None:
    """The tutorial camera: connected through CONNECTION, B_ALSO on CCD1, two exposures each
    delivering a FITS (the second needs the pingReply the library answers)."""
    lines = run_script("camera.py", served.port, tmp_path)
    assert lines == [
        "connected True",
        "ccd connected True",
        "blob mode True",
        "shot 1 CCD1 .fits size True bloblen == size True FITS True old spelling True",
        "shot 2 CCD1 .fits size True bloblen == size True FITS True old spelling True",
        "exposure state Ok",
    ]


def test_mount_slews_and_the_live_property_follows(served: Served, tmp_path: Path) -> None:
    """The tutorial mount: TRACK, a slew sent with setValue and the 1.x ``value =``, and the
    program's own property object going Busy then Ok at the target."""
    lines = run_script("telescope.py", served.port, tmp_path)
    assert lines == ["connected True", "mount connected True", "slew state Ok",
                     "at ra True dec True", "track TRACK 0"]


def test_switches_toggle_both_ways(served: Served, tmp_path: Path) -> None:
    """DEBUG toggled through the property object (reset, setState, sendNewSwitch) and through
    sendNewSwitch(device, property, element); the driver's answers update the same object."""
    lines = run_script("switches.py", served.port, tmp_path)
    assert lines == [
        "connected True",
        "rule True OneOfMany",
        "DEBUG Idle [('ENABLE', 0), ('DISABLE', 1)]",
        "DEBUG Ok [('ENABLE', 1), ('DISABLE', 0)]",
        "DEBUG Ok [('ENABLE', 0), ('DISABLE', 1)]",
        "DEBUG Ok [('ENABLE', 0), ('DISABLE', 1)]",
    ]


def test_device_messages_arrive(served: Served, tmp_path: Path) -> None:
    """newMessage(device, id) with the text at messageQueue(id), prefixed by its timestamp."""
    lines = run_script("messages.py", served.port, tmp_path)
    assert lines == ["connected True", "message [INFO] Telescope simulator is online.",
                     "stamped True", "last message has text True"]


def test_a_monitor_sees_only_its_watched_device(served: Served, tmp_path: Path) -> None:
    """watchDevice before connecting: only that device reaches getDevices() and the callbacks;
    PropertySwitch(p) kept from newProperty stays live and sendNewProperty connects it."""
    lines = run_script("monitor.py", served.port, tmp_path)
    assert lines == ["connected True", "connection CONNECT Ok",
                     "devices ['Telescope Simulator'] ['Telescope Simulator']",
                     "ccd unknown True", "connection DISCONNECT"]


def test_a_raising_callback_is_logged_and_the_client_goes_on(served: Served,
                                                             tmp_path: Path) -> None:
    """newProperty raises every time: each is logged (stderr) and the next event still comes."""
    result = subprocess.run([sys.executable, str(SCRIPTS / "callback_raises.py"), "127.0.0.1",
                             str(served.port)], check=False, capture_output=True, text=True,
                            timeout=120,
                            cwd=SCRIPTS, env=script_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.splitlines() == ["connected True", "went on after raising True True"]
    assert "RuntimeError: a bug in the program's newProperty for CONNECTION" in result.stderr


def test_a_1x_program_gets_its_legacy_callbacks(served: Served, tmp_path: Path) -> None:
    """newSwitch/newNumber (and no updateProperty) get each set once, with the struct fields."""
    lines = run_script("legacy_callbacks.py", served.port, tmp_path)
    assert lines == ["connected True", "newSwitch [('ENABLE', 1), ('DISABLE', 0)]",
                     "newSwitch [('ENABLE', 0), ('DISABLE', 1)]",
                     "struct fields POLLING_PERIOD True 1 PERIOD_MS True True"]


def test_the_server_going_away_is_reported_and_reconnecting_works(served: Served,
                                                                  tmp_path: Path) -> None:
    """Stop the server under a connected program: serverDisconnected(-1), not connected, no
    devices; start it again: connectServer() succeeds and the devices come back; then
    disconnectServer() reports serverDisconnected(0)."""
    seen: list[str] = []
    with subprocess.Popen([sys.executable, str(SCRIPTS / "server_goes_away.py"), "127.0.0.1",
                           str(served.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=SCRIPTS, env=script_env(tmp_path)) as process:
        try:
            assert process.stdin is not None
            assert process.stdout is not None and process.stderr is not None
            for line in process.stdout:
                seen.append(line.rstrip("\n"))
                if line.startswith("READY"):
                    served.stop()
                elif line.startswith("still connected"):
                    served.start()
                    process.stdin.write("the server is back\n")
                    process.stdin.flush()
            process.wait(timeout=60)
            assert process.returncode == 0, "\n".join(seen) + process.stderr.read()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
    assert seen == [
        "connected True",
        "READY",
        "serverDisconnected [-1]",
        "still connected False devices 0",
        "connected again True",
        "AGAIN",
        "serverDisconnected [-1, 0] connected False",
    ]
