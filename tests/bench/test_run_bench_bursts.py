"""bench/run.py's burst scenario: a short burst is run `Config.short_bursts` times a rep, each
on a fresh server, and the rep reports the median speed and the fewest messages delivered; a
long burst (indiserver's 100k takes a minute) is run once."""

from __future__ import annotations

from types import ModuleType
from types import SimpleNamespace
from typing import Any
from typing import Self

import pytest


def test_short_bursts_are_repeated_on_fresh_servers_and_their_median_kept(
    bench_run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = bench_run
    servers: list[object] = []
    # (seconds, delivered) of each stream, in the order the scenario runs them
    results = iter([(0.1, 10_000), (0.05, 10_000), (0.2, 9_999), (2.0, 100_000)])

    class FakeServer:
        def __init__(self, kind: str) -> None:
            servers.append(self)

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class Client:
        def close(self) -> None:
            pass

    def stream(ctl: Any, clients: Any, job: str, key: str, n: int, timeout: float) -> Any:
        seconds, delivered = next(results)
        return SimpleNamespace(t0=0.0, ends=[seconds], counts=[delivered])

    monkeypatch.setattr(run, "Server", FakeServer)
    monkeypatch.setattr(run, "connect", lambda srv: (Client(),))
    monkeypatch.setattr(run, "prepare", lambda c, spec: "job")
    monkeypatch.setattr(run, "stream", stream)
    out = run.scen_burst("ours", run.Config(bursts=(10_000, 100_000), short_bursts=3))
    assert len(servers) == 4  # three fresh servers for 10k, one for 100k
    assert out["burst_10000_msgps"] == pytest.approx(10_000 / 0.1)  # the median of three
    assert out["burst_10000_delivered"] == 9_999  # a loss in any run shows
    assert out["burst_100000_msgps"] == pytest.approx(100_000 / 2.0)
    assert out["burst_100000_delivered"] == 100_000


def test_three_short_bursts_a_rep_by_default(bench_run: ModuleType) -> None:
    run = bench_run
    assert run.Config().short_bursts == 3  # what bench/README.md and RESULTS.md describe
    ten_k, hundred_k = run.Config().bursts
    assert ten_k <= run.SHORT_BURST < hundred_k  # 10k repeated, 100k once
