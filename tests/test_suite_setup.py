"""The suite's own safety nets are switched on: a hung test fails, hypothesis has no deadline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]


def test_hypothesis_profile_measures_no_wall_clock() -> None:
    """The shared profile from tests/conftest.py is loaded: no per-example deadline (a loaded
    machine would fail correct code), so a test only sets its number of examples."""
    assert settings().deadline is None
    assert HealthCheck.too_slow in settings().suppress_health_check


def test_a_hung_test_fails_with_a_traceback(tmp_path: Path) -> None:
    """pytest-timeout is installed and on: a test that never returns fails with its stack
    printed, instead of hanging the run. Run in a child pytest with the project's settings."""
    (tmp_path / "test_hang.py").write_text(
        "import threading, pytest\n"
        "@pytest.mark.timeout(2)\n"
        "def test_hang():\n"
        "    threading.Event().wait()\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q",
         "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout" in result.stdout and "test_hang" in result.stdout, result.stdout
    assert "1 failed" in result.stdout, result.stdout


def test_every_test_module_has_its_own_name() -> None:
    """Test folders are not packages, so pytest imports each module by its file name: a second
    ``test_x.py`` anywhere under tests/ stops the whole run at collection ("import file
    mismatch"), which a run of one folder never shows."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(REPO)} and {path.relative_to(REPO)}")
        seen.setdefault(path.name, path)
    assert not clashes, clashes
