"""Helpers for the bridge tests: a bridge run as a task, a driver stored in redis, and waiting
on redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from typing import Any
from typing import TypeVar

import redis.asyncio as aioredis
import waiting
from serverkit import running

from indipydriver import IPyDriver
from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditoredis_async
from indiredis import redis_server

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


async def until(check: Callable[[], Awaitable[T | None]] | Callable[[], T | None],
                timeout: float = 15.0, what: str | Callable[[], str] = "") -> T:
    """``waiting.until`` with the bridges' longer default timeout (redis and a broker are
    separate processes): ``check`` may be an async function or a plain one."""
    value: T = await waiting.until(check, timeout, what, interval=0.05)
    return value


def client(port: int) -> aioredis.Redis:
    return aioredis.Redis(host="127.0.0.1", port=port, decode_responses=True)


@contextlib.asynccontextmanager
async def stored(driver: IPyDriver, redis_port: int, until_key: str,
                 **bridge_options: Any) -> AsyncIterator[aioredis.Redis]:
    """`driver` served by an IPyServer and inditoredis storing it in the redis at `redis_port`
    (with `bridge_options`), for the block, which starts once `until_key` is stored; yields a
    redis client, closed after."""
    r = client(redis_port)
    try:
        async with running(IPyServer(driver, host="127.0.0.1", port=0, handle_signals=False)) as s, \
                bridge(inditoredis_async(indi_server("127.0.0.1", s.port),
                                         redis_server("127.0.0.1", redis_port), **bridge_options)):
            await until(lambda: r.exists(until_key))
            yield r
    finally:
        await r.aclose()
