"""The linters the project configures are run, so they cannot silently rot (style.md).

`mypy --strict` on the packages (they ship `py.typed`, so users' type checkers rely on the
hints) and `ruff check` on the packages, tests, examples and benchmarks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )


def test_packages_pass_mypy_strict() -> None:
    result = _run("mypy", "--strict", "indipycore", "indipyalpaca", "indipydriver", "indipysimulators", "indipyserver", "indipyclient", "indipyweb", "indipyterm",
                  "indiredis", "indimqttredis", "PyIndi")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_routers_test_doubles_implement_its_ports() -> None:
    """tests/serverdoubles.py is checked against ``indipyserver.routing.ports``: a double that
    lacks something the router calls fails here, not by a quiet fallback in the router."""
    result = _run("mypy", "--strict", "tests/serverdoubles.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_packages_tests_examples_and_benchmarks_pass_ruff() -> None:
    result = _run("ruff", "check", "indipycore", "indipyalpaca", "indipydriver", "indipysimulators", "indipyserver", "indipyclient", "indipyweb", "indipyterm",
                  "indiredis", "indimqttredis", "PyIndi", "tests", "examples", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
