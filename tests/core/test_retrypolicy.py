"""The one reconnect/restart policy (`indipycore.retrypolicy`), pure: an injected random source
and a fake clock, no sleeping. Its users are held to it in tests/*/test_*_retry.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.retrypolicy import Backoff
from indipycore.retrypolicy import ConstantBackoff
from indipycore.retrypolicy import ExponentialBackoff
from indipycore.retrypolicy import NoBackoff
from indipycore.retrypolicy import RetriesExhausted
from indipycore.retrypolicy import Retry


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_exponential_delays_double_from_initial_up_to_the_cap() -> None:
    """Restart storms (INDI #1332) are avoided by a doubling, capped delay."""
    backoff = ExponentialBackoff(initial=0.5, cap=4.0)
    assert [backoff.compute(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_week_of_failures_does_not_overflow() -> None:
    """The exponent is bounded: the millionth failure still answers the cap."""
    assert ExponentialBackoff(initial=0.5, cap=30.0, factor=10.0).compute(1_000_000) == 30.0


def test_full_jitter_takes_up_to_the_whole_delay_and_equal_jitter_up_to_half() -> None:
    """Clients of a restarted server do not all come back at once: with the random source at
    its ends, full jitter spans (0, delay] and equal jitter (delay/2, delay]."""
    for r, full, equal in ((0.0, 8.0, 8.0), (0.5, 4.0, 6.0), (0.999, 0.008, 4.004)):
        assert ExponentialBackoff(1.0, 8.0, jitter="full", rng=lambda r=r: r).compute(4) == \
            pytest.approx(full)
        assert ExponentialBackoff(1.0, 8.0, jitter="equal", rng=lambda r=r: r).compute(4) == \
            pytest.approx(equal)
    assert ExponentialBackoff(1.0, 8.0, rng=lambda: 0.9).compute(4) == 8.0


@given(st.integers(1, 10_000), st.floats(0.0, 0.999999), st.sampled_from(["none", "full",
                                                                         "equal"]))
def test_every_delay_is_positive_and_at_most_the_cap(failures: int, r: float,
                                                     jitter: str) -> None:
    """Whatever the count and the random draw, a delay is in (0, cap]: never a busy loop,
    never longer than promised."""
    backoff = ExponentialBackoff(0.2, 5.0, jitter=jitter, rng=lambda: r)  # type: ignore[arg-type]
    assert 0.0 < backoff.compute(failures) <= 5.0


def test_constant_and_no_backoff() -> None:
    assert [ConstantBackoff(2.5).compute(n) for n in (1, 2, 50)] == [2.5, 2.5, 2.5]
    assert NoBackoff().compute(7) == 0.0
    assert isinstance(NoBackoff(), Backoff) and isinstance(ExponentialBackoff(), Backoff)


def test_invalid_parameters_are_refused() -> None:
    """A zero initial delay would spin; refuse it when the policy is configured."""
    for bad in ({"initial": 0}, {"initial": 2, "cap": 1}, {"factor": 0.5},
                {"jitter": "half"}):
        with pytest.raises(ValueError):
            ExponentialBackoff(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ConstantBackoff(-1)
    with pytest.raises(ValueError):
        Retry(retries=-1)


def test_failures_count_into_the_backoff_and_the_limit_gives_up() -> None:
    """Like indiserver -r: after `retries` failures in a row there is no further attempt."""
    attempts = Retry(ExponentialBackoff(0.1, 10.0), retries=3).attempts()
    assert [attempts.failed() for _ in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    with pytest.raises(RetriesExhausted):
        attempts.failed()
    with pytest.raises(RetriesExhausted):
        attempts.failed()
    with pytest.raises(RetriesExhausted):
        Retry(retries=0).attempts().failed()


def test_without_a_limit_it_retries_for_ever() -> None:
    attempts = Retry(ConstantBackoff(1.0)).attempts()
    assert {attempts.failed() for _ in range(10_000)} == {1.0}
    assert attempts.failures == 10_000


def test_a_stable_run_resets_the_count() -> None:
    """A connection (or driver) that lasted stable_after seconds starts again from the first
    delay, and its limit counts only recent trouble."""
    clock = FakeClock()
    attempts = Retry(ExponentialBackoff(1, 100), 3, stable_after=10, clock=clock).attempts()
    attempts.succeeded()
    assert attempts.failed() == 1
    attempts.succeeded()
    assert attempts.failed() == 2
    attempts.succeeded()
    clock.now += 10
    assert attempts.failed() == 1
    assert attempts.failures == 1


def test_a_short_run_does_not_reset() -> None:
    """Dropping soon after each success keeps counting towards the limit."""
    clock = FakeClock()
    attempts = Retry(ExponentialBackoff(1, 100), 2, stable_after=10, clock=clock).attempts()
    attempts.succeeded()
    clock.now += 9.9
    assert attempts.failed() == 1
    attempts.succeeded()
    clock.now += 9.9
    assert attempts.failed() == 2
    attempts.succeeded()
    clock.now += 9.9
    with pytest.raises(RetriesExhausted):
        attempts.failed()


def test_with_no_stable_time_any_success_resets_at_once() -> None:
    """A redis write that worked ends the outage: the next failure waits the first delay."""
    clock = FakeClock()
    attempts = Retry(ExponentialBackoff(1, 100), clock=clock).attempts()
    attempts.failed()
    attempts.failed()
    attempts.succeeded()
    assert attempts.failures == 0
    assert attempts.failed() == 1


def test_one_retry_serves_many_loops_each_with_its_own_count() -> None:
    """A Retry is configuration: two connections given the same one do not share failures."""
    retry = Retry(ExponentialBackoff(1, 100))
    first, second = retry.attempts(), retry.attempts()
    first.failed()
    first.failed()
    assert (first.failed(), second.failed()) == (4, 1)
    first.reset()
    assert first.failed() == 1


def test_a_custom_backoff_is_asked_with_the_count() -> None:
    """Anything with compute(failures) is a backoff (a Protocol, not a base class)."""
    asked: list[int] = []

    class Recording:
        def compute(self, failures: int) -> float:
            asked.append(failures)
            return 0.25 * failures

    attempts = Retry(Recording()).attempts()
    assert [attempts.failed(), attempts.failed()] == [0.25, 0.5]
    attempts.succeeded()
    assert attempts.failed() == 0.25
    assert asked == [1, 2, 1]
