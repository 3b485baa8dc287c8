"""Helpers for the example tests: serve an example's IPyServer in-process on a free port and
talk to it with indilib's command-line clients without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import peers
import waiting

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    # The examples are scripts, not a package: import them from their folder, as a user would.
    sys.path.insert(0, str(EXAMPLES))


free_port = peers.free_port


async def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port now (without blocking the
    event loop, where an in-process server may be the one to accept)."""
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def wait_listening(port: int, timeout: float = 10.0) -> None:
    """Return once something accepts TCP connections on 127.0.0.1:port."""
    await waiting.until(lambda: accepts(port), timeout, f"something listening on port {port}",
                        interval=0.05)


@contextlib.asynccontextmanager
async def serving(*servers: Any, ports: list[int]) -> AsyncIterator[None]:
    """Run the servers' ``asyncrun()`` as tasks until the block ends, then stop them."""
    tasks = [asyncio.create_task(server.asyncrun()) for server in servers]
    try:
        for port in ports:
            await wait_listening(port)
        yield
    finally:
        for server in servers:
            stop = getattr(server, "shutdown", None)
            if stop is not None:
                result = stop()
                if asyncio.iscoroutine(result):
                    await result
        for task in tasks:
            if not task.done():
                try:
                    await asyncio.wait_for(asyncio.shield(task), 5)
                except TimeoutError:
                    task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)
                  and not isinstance(r, asyncio.CancelledError)]
        if errors:
            raise errors[0]


async def getprop(port: int, *specs: str, timeout: float | None = None,
                  cwd: Path | None = None) -> peers.GetpropResult:
    """``peers.getprop`` on a worker thread, so the in-process server keeps running meanwhile;
    its default bound too (long for named members, which end the read once all came; a
    wildcard waits it all out: :func:`getprop_holding`)."""
    return await asyncio.to_thread(peers.getprop, port, *specs, timeout=timeout, cwd=cwd)


async def getprop_holding(port: int, spec: str, *holding: str) -> peers.GetpropResult:
    """``peers.getprop_holding`` (a wildcard asked again until an answer holds `holding`) on a
    worker thread."""
    return await asyncio.to_thread(peers.getprop_holding, port, spec, *holding)


async def setprop(port: int, *specs: str, timeout: float = 5.0) -> peers.PeerResult:
    """``peers.setprop`` on a worker thread; fails the test unless indi_setprop exits 0."""
    result = await asyncio.to_thread(peers.setprop, port, *specs, timeout=timeout)
    assert result.returncode == 0, result.describe()
    return result


async def indi_eval(port: int, expression: str, timeout: float = 5.0) -> peers.PeerResult:
    """``peers.indi_eval`` (waiting until true) on a worker thread."""
    return await asyncio.to_thread(peers.indi_eval, port, expression, timeout=timeout)


async def wait_for_value(port: int, spec: str, predicate: Any, timeout: float = 15.0) -> str:
    """Poll ``indi_getprop spec`` (``waiting.until``) until ``predicate(value)`` holds; return
    the value."""
    last: str | None = None

    async def satisfied() -> str | None:
        nonlocal last
        last = (await getprop(port, spec)).get(spec)
        return last if last is not None and predicate(last) else None

    try:
        found: str = await waiting.until(satisfied, timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"{spec} never satisfied the condition; last value {last!r}") from None
    return found
