"""indipyserver.standalone: how a driver program chooses between serving itself and speaking
INDI on stdin/stdout (the simulators' one main; tests/examples/test_ccd_simulator.py runs both
ways end to end)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from peers import free_port
from peers import getprop
from peers import wait_listening

from indipyserver.standalone import serves_itself
from indipyserver.standalone import serving_parser

#: The processes these tests start write under HOME: tests/conftest.py's `tmp_home`.
pytestmark = pytest.mark.usefixtures("tmp_home")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("argv", "stdin", "serves"), [
    ([], Terminal(), True),                       # run from a terminal
    ([], io.StringIO(), False),                   # a pipe: under an INDI server
    (["--port", "7625"], io.StringIO(), True),    # asked to serve, whatever stdin is
    (["--host", "0.0.0.0"], io.StringIO(), True),
    (["--stdio"], Terminal(), False),             # --stdio wins over a terminal...
    (["--stdio", "--port", "7625"], Terminal(), False),  # ...and over --port
])
def test_serves_itself_when_asked_or_on_a_terminal_never_with_stdio(
        argv: list[str], stdin: io.StringIO, serves: bool) -> None:
    args = serving_parser("A driver.\n\nMore.").parse_args(argv)
    assert serves_itself(args, stdin) is serves


def test_the_parser_is_described_by_the_docstrings_first_line() -> None:
    """A program's ``--help`` starts with what it is: its module docstring's first line."""
    assert serving_parser("A simulated mount.\n\nRun it...").description == "A simulated mount."


def test_stdin_on_dev_null_serves_itself_unless_stdio() -> None:
    """Issue 58, 4d: /dev/null as stdin (a background job, ``nohup``) is no INDI server's
    pipe: the program serves on its port; ``--stdio`` still insists on stdin/stdout."""
    with open(os.devnull) as null:
        assert serves_itself(serving_parser("A driver.").parse_args([]), null) is True
        assert serves_itself(serving_parser("A driver.").parse_args(["--stdio"]), null) is False


CHILD = """\
import sys
import indipyserver.standalone as standalone
from indipyserver.demo import make_driver
standalone.DEFAULT_PORT = int(sys.argv[1])  # the default 7624, moved off a shared machine's
parser = standalone.serving_parser("The demo.")
standalone.run_driver(make_driver(), parser.parse_args(sys.argv[2:]))
"""


def _child(tmp_path: Path, *argv: str) -> tuple[subprocess.Popen[bytes], int]:
    script = tmp_path / "driver.py"
    script.write_text(CHILD)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, str(script), str(port), *argv], cwd=tmp_path,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
    return child, port


def test_a_driver_program_started_with_stdin_on_dev_null_serves_on_its_port(
        tmp_path: Path) -> None:
    """Run as ``nohup driver &`` runs it, a `run_driver` program serves on its port (and
    says why) where it once printed a PermissionError traceback and hung; indi_getprop
    reads it."""
    child, port = _child(tmp_path)
    try:
        assert wait_listening(child, port, 20), child.stderr.read() if child.stderr else ""
        assert getprop(port, "Thermostat.TARGET.TARGET").get("Thermostat.TARGET.TARGET")
    finally:
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=15)
    said = err.decode(errors="replace")
    assert "standard input is /dev/null" in said and "Traceback" not in said, said
    assert child.returncode == 0, said


def test_stdio_with_stdin_on_dev_null_exits_1_saying_what_to_do(tmp_path: Path) -> None:
    """``--stdio`` with stdin on /dev/null cannot work: status 1 and one line, no hang."""
    child, _ = _child(tmp_path, "--stdio")
    out, err = child.communicate(timeout=20)
    said = err.decode(errors="replace")
    assert child.returncode == 1, said
    assert "leave out --stdio" in said and "Traceback" not in said, said
    assert out == b""
