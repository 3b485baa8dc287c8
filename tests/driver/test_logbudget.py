"""Warnings about what peers send stay readable and bounded (a chaos run wrote a 10 MB log line
and 100,000 lines for 100,000 bad requests)."""

from __future__ import annotations

import logging
import time

import pytest
from driverkit import DEV
from driverkit import make_driver

from indipycore.logbudget import WarningBudget
from indipycore.logbudget import clip
from indipycore.logbudget import short
from indipycore.protocol import events as pe
from indipydriver.testing import DriverHarness


def test_clip_and_short_cut_long_strings_and_say_how_long() -> None:
    assert clip("x" * 10) == "x" * 10
    assert clip("x" * 1000, 20) == "x" * 20 + "... (1000 characters)"
    assert short("dev") == "'dev'"
    assert short("d" * 10_000).endswith("... (10002 characters)")


def test_budget_lets_a_burst_through_then_counts_and_reports_the_rest() -> None:
    now = [0.0]
    budget = WarningBudget(burst=3, period=10.0, clock=lambda: now[0])
    assert [budget.take() for _ in range(5)] == ["", "", "", None, None]
    now[0] = 10.0
    assert budget.take() == " (2 similar warnings left out)"
    assert budget.take() == ""


async def test_a_flood_of_bad_requests_gives_bounded_short_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200 requests with a 64 KiB vector name: each is still answered (nothing the client
    can see changes), but the log gets at most a burst of lines a period, each short."""
    began = time.monotonic()  # before the driver's budget starts its first period
    driver = make_driver()
    huge = "N" * (1 << 16)
    budget = WarningBudget()
    with caplog.at_level(logging.WARNING, logger="indipydriver.driver"):
        async with DriverHarness(driver) as client:
            for _ in range(200):
                await client.send(pe.NewNumberVector(DEV, huge, (pe.Number("A", "1"),)))
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "x"),)))
            assert (await client.expect(pe.SetNumberVector, name="NUM")).state == "Alert"
            took = time.monotonic() - began
    lines = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    # A burst a period: the flood takes well under one here, but on a machine loaded ~20 deep it
    # outlasted the 10 s period and a second burst was due (40 lines, 2026-11-29).
    periods = 1 + int(took // budget.period)
    assert 1 <= len(lines) <= budget.burst * periods, (len(lines), took)
    assert len(lines) < 200
    assert max(len(line) for line in lines) < 1000
