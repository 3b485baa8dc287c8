"""The benchmark scripts' tests: bench/run.py loaded as a module for the tests of its parts."""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def bench_run() -> ModuleType:
    """bench/run.py (a script, not a package) loaded as a module, for the tests of its parts."""
    from serverkit import load_bench

    return load_bench("run", "bench_run_under_test")
