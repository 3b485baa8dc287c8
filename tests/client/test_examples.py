"""The client examples the docs include (examples/watch_and_set.py, queclient_thread.py) run
as written against our server with the demo thermostat."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

import queclient_thread
import watch_and_set


async def test_watch_and_set_reaches_the_target(thermostat: int,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    last = await watch_and_set.watch_and_set("127.0.0.1", thermostat, 20.5, seconds=20)
    out = capsys.readouterr().out
    assert "TARGET is now 20.5: Ok" in out
    assert abs(last - 20.5) < 0.5, out


async def test_watch_and_set_refuses_a_target_out_of_range(thermostat: int) -> None:
    with pytest.raises(SystemExit, match="Thermostat.TARGET.TARGET: 99 is outside min -20 .. max 40"):
        await watch_and_set.watch_and_set("127.0.0.1", thermostat, 99.0, seconds=1)


async def test_queclient_thread_switches_the_heater_off(thermostat: int) -> None:
    assert await asyncio.to_thread(queclient_thread.run, "127.0.0.1", thermostat) == "OFF"
