"""A Python driver that cannot be loaded stops `python -m indipyserver` at start with one line
saying which file and why, exit status 1; its traceback is shown with -v only (issue 28, item 3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
        env={**os.environ, "HOME": str(tmp_path), "PYTHONPATH": path},
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
