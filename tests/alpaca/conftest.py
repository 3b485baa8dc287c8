"""The Alpaca tests' shared settings: each test gets a HOME of its own (indilib drivers started
by our server write their configuration under HOME), and ``alpaca_sim``, alpaca-simulators
on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators


@pytest.fixture(autouse=True)
def _own_home(tmp_home: Path) -> Path:
    """tests/conftest.py's `tmp_home` for every test here: one HOME fixture, so a test that
    also asks for `tmp_home` gets the same folder."""
    return tmp_home


@pytest.fixture
def alpaca_sim(tmp_path: Path) -> Iterator[AlpacaSimulators]:
    """alpaca-simulators 1.3.2 serving on a free port of 127.0.0.1 from a temporary folder
    (one device of each type, all number 0), stopped and reaped at the end."""
    simulators = AlpacaSimulators(tmp_path / "alpaca-sim").start()
    try:
        yield simulators
    finally:
        simulators.stop()
