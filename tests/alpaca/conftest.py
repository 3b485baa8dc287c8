"""Fixtures of the Alpaca tests: alpaca-simulators on a free port (``alpaca_sim``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators


@pytest.fixture
def alpaca_sim(tmp_path: Path) -> Iterator[AlpacaSimulators]:
    """alpaca-simulators 1.3.2 serving on a free port of 127.0.0.1 from a temporary folder
    (one device of each type, all number 0), stopped and reaped at the end."""
    simulators = AlpacaSimulators(tmp_path / "alpaca-sim").start()
    try:
        yield simulators
    finally:
        simulators.stop()
