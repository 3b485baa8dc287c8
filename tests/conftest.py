"""Fixtures shared by every test folder. Folder-specific fixtures live in that folder's conftest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
INTEROP = TESTS / "interop"

# Make `import peers` work from any test folder, whatever pytest's import mode.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from peers import free_port as _free_port
from peers import indiserver_factory  # noqa: F401  (re-exported as a fixture)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/interop talks to indilib's peers: mark it `interop`.

    So `-m "not interop"` gives a quick run without indi-bin, while the default run includes
    (and fails on) the real peers.
    """
    for item in items:
        if INTEROP in item.path.parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME for the test, so nothing reads or writes the real ~/.indi."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free when the test started."""
    return _free_port()
