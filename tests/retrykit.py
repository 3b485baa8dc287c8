"""Test doubles for the one reconnect policy (`indipycore.retrypolicy`): a backoff that gives
the delays a test chose and records what it was asked, and a record of the delays the code
then really slept. The tests of each user (tests/*/test_*_retry.py) drive them with a
real refused connection on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["RecordingBackoff", "counted_then_reset", "dropping_server", "record_sleeps", "recorded",
           "slept_in_order"]


class RecordingBackoff:
    """Answers ``delays`` one a call (the last one again once they are used up) and records the
    failure count of each call in ``asked``."""

    def __init__(self, *delays: float) -> None:
        self.delays = delays
        self.asked: list[int] = []

    def compute(self, failures: int) -> float:
        self.asked.append(failures)
        return self.delays[min(len(self.asked), len(self.delays)) - 1]


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``asyncio.sleep(delay)`` called from now on (the delay is still slept)."""
    real: Callable[..., Awaitable[Any]] = asyncio.sleep
    slept: list[float] = []

    async def sleep(delay: float, result: Any = None) -> Any:
        slept.append(delay)
        return await real(delay, result)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return slept


def recorded(monkeypatch: pytest.MonkeyPatch,
             *delays: float) -> tuple[RecordingBackoff, list[float]]:
    """A `RecordingBackoff` of ``delays``, and the record of the sleeps from now on."""
    return RecordingBackoff(*delays), record_sleeps(monkeypatch)


def slept_in_order(slept: list[float], delays: list[float]) -> bool:
    """Whether ``delays`` were slept in this order (other sleeps may come between)."""
    remaining = iter(slept)
    return all(any(s == d for s in remaining) for d in delays)


def counted_then_reset(asked: list[int], at_least: int) -> bool:
    """Whether the failures were counted 1, 2, ... (at least ``at_least`` of them) and then
    from 1 again: a success in between reset the count."""
    try:
        again = asked.index(1, 1)
    except ValueError:
        return False
    return again >= at_least and asked[:again] == list(range(1, again + 1))


@contextlib.asynccontextmanager
async def dropping_server(port: int) -> AsyncIterator[list[bytes]]:
    """A TCP server on 127.0.0.1:``port`` that reads what each connection sends first and
    then closes it (what it read is yielded, one item a connection)."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            received.append(await reader.read(65536))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        yield received
