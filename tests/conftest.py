"""Fixtures shared by every test folder. Folder-specific fixtures live in that folder's conftest."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings

TESTS = Path(__file__).resolve().parent
INTEROP = TESTS / "interop"

# Make `import peers` work from any test folder, whatever pytest's import mode.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import cpuuse
import ownnetwork
from peers import free_port as _free_port
from peers import indiserver_factory  # noqa: F401  (re-exported as fixtures)
from peers import our_server  # noqa: F401  (re-exported as fixtures)
from suiteorder import long_tests_first
from suiteorder import workers
from tlskit import Pki
from tlskit import make_pki

# Multicast DNS and UDP broadcasts stay on the loopback interface: this machine's other
# interfaces lead to networks that are not ours. Every test and every process a test starts
# announces and browses on `lo` only; a test that exercises the default (every interface) does
# so inside a network namespace it made, setting the variable there itself.
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"
#: The network namespace pytest started in (the machine's), before `pytest_configure`.
_HOST_NAMESPACE = ownnetwork.namespace_id()

# One hypothesis profile for every test. No deadline and no too_slow health check: both measure
# the wall clock, so on a loaded machine (CI, four workers on two cores) they fail tests whose
# code is right. Tests set only what is theirs (max_examples). HYPOTHESIS_PROFILE=thorough runs
# 1000 examples where a test does not set its own number.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("thorough", settings.get_profile("ci"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--repeat", type=int, default=1, metavar="N",
                     help="run each selected test N times (spread over the xdist workers), "
                          "to find a flaky one: tests/README.md")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``--repeat N``: each test N times, as N parametrized copies (``[repeat-3of5]``), so
    xdist hands them to every worker and each failure is reported with its copy."""
    times = metafunc.config.getoption("repeat")
    if times > 1:
        metafunc.fixturenames.append("_repeat")
        metafunc.parametrize("_repeat", range(times), indirect=True,
                             ids=[f"repeat-{i + 1}of{times}" for i in range(times)])


@pytest.fixture
def _repeat(request: pytest.FixtureRequest) -> int:
    """Which copy of a ``--repeat``ed test this is."""
    return int(request.param)


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest process that runs tests (every xdist worker; the only one with
    ``-n 0``) in a network namespace of its own (tests/ownnetwork.py): one worker's multicast
    never reaches another's. The xdist controller runs no test and keeps the machine's.
    INDIPY_TEST_CPU=FOLDER records each test's CPU (tests/cpuuse.py)."""
    cpuuse.register(config)
    if not hasattr(config, "workerinput") and workers(config) > 0:
        return
    if ownnetwork.namespace_id() == _HOST_NAMESPACE:
        ownnetwork.enter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The process's one Chromium (tests/chromiumkit.py), if a test launched it, closed."""
    chromiumkit = sys.modules.get("chromiumkit")
    if chromiumkit is not None:
        chromiumkit.close_worker_chromium()


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
    items[:] = long_tests_first(items, workers(config))




@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME for the test, so nothing reads or writes the real ~/.indi. The one HOME
    fixture: a folder's autouse fixture and a test that asks for it get the same folder."""
    return _home_in(tmp_path / "home", monkeypatch)


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`tmp_home` for a module-scoped rig (a server its tests share), until the module ends."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _home_in(tmp_path_factory.mktemp("home"), monkeypatch)


def _home_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home.mkdir(exist_ok=True)
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
