"""bench/run.py's round trip: each rep runs several sessions of fresh servers, their start order
reversed every other one, and reports each server's median p50 and p99 over the sessions (one
session's p99 moves by 10 % or more with where the kernel placed the servers)."""

from __future__ import annotations

from types import ModuleType

import pytest


def test_each_server_gets_the_median_of_its_sessions_p50_and_p99(
    bench_run: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = bench_run
    orders: list[list[str]] = []
    # Per session, each server's trips (seconds): 100 trips, p50 = the 51st, p99 = the 100th.
    trips = {
        "indiserver": iter([[1.0] * 99 + [5.0], [2.0] * 99 + [9.0], [3.0] * 99 + [7.0]]),
        "ours": iter([[4.0] * 99 + [4.0], [1.0] * 99 + [8.0], [2.0] * 99 + [6.0]]),
    }

    def session(kinds: list[str], cfg: object, chain: bool) -> list[list[float]]:
        orders.append(list(kinds))
        return [list(next(trips[kind])) for kind in kinds]

    monkeypatch.setattr(run, "_roundtrip_session", session)
    out = run.scen_roundtrip(["indiserver", "ours"], run.Config(rt_sessions=3))
    assert orders == [["indiserver", "ours"], ["ours", "indiserver"], ["indiserver", "ours"]]
    assert out["indiserver"]["rt_p50_us"] == pytest.approx(2.0e6)
    assert out["indiserver"]["rt_p99_us"] == pytest.approx(7.0e6)
    assert out["ours"]["rt_p50_us"] == pytest.approx(2.0e6)
    assert out["ours"]["rt_p99_us"] == pytest.approx(6.0e6)


def test_three_sessions_a_rep_by_default(bench_run: ModuleType) -> None:
    assert bench_run.Config().rt_sessions == 3  # what bench/README.md and RESULTS.md describe
