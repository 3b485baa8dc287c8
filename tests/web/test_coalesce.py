"""The per-browser queue stays bounded whatever the rate: one entry per part, then overflow."""

from __future__ import annotations

import asyncio

from indipyweb.coalesce import Coalescer


def test_repeated_notices_for_one_part_coalesce_to_one_entry() -> None:
    """100 sets of one vector for a reader that is not reading are one entry, oldest order."""
    queue: Coalescer[str] = Coalescer(max_keys=10)
    for _ in range(100):
        queue.put("a")
        queue.put("b")
    assert len(queue) == 2 and queue.coalesced == 198
    assert queue.take() == (["a", "b"], False)
    assert len(queue) == 0


def test_too_many_distinct_parts_collapse_into_one_overflow() -> None:
    """Past max_keys the queue empties itself and says 'refresh everything' once."""
    queue: Coalescer[int] = Coalescer(max_keys=5)
    for key in range(1000):
        queue.put(key)
    assert len(queue) == 0 and queue.overflowed
    assert queue.take() == ([], True)
    queue.put(1)
    assert queue.take() == ([1], False)


async def test_get_waits_for_the_next_notice() -> None:
    """A reader waiting on an empty queue wakes when a notice arrives."""
    queue: Coalescer[str] = Coalescer()
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    queue.put("x")
    assert await asyncio.wait_for(waiter, 1) == (["x"], False)
