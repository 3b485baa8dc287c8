"""The toolkit's programs share one log format and answer ``--version`` (issue 58, 4k).

There were three formats for one toolkit: the server's ``TIME LEVEL LOGGER: MESSAGE``, the
web client's and the bridges' ``TIME LOGGER MESSAGE`` and Python's default
``LEVEL:LOGGER:MESSAGE`` (the simulators, driver programs and examples). And ``indipyserver
--version`` was refused while ``indipyweb`` and ``indipyterm`` took it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from repopackages import packages

from indipycore.commandline import LOG_FORMAT
from indipycore.commandline import toolkit_version

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
#: A line in LOG_FORMAT.
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) [\w.]+: \S")
#: Programs whose own messages to the user are "PROGRAM: message" lines, not a log, on purpose.
USER_MESSAGES = {"indipyconform/cli.py", "indipyclient/frontends/tools/watch.py",
                 "examples/imaging_script.py"}


def run(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60,
                          env=ENV, cwd=REPO, stdin=stdin, check=False)


def test_no_program_configures_logging_its_own_way() -> None:
    """Every ``logging.basicConfig`` of the packages and examples is `configure_logging`'s,
    except the programs that print user messages (listed above): a fourth format fails."""
    own = []
    for folder in (*packages(REPO), "examples"):
        for path in sorted((REPO / folder).rglob("*.py")):
            name = path.relative_to(REPO).as_posix()
            if "logging.basicConfig(" in path.read_text() and name not in USER_MESSAGES:
                own.append(name)
    assert own == ["indipycore/commandline.py"], own


@pytest.mark.parametrize("args", [
    # the server's command: a driver that is not there, one error line
    ["-m", "indipyserver", "-p", "1", "indi_no_such_driver_here"],
    # a driver program (the simulators' main) under --stdio with nothing on stdin
    ["examples/ccd_simulator.py", "--stdio"],
])
def test_the_programs_log_lines_are_in_the_one_format(args: list[str]) -> None:
    """What the server's command and a standalone driver log reads TIME LEVEL LOGGER: ...
    (the driver program's once read ``ERROR:indipyserver.standalone:...``)."""
    done = run(*args)
    lines = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert lines, done.stderr
    assert all(LINE.match(line) for line in lines), lines
    assert LOG_FORMAT == "%(asctime)s %(levelname)s %(name)s: %(message)s"


@pytest.mark.parametrize("command", ["indipyserver", "indipyweb"])
def test_version_is_answered_by_the_server_as_by_the_other_commands(command: str) -> None:
    """``indipyserver --version`` prints ``indipyserver VERSION`` and exits 0, as
    ``indipyweb --version`` does; it once said "nothing to serve", status 2."""
    done = run("-m", command, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{command} {toolkit_version()}", done.stdout
