"""indipyterm reconnects with the policy it is given (``TermApp(retry=...)``), observed: the
status line counts down to the delay the injected backoff gave."""

from __future__ import annotations

import types

import pytest
import retrykit as rk
from termhelpers import wait_for

from indipyclient import Retry
from indipyterm.app import TermApp


async def test_the_terminal_retries_with_its_injected_policy_and_shows_the_delay(
        free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused server: the client under the app asks the injected backoff (1, 2, ...), sleeps
    what it answered, and the status line says when the next try is due."""
    # The app's clock, fixed: the next try is due exactly the backoff's delay after it.
    monkeypatch.setattr("indipyterm.app.time", types.SimpleNamespace(monotonic=lambda: 1000.0))
    backoff, slept = rk.recorded(monkeypatch, 0.041, 30.0)
    app = TermApp("127.0.0.1", free_port, retry=Retry(backoff))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(backoff.asked) >= 2, what="two refusals")
        assert backoff.asked[:2] == [1, 2]
        await wait_for(pilot, lambda: app.status.retry_at == 1030.0, what="the 30 s delay")
        assert app.status.describe(1000.0).endswith("retrying in 30 s (Connection refused)")
    assert rk.slept_in_order(slept, [0.041, 30.0])
