"""Backoff: the delay sequence, its cap, the restart limit and the reset after a stable run."""

import pytest

from indipyserver.drivers.backoff import Backoff


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_delays_double_from_initial_up_to_the_cap() -> None:
    """Restart storms (INDI #1332) are avoided by a doubling, capped delay."""
    b = Backoff(initial=0.5, factor=2, cap=4, max_restarts=None)
    assert [b.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_restart_limit_returns_none_when_used_up() -> None:
    """Like indiserver -r: after max_restarts failures there is no further attempt."""
    b = Backoff(initial=0.1, max_restarts=3)
    assert [b.next_delay() for _ in range(3)] == [0.1, 0.2, 0.4]
    assert b.next_delay() is None
    assert b.next_delay() is None


def test_zero_restarts_means_never_retry() -> None:
    """-r 0 makes a crash final at once."""
    assert Backoff(max_restarts=0).next_delay() is None


def test_a_stable_run_resets_delay_and_counter() -> None:
    """A driver that ran for stable_after seconds starts again from the initial delay."""
    clock = FakeClock()
    b = Backoff(initial=1, cap=100, stable_after=10, max_restarts=3, clock=clock)
    b.started()
    assert b.next_delay() == 1
    b.started()
    assert b.next_delay() == 2
    b.started()
    clock.now += 10
    assert b.next_delay() == 1
    assert b.restarts == 1


def test_a_short_run_does_not_reset() -> None:
    """Crashing soon after each start keeps counting towards the limit."""
    clock = FakeClock()
    b = Backoff(initial=1, stable_after=10, max_restarts=2, clock=clock)
    for expected in (1, 2, None):
        b.started()
        clock.now += 9.9
        assert b.next_delay() == expected


def test_invalid_parameters_are_refused() -> None:
    """A zero initial delay would spin; refuse it when the server is configured."""
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(initial=2, cap=1)

