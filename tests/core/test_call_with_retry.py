"""The one retry loop, ``Retry.call_with_retry(do, fail)`` (redis-py's shape), and the one
bound on a connect (``indipycore.connecting``): an injected sleep and clock, so nothing waits
for real. Every reconnect and restart loop of the project is a call of it (tests/*/test_*_retry.py
hold each to its policy)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from indipycore.connecting import CONNECT_TIMEOUT
from indipycore.connecting import connect_within
from indipycore.retrypolicy import Attempts
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry
from indipycore.retrypolicy import RunEnded


class FakeTime:
    """A clock and a sleep that advances it: the delays slept are recorded, none is waited."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        self.now += delay
        await asyncio.sleep(0)  # a turn of the loop, as a real sleep gives


async def test_failures_are_retried_after_the_backoffs_delays_until_do_succeeds() -> None:
    """Refused twice, then it works: ``fail`` saw each error before its delay was slept, and
    the result of ``do`` is returned."""
    fake = FakeTime()
    seen: list[str] = []
    tries = iter([ConnectionRefusedError("refused 1"), ConnectionRefusedError("refused 2"), None])

    async def do() -> str:
        error = next(tries)
        if error is not None:
            raise error
        return "up"

    async def fail(error: BaseException) -> None:
        seen.append(f"{error} before {len(fake.slept)} sleeps")

    retry = Retry(ExponentialBackoff(1.0, 10.0), clock=fake.clock)
    assert await retry.call_with_retry(do, fail, sleep=fake.sleep) == "up"
    assert seen == ["refused 1 before 0 sleeps", "refused 2 before 1 sleeps"]
    assert fake.slept == [1.0, 2.0]


async def test_the_limit_of_failures_in_a_row_raises_retries_exhausted_from_the_last_error(
) -> None:
    """retries=2: the third failure in a row gives up; ``fail`` still saw it (its cleanup is
    done), and the error says how many failures and which was last."""
    fake = FakeTime()
    failed: list[int] = []

    async def do() -> None:
        raise ConnectionRefusedError(f"refused {len(failed) + 1}")

    async def fail(error: BaseException) -> None:
        failed.append(len(failed) + 1)

    retry = Retry(ConstantBackoff(0.5), retries=2, clock=fake.clock)
    with pytest.raises(RetriesExhausted) as raised:
        await retry.call_with_retry(do, fail, sleep=fake.sleep)
    assert failed == [1, 2, 3] and fake.slept == [0.5, 0.5]
    assert raised.value.failures == 2 and str(raised.value.__cause__) == "refused 3"


async def test_a_run_that_lasted_stable_after_resets_the_count() -> None:
    """A kept-up loop: each run marks itself up (``attempts.succeeded()``) and ends with
    ``RunEnded``. Short runs count up (delays 1, 2, 4); one that lasted ``stable_after``
    starts the count again (delay 1), so the limit is never reached by a long-lived peer."""
    fake = FakeTime()
    retry = Retry(ExponentialBackoff(1.0, 60.0), retries=3, stable_after=10.0, clock=fake.clock)
    attempts = retry.attempts()
    lengths = iter([0.0, 0.0, 0.0, 30.0, 0.0])

    async def do() -> None:
        attempts.succeeded()
        length = next(lengths, None)
        if length is None:
            return
        fake.now += length
        raise RunEnded("closed by the server")

    await retry.call_with_retry(do, attempts=attempts, sleep=fake.sleep)
    assert fake.slept == [1.0, 2.0, 4.0, 1.0, 2.0]


async def test_each_failure_is_logged_once_with_its_delay(
        caplog: pytest.LogCaptureFixture) -> None:
    """By default one INFO line a failure; a loop's own ``log`` replaces it (not added to it)."""
    fake = FakeTime()
    retry = Retry(ConstantBackoff(0.25), clock=fake.clock)
    tries = iter([OSError("no route"), None])

    async def do() -> None:
        error = next(tries)
        if error is not None:
            raise error

    with caplog.at_level(logging.INFO, logger="indipycore"):
        await retry.call_with_retry(do, sleep=fake.sleep)
    assert [r.getMessage() for r in caplog.records] == ["no route; retrying in 0.25 s"]
    caplog.clear()
    said: list[tuple[str, float]] = []
    tries = iter([OSError("no route"), None])
    with caplog.at_level(logging.INFO, logger="indipycore"):
        await retry.call_with_retry(do, log=lambda e, d: said.append((str(e), d)),
                                    sleep=fake.sleep)
    assert said == [("no route", 0.25)] and caplog.records == []


async def test_other_errors_and_those_not_retryable_propagate_at_once() -> None:
    """Only ``errors`` are retried, and of them only what ``retryable`` allows (a refused
    password is no outage)."""
    fake = FakeTime()
    retry = Retry(ConstantBackoff(1.0), clock=fake.clock)

    async def broken() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await retry.call_with_retry(broken, sleep=fake.sleep)

    async def refused() -> None:
        raise PermissionError("wrong password")

    with pytest.raises(PermissionError):
        await retry.call_with_retry(refused, sleep=fake.sleep,
                                    retryable=lambda e: not isinstance(e, PermissionError))
    assert fake.slept == []


async def test_a_cancellation_ends_the_loop_in_its_sleep_and_in_a_swallowing_do() -> None:
    """Cancelled while it sleeps, the loop ends at once; cancelled while a library below turns
    the cancellation into an error (redis-py does), it ends too instead of retrying."""
    retry = Retry(ConstantBackoff(3600.0))

    async def refused() -> None:
        raise ConnectionRefusedError

    in_sleep = asyncio.Event()

    async def sleep(delay: float) -> None:  # the real sleep, once the loop is in it
        in_sleep.set()
        await asyncio.sleep(delay)

    sleeping = asyncio.create_task(retry.call_with_retry(refused, sleep=sleep))
    await in_sleep.wait()
    sleeping.cancel()
    async with asyncio.timeout(1):
        with pytest.raises(asyncio.CancelledError):
            await sleeping

    started = asyncio.Event()
    tries: list[int] = []

    async def swallowing() -> None:
        tries.append(1)
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise ConnectionError("connection closed by a cancelled read") from None

    fake = FakeTime()
    task = asyncio.create_task(retry.call_with_retry(swallowing, sleep=fake.sleep))
    await started.wait()
    task.cancel()
    async with asyncio.timeout(1):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert tries == [1] and fake.slept == []


def test_each_loop_counts_with_its_own_attempts() -> None:
    """One ``Retry`` shared by two loops: each counter is its own."""
    retry = Retry(ConstantBackoff(1.0), retries=1)
    first, second = retry.attempts(), retry.attempts()
    assert isinstance(first, Attempts)
    first.failed()
    second.failed()
    with pytest.raises(RetriesExhausted):
        first.failed()


async def test_a_connect_past_its_timeout_is_a_timeout_error_saying_how_long() -> None:
    """A peer that never answers: the attempt gives up after the timeout (say so), an attempt
    that completes in time is returned, and the default is the one ``CONNECT_TIMEOUT``."""
    never = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError, match=r"timed out after 0.05 s"):
        await connect_within(never, 0.05)
    assert never.cancelled()

    async def quick() -> str:
        return "connected"

    assert await connect_within(quick()) == "connected"
    assert connect_within.__defaults__ == (CONNECT_TIMEOUT,)
