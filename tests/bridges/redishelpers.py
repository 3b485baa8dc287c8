"""Helpers for the bridge tests: a bridge run as a task, and waiting on redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import redis.asyncio as aioredis

T = TypeVar("T")


@contextlib.asynccontextmanager
async def bridge(coro: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run a bridge coroutine for the block; cancel it after (its errors fail the test)."""
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=15)
        if not done:
            import io

            stacks = io.StringIO()
            for other in asyncio.all_tasks():
                other.print_stack(file=stacks)
            raise AssertionError(f"the bridge did not stop when cancelled:\n{stacks.getvalue()}")
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0,
                what: str = "") -> T:
    """Poll ``check`` (an async function) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


def client(port: int) -> aioredis.Redis:
    return aioredis.Redis(host="127.0.0.1", port=port, decode_responses=True)
