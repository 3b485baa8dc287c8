"""A driver that does not exist is refused when it is given, not retried for minutes.

Protects (issue: a new user's stumbles, item 2; the indiwebmanager backend, item 4): at start,
a ``.py`` path that does not exist, or a program found neither as a path nor on ``PATH``, is one
line of error and exit status 1 for the ``indipyserver`` command; ``IPyServer.add_exdriver``
raises the same; a program found on the ``PATH`` of the driver's own ``env=`` is accepted.
The FIFO side is in ``tests/interop/test_fifo_like_indiserver.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from indipyserver import IPyServer
from indipyserver.drivers.programs import check_program

#: The processes these tests start write under HOME: tests/conftest.py's `tmp_home`.
pytestmark = pytest.mark.usefixtures("tmp_home")

REPO = Path(__file__).resolve().parents[2]


def run_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m indipyserver ARGS` in `tmp_path`, run to its end (a server that went on
    serving would be killed by the timeout, failing the test)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    with socket.socket() as probe:  # nothing should listen there: refused before binding
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    done = subprocess.run([sys.executable, "-m", "indipyserver", "-p", port, *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
                          check=False)
    return done


@pytest.mark.parametrize(
    ("argument", "said"),
    [
        ("indi_simulator_telscope", "driver indi_simulator_telscope: not found on PATH; "
                                    "did you mean indi_simulator_telescope?"),
        ("bad/missing.py", "driver bad/missing.py: no such file"),
        ("missing.py", "driver missing.py: no such file, nor a program of that name on PATH"),
        ("./not_executable", "driver ./not_executable: it is not executable ('chmod +x' it?)"),
        # issue 58, 4k: a remote without its @ got no hint, where the typo above gets one
        ("localhost:7700", "driver localhost:7700: not found on PATH; did you mean "
                           "@localhost:7700? (a remote server is given as [device]@host[:port])"),
        ("pi.local", "driver pi.local: not found on PATH; did you mean @pi.local? (a remote "
                     "server is given as [device]@host[:port])"),
    ],
)
def test_a_driver_that_cannot_run_is_one_line_and_exit_status_1(
    tmp_path: Path, argument: str, said: str
) -> None:
    """The typo'd simulator (with the name it was probably meant to be), the .py path that
    does not exist and a file without the executable bit each end the command at once."""
    (tmp_path / "not_executable").write_text("#!/bin/sh\n")
    done = run_command(tmp_path, argument)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].endswith(f"ERROR indipyserver.cli: {said}"), lines


def test_a_missing_driver_beside_good_ones_still_stops_the_command(tmp_path: Path) -> None:
    """One bad argument among good ones is refused before anything is served, as a typo in any
    other argument is: the operator sees it now, not as a device missing later."""
    done = run_command(tmp_path, "--demo", "indi_simulator_telescope", "indi_nope_nothing")
    assert done.returncode == 1, done.stderr
    assert "driver indi_nope_nothing: not found on PATH" in done.stderr
    assert "serving INDI" not in done.stderr


def test_add_exdriver_raises_for_a_program_that_cannot_run(tmp_path: Path) -> None:
    """The library says the same as the command: FileNotFoundError for a name not on PATH or
    a path that does not exist, PermissionError for a file that is not executable."""
    server = IPyServer(port=0)
    with pytest.raises(FileNotFoundError, match="driver indi_nope_nothing: not found on PATH"):
        server.add_exdriver("indi_nope_nothing")
    with pytest.raises(FileNotFoundError, match="no such file"):
        server.add_exdriver(str(tmp_path / "gone" / "driver.py"))
    plain = tmp_path / "plain_driver"
    plain.write_text("#!/bin/sh\n")
    with pytest.raises(PermissionError, match="not executable"):
        server.add_exdriver(str(plain))
    assert server.connections == []


def test_add_exdriver_looks_on_the_path_the_driver_will_get(tmp_path: Path) -> None:
    """A program on the PATH of the driver's own `env=` is found (the spawn looks there), and
    one on no PATH at all is not; the program that is there is kept, as given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "indi_private_driver"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    server = IPyServer(port=0)
    with pytest.raises(FileNotFoundError):
        server.add_exdriver("indi_private_driver")
    conn = server.add_exdriver("indi_private_driver", env={"PATH": str(bin_dir)})
    assert conn.label == "indi_private_driver"
    assert check_program("indi_private_driver", str(bin_dir)) == str(program)


@pytest.mark.parametrize(("argument", "remote"), [
    ("localhost:7700", True), ("192.168.1.5:7624", True), ("192.168.1.5", True),
    ("obs-east.example.org", True), ("localhost", True),
    ("indi_simulator_ccd", False), ("my.driver.py", False), ("start.sh", False),
    ("indi_lx200generic", False), ("C:7624", True), (":7624", False), ("host:port", False),
])
def test_what_reads_as_a_remote_without_its_at(argument: str, remote: bool) -> None:
    """host:port, an IPv4 address or a dotted host name get the "did you mean @..." hint;
    driver names, scripts and a bare ``:7624`` do not."""
    from indipyserver.drivers.programs import _looks_remote

    assert _looks_remote(argument) is remote


def test_check_program_is_still_importable_from_drivers_executable() -> None:
    """Its old home keeps the name (it moved to ``drivers.programs``)."""
    from indipyserver.drivers import executable
    from indipyserver.drivers import programs

    assert executable.check_program is programs.check_program
