"""Fixtures shared by every test folder. Folder-specific fixtures live in that folder's conftest."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings

TESTS = Path(__file__).resolve().parent
INTEROP = TESTS / "interop"

# Make `import peers` work from any test folder, whatever pytest's import mode.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from peers import free_port as _free_port
from peers import indiserver_factory  # noqa: F401  (re-exported as fixtures)
from peers import our_server  # noqa: F401  (re-exported as fixtures)
from tlskit import Pki
from tlskit import make_pki

# One hypothesis profile for every test. No deadline and no too_slow health check: both measure
# the wall clock, so on a loaded machine (CI, four workers on two cores) they fail tests whose
# code is right. Tests set only what is theirs (max_examples). HYPOTHESIS_PROFILE=thorough runs
# 1000 examples where a test does not set its own number.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("thorough", settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/interop puts us side by side with indilib's programs: mark it
    `interop` (tests elsewhere that do so carry the mark themselves).

    `-m interop` selects those comparisons. It is not a way to run without indi-bin: tests in
    other folders also use indilib's programs as peers (indi_getprop against an example,
    indiserver behind a bridge), and fail when they are missing.

    Under pytest-xdist the long tests (those granted `timeout` 300 s or more: a meridian
    crossing in real time, sphinx) are spread so each starts first on a worker of its own.
    """
    for item in items:
        if INTEROP in item.path.parents:
            item.add_marker(pytest.mark.interop)
    items[:] = long_tests_first(items, _workers(config))


def _long(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("timeout")
    return bool(mark and mark.args and float(mark.args[0]) >= 300)


def _workers(config: pytest.Config) -> int:
    value = getattr(config.option, "numprocesses", None)
    return value if isinstance(value, int) else 0


def long_tests_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """`items` reordered so that xdist's work-stealing scheduler, which hands each worker a
    contiguous block of the collection (block i: what is left // the workers left), puts the
    long tests at the head of the blocks, one a block in turn: started at once, in parallel,
    not found last in one worker's queue (one such test started late makes the whole run
    that much longer). Without workers, or without long tests, the order is kept."""
    long = [item for item in items if _long(item)]
    if workers < 2 or not long:
        return items
    rest = [item for item in items if not _long(item)]
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for index, item in enumerate(long):
        heads[index % workers].append(item)
    ordered: list[pytest.Item] = []
    left = len(items)
    for block in range(workers):
        size = left // (workers - block)
        ordered += heads[block] + rest[:max(0, size - len(heads[block]))]
        del rest[:max(0, size - len(heads[block]))]
        left -= size
    return ordered + rest


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


@pytest.fixture(scope="session")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate for localhost, client certificates and a stranger's, made
    once per session with the openssl command (tests/tlskit.py)."""
    return make_pki(tmp_path_factory.mktemp("pki"))
