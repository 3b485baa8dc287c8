"""The order the suite's tests are handed to pytest-xdist's workers in (`tests/conftest.py`
applies it): the long tests first on workers of their own."""

from __future__ import annotations

import pytest


def _long(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("timeout")
    return bool(mark and mark.args and float(mark.args[0]) >= 300)


def workers(config: pytest.Config) -> int:
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
