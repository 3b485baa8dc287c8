"""The README's pyindi-client program does what docs/pyindi.rst's does (issue 58, 4a).

The README's copy once had no wait after ``connectServer()``: the callbacks run on a
background thread, so the program ended at once and printed nothing. Both programs are taken
from the files themselves (an edit that breaks either fails here) and run as a user runs them,
each its own process, against ``python -m indipyserver --demo``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from peers import REPO
from peers import OurServer
from peers import our_server  # noqa: F401 - the fixture

README = REPO / "README.md"
DOC = REPO / "docs" / "pyindi.rst"
NUMBER_LINE = re.compile(r"^Thermostat (TEMPERATURE|TARGET) (TEMPERATURE|TARGET) -?\d+(\.\d+)?$")


def readme_program() -> str:
    """The python block after the README's ``pyindi-example`` marker."""
    after = README.read_text().split("<!-- pyindi-example", 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match, "README has no python block after its pyindi-example marker"
    return match.group(1)


def doc_program() -> str:
    """The first literal block of docs/pyindi.rst (after "unchanged::"), dedented."""
    after = DOC.read_text().split("unchanged::\n\n", 1)[1]
    lines = []
    for line in after.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines).strip() + "\n"


def code_only(program: str) -> list[str]:
    """Its lines without comments and blank lines: what runs."""
    return [line.split("#", 1)[0].rstrip() for line in program.splitlines()
            if line.split("#", 1)[0].strip()]


def run_program(program: str, port: int, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "client.py"
    script.write_text(program.replace("7624", str(port)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path, check=False)


def test_the_readme_program_is_the_docs_program() -> None:
    """The README shows the doc's program, so the two cannot drift apart again."""
    assert code_only(readme_program()) == code_only(doc_program())


def test_the_readme_program_prints_the_thermostats_numbers(
        our_server: Callable[..., OurServer], tmp_path: Path) -> None:  # noqa: F811
    """Run against the demo server, the README's program prints a line per number element it
    is sent (the thermostat's temperature updates every 2 s, so its 5 s see some), exits 0 and
    logs no error: not the silent exit it once made."""
    server = our_server("--demo")
    done = run_program(readme_program(), server.port, tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Thermostat TEMPERATURE TEMPERATURE ") for line in lines), lines
    assert all(NUMBER_LINE.match(line) for line in lines), lines
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr, done.stderr
