"""A Python driver that cannot be loaded stops `python -m indipyserver` at start with one line
saying which file and why, exit status 1; its traceback is shown with -v only (issue 28, item 3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: The processes these tests start write under HOME: tests/conftest.py's `tmp_home`.
pytestmark = pytest.mark.usefixtures("tmp_home")

REPO = Path(__file__).resolve().parents[2]

SCRIPTS = {
    # make_driver() itself raises: failed before the fix with a traceback out of cli.main
    "raises.py": ("def make_driver():\n"
                  "    raise RuntimeError('no camera on /dev/ttyUSB0')\n",
                  "raises.py: make_driver() failed: RuntimeError: no camera on /dev/ttyUSB0"),
    # a syntax error: one line before the fix too, as the exception's repr
    "typo.py": ("def make_driver(:\n    pass\n",
                "importing typo.py failed: SyntaxError: invalid syntax (typo.py, line 1)"),
    # an import that fails
    "imports.py": ("import no_such_module_for_indipy_tests\n",
                   "importing imports.py failed: ModuleNotFoundError: No module named "
                   "'no_such_module_for_indipy_tests'"),
}


def run_server(tmp_path: Path, script: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """The server exits before it listens, so the port is never bound."""
    body, _ = SCRIPTS[script]
    (tmp_path / script).write_text(body)
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "indipyserver", *extra, "-p", "7599", "--driver-script", script],
        capture_output=True, text=True, timeout=30, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": path},
    )


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_driver_that_fails_to_load_is_one_line_and_exit_1(tmp_path: Path, script: str) -> None:
    result = run_server(tmp_path, script)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].endswith(f"ERROR indipyserver.cli: {SCRIPTS[script][1]}"), lines[0]


def test_with_v_the_drivers_own_traceback_follows_the_line(tmp_path: Path) -> None:
    """The traceback shown is the driver's (down to its raise), not the server's loading code."""
    result = run_server(tmp_path, "raises.py", "-v")
    assert result.returncode == 1
    assert SCRIPTS["raises.py"][1] in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raises.py", line 2, in make_driver' in result.stderr
    assert "DriverLoadError" not in result.stderr


MODULE_LEVEL_RUNS = {
    # the README's ten-line driver as it once ended
    "server_run.py": ("from indipydriver import Device, IPyDriver\n"
                      "from indipyserver import IPyServer\n"
                      "driver = IPyDriver(Device('Lamp', []))\n"
                      "IPyServer(driver).run()\n",
                      "line 4: IPyServer(driver).run()"),
    # the stdio form the README gives for indiserver
    "asyncio_run.py": ("import asyncio\n"
                       "from indipydriver import Device, IPyDriver\n"
                       "driver = IPyDriver(Device('Lamp', []))\n"
                       "asyncio.run(driver.asyncrun())\n",
                       "line 4: asyncio.run(driver.asyncrun())"),
}


@pytest.mark.parametrize("script", sorted(MODULE_LEVEL_RUNS))
def test_a_module_level_run_is_named_as_the_cause_with_the_fix(
        tmp_path: Path, script: str) -> None:
    """Issue 58, 4e: ``indipyserver lamp.py`` on a file that ends by running its server (or
    ``asyncio.run``) once said only "inside a running event loop (a coroutine, Jupyter)".
    Now its one line names the file's line and says to put it under ``if __name__ ==
    "__main__":``; no traceback, no "never awaited" warning, exit status 1."""
    body, where = MODULE_LEVEL_RUNS[script]
    SCRIPTS[script] = (body, "")
    try:
        result = run_server(tmp_path, script)
    finally:
        del SCRIPTS[script]
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{script} starts a server (or an event loop) when it is imported" in lines[0]
    assert where in lines[0] and 'if __name__ == "__main__":' in lines[0], lines[0]
    assert "Jupyter" not in lines[0] and "coroutine" not in lines[0], lines[0]


def test_the_readmes_ten_line_driver_is_served_by_indipyserver_file(tmp_path: Path) -> None:
    """The README's ten-line driver, saved as lamp.py, is what ``indipyserver lamp.py`` serves
    (its run is under ``if __name__ == "__main__":``): indilib's indi_getprop reads it."""
    from peers import OurServer
    from peers import getprop

    readme = (REPO / "README.md").read_text().split("## A driver in ten lines", 1)[1]
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "lamp.py").write_text(code)
    with OurServer(str(tmp_path / "lamp.py"), workdir=tmp_path / "server") as server:
        values = getprop(server.port, "Lamp.POWER.ON")
    assert values.get("Lamp.POWER.ON") == "Off", values.result.describe()
