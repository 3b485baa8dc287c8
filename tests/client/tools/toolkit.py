"""Running our tools and indilib's side by side against real servers, for the tools' tests.

``both_servers`` gives two servers serving the same drivers (the demo thermostat as an
executable driver, with readings an hour apart so values hold still, and indilib's
``indi_simulator_telescope``): ours (``python -m indipyserver``) and indilib's ``indiserver``.
``side_by_side`` runs an indilib tool and ours with the same arguments at the same moment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from peers import HOST
from peers import IndiServer
from peers import OurServer
from peers import PeerResult
from peers import find_binary
from peers import getprop

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "examples" / "exdrivers" / "indi_py_thermostat"
STILL = {"INDIPY_INTERVAL": "3600"}  # no new readings while a test compares two tools
OURS = {
    "indi_getprop": "indipyclient.frontends.tools.getprop",
    "indi_setprop": "indipyclient.frontends.tools.setprop",
    "indi_eval": "indipyclient.frontends.tools.evalexpr",
}


@dataclass
class Server:
    """A running server of either kind: its name for test ids and its port."""

    kind: str
    port: int


def wait_defined(port: int, spec: str, timeout: float = 15) -> None:
    """Wait until the server has a definition for ``spec`` (its drivers are up)."""
    values = getprop(port, spec, timeout=timeout)
    assert values.returncode == 0, values.result.describe()


def start_both(tmp_path: Path) -> Iterator[list[Server]]:
    """Both servers with the thermostat and the telescope simulator; stopped afterwards."""
    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    theirs_dir = tmp_path / "indiserver"
    theirs_dir.mkdir()
    drivers = (str(LAUNCHER), "indi_simulator_telescope")
    ours = OurServer(*drivers, workdir=ours_dir, env=STILL, verbosity=0).start()
    theirs = IndiServer(*drivers, workdir=theirs_dir, env=STILL).start()
    try:
        for port in (ours.port, theirs.port):
            wait_defined(port, "Thermostat.SITE.FIRMWARE")
            wait_defined(port, "Telescope Simulator.CONNECTION.CONNECT")
        yield [Server("ours", ours.port), Server("indiserver", theirs.port)]
    finally:
        ours.stop()
        theirs.stop()


def run_tool(args: Sequence[str], *, cwd: Path | None = None, timeout: float = 30,
             env: dict[str, str] | None = None, stdin: str | None = None) -> PeerResult:
    """Run one tool (an argv whose first item is a program or ``-m`` module) to completion."""
    with tempfile.TemporaryDirectory(prefix="indipytool-") as scratch:
        workdir = cwd or Path(scratch)
        done = subprocess.run(
            list(args), cwd=workdir, env={**os.environ, "HOME": str(workdir), **(env or {})},
            input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True, text=True, errors="replace", timeout=timeout, check=False,
        )
    return PeerResult(tuple(args), done.returncode, done.stdout, done.stderr)


def ours(tool: str) -> list[str]:
    """The argv prefix running our counterpart of indilib's ``tool``."""
    return [sys.executable, "-m", OURS[tool]]


def side_by_side(tool: str, args: Sequence[str], *, cwd_theirs: Path | None = None,
                 cwd_ours: Path | None = None, env: dict[str, str] | None = None,
                 together: bool = False) -> tuple[PeerResult, PeerResult]:
    """indilib's ``tool`` and then ours with the same arguments: (theirs, ours).

    One after the other by default: under indiserver a client's getProperties makes the
    drivers define everything again for every interested client, so two getprops running
    together may each see some definitions twice. ``together`` starts both at once (to catch
    the same BLOB).
    """
    if not together:
        theirs = run_tool([find_binary(tool), *args], cwd=cwd_theirs, env=env)
        return theirs, run_tool([*ours(tool), *args], cwd=cwd_ours, env=env)
    with ThreadPoolExecutor(2) as pool:
        started = pool.submit(run_tool, [find_binary(tool), *args], cwd=cwd_theirs, env=env)
        mine = pool.submit(run_tool, [*ours(tool), *args], cwd=cwd_ours, env=env)
        return started.result(), mine.result()


def address(port: int) -> list[str]:
    return ["-h", HOST, "-p", str(port)]
