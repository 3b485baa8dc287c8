"""A role's work cancelled before it ever ran leaves no "coroutine was never awaited" warning.

A client's DISCONNECT or a new exposure can cancel a task in the same loop iteration that
created it; its coroutine then never starts. The suite turns warnings into errors, and the
warning is raised at garbage collection, so it failed whichever test happened to run then
(seen as a Camera._run_exposure warning in an unrelated client test).
"""

from __future__ import annotations

import asyncio
import gc
import warnings

from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver.standard.role import Operation
from indipydriver.standard.role import RoleTasks


async def _work() -> None:
    await asyncio.sleep(10)


async def test_cancelled_before_running_leaves_no_unawaited_coroutine() -> None:
    """Operation.start then abort, and RoleTasks.start then stop, in one step: no warning."""
    vector = NumberVector("V", "V", "G", "rw", "Idle", [NumberMember("N", "N", "%g", 0, 1, 0, 0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        operation = Operation(vector, "Work")
        assert operation.start(_work())
        assert await operation.abort()
        tasks = RoleTasks()
        tasks.start(_work(), "work")
        await tasks.stop()
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
