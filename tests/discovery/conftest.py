"""The discovery tests' fixtures: avahi-daemon on the loopback interface (tests/discoverykit.py);
every test has a HOME of its own (the servers they start write configuration there), and
tests/alpaca's peers (alpaca-simulators) are importable. Multicast and broadcasts stay on the
loopback interface (tests/conftest.py sets INDIPY_MDNS_INTERFACES=lo for every test)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from discoverykit import avahi  # noqa: F401  (re-exported as a fixture)

ALPACA_TESTS = Path(__file__).resolve().parents[1] / "alpaca"
if str(ALPACA_TESTS) not in sys.path:
    sys.path.insert(0, str(ALPACA_TESTS))


@pytest.fixture(autouse=True)
def _own_home(tmp_home: Path) -> Path:
    """tests/conftest.py's `tmp_home` for every test here: one HOME fixture, so a test that
    also asks for `tmp_home` gets the same folder."""
    return tmp_home
