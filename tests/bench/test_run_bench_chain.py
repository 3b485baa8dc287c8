"""bench/run.py's `chain` scenario: round trips through two chained servers of one kind (client
-> server -> remote server -> traffic driver). The chaining story's latency is judged on it, so
it must really go through two servers and report what it measured under its own names."""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def run(bench_run: ModuleType) -> ModuleType:
    return bench_run


def test_a_chain_is_two_servers_the_front_one_serving_the_other_as_a_remote(
    run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[str, str | None]] = []
    real = run.Server

    def recorded(kind: str, *args: object, **kwargs: object) -> object:
        server = real(kind, *args, **kwargs)
        exe = kwargs.get("exe", run.DRIVER)
        started.append((kind, None if exe is None else str(exe)))
        return server

    monkeypatch.setattr(run, "Server", recorded)
    monkeypatch.setattr(run, "RT_SETTLE", 0.0)
    out = run.PAIRED["chain"](["ours"], run.Config(trips=40, rt_sessions=1))
    assert [kind for kind, _ in started] == ["ours", "ours"]
    assert started[0][1] == str(run.DRIVER)  # the one behind runs the traffic driver
    assert started[1][1] is not None and started[1][1].startswith(f"Bench@{run.HOST}:")
    assert set(out["ours"]) == {"chain_rt_p50_us", "chain_rt_p99_us"}
    assert 0 < out["ours"]["chain_rt_p50_us"] <= out["ours"]["chain_rt_p99_us"]
