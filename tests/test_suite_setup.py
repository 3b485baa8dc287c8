"""The suite's own safety nets are switched on: a hung test fails, hypothesis has no deadline."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

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


def test_every_kit_module_has_its_own_name() -> None:
    """Kits are imported by their bare name (``from nightkit import ...``) with every test
    folder that holds one on ``sys.path`` in a whole run: a second ``nightkit.py`` in another
    folder is shadowed by whichever was imported first, and its tests fail to import only in
    the whole run (``tests/nightkit.py`` beside ``tests/agents/night/nightkit.py`` did, 2026-11-29).
    Programs a test runs as scripts (pyindi_scripts, compat3x) are not imported so."""
    seen: dict[str, Path] = {}
    clashes = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name.startswith("test_") or path.name in ("conftest.py", "__init__.py"):
            continue
        if path.parent.name == "data" or "data" in path.relative_to(REPO).parts:
            continue
        if path.name in seen:
            clashes.append(f"{seen[path.name].relative_to(REPO)} and {path.relative_to(REPO)}")
        seen.setdefault(path.name, path)
    assert not clashes, clashes


class _Item:
    """What `long_tests_first` reads of a pytest item: its timeout mark."""

    def __init__(self, name: str, timeout: float | None = None) -> None:
        self.name = self.nodeid = name
        self.mark = pytest.mark.timeout(timeout).mark if timeout is not None else None

    def get_closest_marker(self, name: str) -> object:
        return self.mark if name == "timeout" else None


def test_the_long_tests_head_the_blocks_xdist_hands_its_workers() -> None:
    """The long tests (timeout 300 s or more) come first in each contiguous block the
    work-stealing scheduler gives a worker (what is left // the workers left), one a block,
    so none is found last in a queue; the rest keep their order and nothing is lost."""
    from suiteorder import long_tests_first

    items = [_Item(f"t{i}") for i in range(10)]
    items[7] = _Item("slow7", 400)
    items[9] = _Item("slow9", 300)
    items[3] = _Item("medium", 120)
    ordered = long_tests_first(items, 4)  # type: ignore[arg-type]
    names = [item.name for item in ordered]
    assert sorted(names) == sorted(item.name for item in items)
    blocks, left, start = [], len(names), 0
    for workers_left in range(4, 0, -1):
        size = left // workers_left
        blocks.append(names[start:start + size])
        start, left = start + size, left - size
    assert blocks[0][0] == "slow7" and blocks[1][0] == "slow9"
    assert [n for n in names if not n.startswith("slow")] == [
        item.name for item in items if not item.name.startswith("slow")]
    assert long_tests_first(items, 0) == items  # type: ignore[arg-type]


@given(st.lists(st.integers(1, 200), max_size=16), st.integers(0, 150), st.integers(2, 8),
       st.randoms(use_true_random=False))
def test_the_recorded_longest_start_first_spread_evenly(
        long: list[int], shorts: int, workers: int, order: random.Random) -> None:
    """Tests recorded in tests/slowest.txt (seconds > 0) head the blocks, longest first, each
    given to the block with the least expected seconds so far (longest processing time
    first) among the first `long_blocks`: a block's head is sorted longest first, those heads
    differ by at most the longest test, the other blocks start on short tests, and nothing is
    lost or doubled. Issue 90 item 6: the run's last minutes were left to one core by long
    tests that started late, and its first minutes half idle with every worker on a long one."""
    import suiteorder

    seconds = long + [0] * shorts
    order.shuffle(seconds)
    items = [_Item(f"t{i}") for i in range(len(seconds))]
    recorded = {f"t{i}": float(s) for i, s in enumerate(seconds) if s > 0}
    saved = suiteorder._recorded
    suiteorder._recorded = lambda: recorded  # type: ignore[assignment]
    try:
        ordered = suiteorder.long_tests_first(items, workers)  # type: ignore[arg-type]
    finally:
        suiteorder._recorded = saved  # type: ignore[assignment]
    names = [item.name for item in ordered]
    assert sorted(names) == sorted(item.name for item in items)
    if not recorded:
        assert names == [item.name for item in items]
        return
    heads, left, start = [], len(names), 0
    for workers_left in range(workers, 0, -1):
        size = left // workers_left
        block = names[start:start + max(size, 1)]
        head = []
        for name in block:
            if name not in recorded:
                break
            head.append(recorded[name])
        heads.append(head)
        start, left = start + size, left - size
    if len(recorded) <= len(items) // workers:  # every head fits in its block (as in a run)
        assert sum(len(head) for head in heads) == len(recorded)
        assert all(head == sorted(head, reverse=True) for head in heads)
        starting = suiteorder.long_blocks(workers)
        assert not any(heads[starting:]), "a block beyond the long ones starts on a long test"
        loads = [sum(head) for head in heads[:starting]]
        assert max(loads) - min(loads) <= max(recorded.values())


def test_a_worker_knows_how_many_workers_there_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """In an xdist worker, where the collection is ordered, ``numprocesses`` is None: the
    count comes from PYTEST_XDIST_WORKER_COUNT, else the long tests were never put first
    (issue 90 item 6: the guider bench started 728 s into a 920 s run)."""
    from types import SimpleNamespace

    from suiteorder import workers

    in_a_worker = SimpleNamespace(option=SimpleNamespace(numprocesses=None))
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "8")
    assert workers(in_a_worker) == 8  # type: ignore[arg-type]
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT")
    assert workers(in_a_worker) == 0  # type: ignore[arg-type]
    assert workers(SimpleNamespace(option=SimpleNamespace(numprocesses=3))) == 3  # type: ignore[arg-type]


#: The peers that give each process they start a HOME of its own, their work folder (a
#: server's drivers write ~/.indi there, beside its log), and the test that points HOME at
#: indiserver's on purpose: everything else takes tests/conftest.py's `tmp_home`.
OWN_HOMES = {"peers.py", "client/tools/toolkit.py", "alpaca/alpacapeers.py",
             "interop/pyindi_serving.py", "interop/test_indiweb.py",
             "interop/test_indilib_integs.py", "discovery/test_namespaces.py",
             "interop/test_config_process_indilib.py"}


def test_one_home_fixture_sets_home() -> None:
    """A test's HOME comes from `tmp_home` (or `module_home`), never set by hand: one place
    says where ~/.indi goes, and a folder's autouse fixture and a test share one folder. A
    child's environment written whole names the fixture's folder."""
    tests = REPO / "tests"
    by_hand = [
        f"{where}:{number}" for path in sorted(tests.rglob("*.py"))
        if (where := path.relative_to(tests).as_posix()) not in {
            "conftest.py", "test_suite_setup.py", *OWN_HOMES}
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ('"HOME"' in line or "HOME=" in line)
        and "tmp_home" not in line and "module_home" not in line]
    assert by_hand == [], by_hand


def test_every_kit_has_a_row_in_the_tests_readme() -> None:
    """tests/README.md's map names every kit (``*kit*.py``) and every ``conftest.py`` with a
    fixture, so the next test finds the rig it needs before writing another."""
    tests = REPO / "tests"
    readme = (tests / "README.md").read_text()
    kits = [path for path in tests.rglob("*.py") if "kit" in path.name
            or (path.name == "conftest.py" and "@pytest.fixture" in path.read_text())]
    missing = sorted(where for path in kits
                     if f"`{(where := path.relative_to(tests).as_posix())}`" not in readme)
    assert len(kits) > 20 and missing == [], missing
