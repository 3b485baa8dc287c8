"""The web client's default source (``ClientSource``) reconnects with the policy it is given:
a refused server is retried after the delays the injected backoff gave, and a connection that
worked resets the count."""

from __future__ import annotations

import pytest
import retrykit as rk
from waiting import until

from indipyclient import Retry
from indipyweb.clientsource import ClientSource


async def test_the_web_clients_source_uses_its_injected_retry(
        free_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    backoff, slept = rk.recorded(monkeypatch, 0.051, 0.052)
    async with ClientSource("127.0.0.1", free_port, retry=Retry(backoff)) as source:
        await until(lambda: len(backoff.asked) >= 2, what="two refusals")
        async with rk.dropping_server(free_port):
            await until(lambda: rk.counted_then_reset(backoff.asked, 2), what="a reset")
        assert not source.connected
    assert rk.slept_in_order(slept, [0.051, 0.052])
