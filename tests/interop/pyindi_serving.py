"""Serving indilib's simulators for the PyIndi tests, and running the pyindi-client-style
programs of ``pyindi_scripts/`` as processes (under our PyIndi or another Python's, such as the
real pyindi-client's venv)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from peers import IndiServer, driver_path, find_binary, free_port, terminate, wait_listening

SCRIPTS = Path(__file__).resolve().parent / "pyindi_scripts"
DRIVERS = ("indi_simulator_telescope", "indi_simulator_ccd")


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


@contextlib.contextmanager
def simulators(kind: str, workdir: Path) -> Iterator[Served]:
    """The telescope and CCD simulators behind indilib's indiserver (``kind`` "indiserver")
    or ours ("indipyserver"), stopped at the end whatever happens."""
    for driver in DRIVERS:
        find_binary(driver)
    if kind == "indiserver":
        first = IndiServer(*DRIVERS, workdir=workdir / "indiserver").start()
        port = first.port
        servers = [first]

        def start() -> None:
            servers.append(IndiServer(*DRIVERS, workdir=workdir / f"indiserver{len(servers)}",
                                      port=port).start())

        def stop() -> None:
            servers[-1].stop()

        try:
            yield Served(port, start, stop)
        finally:
            for server in servers:
                server.stop()
    else:
        ours = OurServer(workdir, free_port())
        ours.start()
        try:
            yield Served(ours.port, ours.start, ours.stop)
        finally:
            ours.stop()


def script_env(tmp_path: Path) -> dict[str, str]:
    """The programs' environment: a HOME of their own, and no PYTHONPATH, so that the Python
    running them decides which ``PyIndi`` they import (ours, installed in the test venv, or the
    real pyindi-client in its own venv)."""
    home = tmp_path / "client-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    env.pop("PYTHONPATH", None)
    return env


def run_program(name: str, port: int, tmp_path: Path, python: str = sys.executable,
                timeout: float = 120, extra: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """Run one program to its end, whatever its exit status (``extra``: more arguments)."""
    return subprocess.run([python, str(SCRIPTS / name), "127.0.0.1", str(port), *extra],
                          check=False, capture_output=True, text=True, timeout=timeout,
                          cwd=SCRIPTS, env=script_env(tmp_path))


def run_script(name: str, port: int, tmp_path: Path, python: str = sys.executable,
               timeout: float = 120, extra: Sequence[str] = ()) -> list[str]:
    """Run one program to its end; its stdout lines (it must exit 0)."""
    result = run_program(name, port, tmp_path, python, timeout, extra)
    assert result.returncode == 0, (f"{name} exited {result.returncode}\n--- stdout ---\n"
                                    f"{result.stdout}\n--- stderr ---\n{result.stderr[-4000:]}")
    return result.stdout.splitlines()


