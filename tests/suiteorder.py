"""The order the suite's tests are handed to pytest-xdist's workers in (`tests/conftest.py`
applies it): the long tests first, the longest first, spread so each worker starts on an equal
share of them (longest-processing-time first, by the seconds `slowest.txt` recorded)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

#: "<seconds> <node id>" lines: a full run's slowest tests (comments start with #).
SLOWEST = Path(__file__).with_name("slowest.txt")


@functools.cache
def _recorded() -> dict[str, float]:
    known: dict[str, float] = {}
    try:
        lines = SLOWEST.read_text(encoding="utf-8").splitlines()
    except OSError:
        return known
    for line in lines:
        seconds, _, nodeid = line.partition(" ")
        if line.startswith("#") or not nodeid:
            continue
        try:
            known[nodeid.strip()] = float(seconds)
        except ValueError:
            continue
    return known


def expected_seconds(item: pytest.Item) -> float:
    """What `item` took in the recorded run (0: not among the slowest; a --repeat copy or a
    test since renamed counts as its plain node id's, or 0)."""
    known = _recorded()
    nodeid = item.nodeid
    if nodeid in known:
        return known[nodeid]
    return known.get(nodeid.split("[repeat-")[0], 0.0)


def _long(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("timeout")
    return bool(mark and mark.args and float(mark.args[0]) >= 300)


def workers(config: pytest.Config) -> int:
    """How many xdist workers run the suite (0: none). The controller has ``-n``; a worker,
    which is where the collection is ordered, has no ``numprocesses`` (None there) but xdist's
    PYTEST_XDIST_WORKER_COUNT: read only the option, the order was never applied."""
    value = getattr(config.option, "numprocesses", None)
    if isinstance(value, int):
        return value
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    return int(count) if count.isdigit() else 0


def long_blocks(workers: int) -> int:
    """How many workers start on the long tests: two thirds of them. The long tests mostly
    wait (a guiding run's exposures, a flip's slew): twelve at once kept the two cores 70 %
    busy for the run's first minutes; the other third's short tests fill the rest from the
    start (issue 90 item 6)."""
    return max(1, workers * 2 // 3)


def long_tests_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """`items` reordered so that xdist's work-stealing scheduler, which hands each worker a
    contiguous block of the collection (block i: what is left // the workers left) and steals
    from a block's end, finds the long tests at the heads of the blocks: the longest first,
    each given to the block with the fewest expected seconds so far. Started at once, in
    parallel; none found last in one worker's queue (a run ends with its last long test: one
    started late left the run's last two minutes to one core). Long: recorded in
    `slowest.txt`, or granted a `timeout` of 300 s or more. Only the first `long_blocks`
    blocks get long tests. Without workers, or without long tests, the order is kept."""
    long = [item for item in items if expected_seconds(item) > 0 or _long(item)]
    if workers < 2 or not long:
        return items
    chosen = set(map(id, long))
    rest = [item for item in items if id(item) not in chosen]
    long.sort(key=expected_seconds, reverse=True)  # stable: the unrecorded keep their order
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * long_blocks(workers) + [float("inf")] * (workers - long_blocks(workers))
    for item in long:
        block = loads.index(min(loads))
        heads[block].append(item)
        loads[block] += max(expected_seconds(item), 1.0)
    ordered: list[pytest.Item] = []
    left = len(items)
    for block in range(workers):
        size = left // (workers - block)
        ordered += heads[block] + rest[:max(0, size - len(heads[block]))]
        del rest[:max(0, size - len(heads[block]))]
        left -= size
    return ordered + rest
