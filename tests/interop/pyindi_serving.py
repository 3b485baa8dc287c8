"""Serving indilib's simulators for the PyIndi tests, and running the pyindi-client-style
programs of ``pyindi_scripts/`` as processes (under our PyIndi or another Python's, such as the
real pyindi-client's venv)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from peers import IndiServer
from peers import OurServer
from peers import find_binary

SCRIPTS = Path(__file__).resolve().parent / "pyindi_scripts"
DRIVERS = ("indi_simulator_telescope", "indi_simulator_ccd")


@dataclass
class Served:
    """A server of the simulators on ``port``; ``stop()`` and ``start()`` it again on the
    same port."""

    port: int
    start: Callable[[], None]
    stop: Callable[[], None]


@contextlib.contextmanager
def simulators(kind: str, workdir: Path) -> Iterator[Served]:
    """The telescope and CCD simulators behind indilib's indiserver (``kind`` "indiserver")
    or ours ("indipyserver"), stopped at the end whatever happens."""
    for driver in DRIVERS:
        find_binary(driver)
    server_class = IndiServer if kind == "indiserver" else OurServer
    # A stopped server is not started again: a new one takes its port, with its own folder.
    servers = [server_class(*DRIVERS, workdir=workdir / kind).start()]
    port = servers[0].port

    def start() -> None:
        servers.append(server_class(*DRIVERS, workdir=workdir / f"{kind}{len(servers)}",
                                    port=port).start())

    def stop() -> None:
        servers[-1].stop()

    try:
        yield Served(port, start, stop)
    finally:
        for server in servers:
            server.stop()


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


#: What the C++ runtime says when libindiclient's listener thread is destroyed still running:
#: the real pyindi-client sometimes aborts so as its program ends (after its last line).
_ABORT_AT_EXIT = "terminate called without an active exception"


def run_script(name: str, port: int, tmp_path: Path, python: str = sys.executable,
               timeout: float = 120, extra: Sequence[str] = (),
               reference: bool = False) -> list[str]:
    """Run one program to its end; its stdout lines (it must exit 0). ``reference``: it runs
    the real pyindi-client, whose abort as the program ends (SIGABRT, `_ABORT_AT_EXIT`) is its
    own known fault and is let pass; what it printed is still compared line by line."""
    result = run_program(name, port, tmp_path, python, timeout, extra)
    aborted_at_exit = (reference and result.returncode == -signal.SIGABRT
                       and _ABORT_AT_EXIT in result.stderr)
    assert result.returncode == 0 or aborted_at_exit, (
        f"{name} exited {result.returncode}\n--- stdout ---\n"
        f"{result.stdout}\n--- stderr ---\n{result.stderr[-4000:]}")
    return result.stdout.splitlines()




def run_going_away(served: Served, tmp_path: Path, python: str = sys.executable,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``server_goes_away.py`` against ``served``: stop the server when the program says
    ``READY``, start it again when it says ``still connected ...`` and tell it so on its stdin.
    Its stdout lines (as ``stdout``, one a line), exit status and stderr."""
    seen: list[str] = []
    errors = tmp_path / f"server_goes_away-{len(list(tmp_path.glob('server_goes_away-*')))}.err"
    with errors.open("w") as stderr, subprocess.Popen(
            [python, str(SCRIPTS / "server_goes_away.py"), "127.0.0.1", str(served.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
            cwd=SCRIPTS, env=script_env(tmp_path)) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            for line in process.stdout:
                seen.append(line.rstrip("\n"))
                if line.startswith("READY"):
                    served.stop()
                elif line.startswith("still connected"):
                    served.start()
                    process.stdin.write("the server is back\n")
                    process.stdin.flush()
            process.wait(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, "\n".join(seen),
                                       errors.read_text())
