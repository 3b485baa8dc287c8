"""`DriverHarness.get_properties` under a busy driver: it returns the answer to the
getProperties and nothing else, ends on the end of that answer (not on a quiet spell), and
gives up with a clear error instead of hanging (issue 28, item 1)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from driverkit import DEV
from driverkit import RecordingDriver
from driverkit import make_device
from driverkit import make_driver
from waiting import until

from indipycore.protocol import events as pe
from indipydriver.testing import DriverHarness
from indipyserver.demo import make_driver as make_thermostat


class FastPoller(RecordingDriver):
    """A driver whose hardware() sends a setNumberVector every millisecond, for ever."""

    sent = 0

    async def hardware(self) -> None:
        vector = self[DEV]["NUM"]
        while True:
            self.sent += 1
            vector["A"] = self.sent % 10
            await vector.send_setVector()
            await asyncio.sleep(0.001)  # the scenario: a 1 ms hardware loop


async def test_get_properties_returns_with_a_hardware_loop_at_1_ms() -> None:
    """Failed before the fix: get_properties waited for 0.05 s without traffic, which a 1 ms
    hardware loop never leaves, so the test hung (here: hit the 5 s wait_for)."""
    driver = FastPoller(make_device())
    async with DriverHarness(driver) as client:
        defs = await asyncio.wait_for(client.get_properties(), 5)
        assert [e.name for e in defs] == [n for n, v in driver[DEV].items() if v.enable]
        assert all(type(e).__name__.startswith("Def") for e in defs)


async def test_get_properties_returns_for_the_demo_polling_every_10_ms() -> None:
    """The issue's reproduction: the demo thermostat at interval=0.01 (it also sends its LOG
    BLOB, whose pings the harness answers meanwhile). Failed before the fix (timed out)."""
    async with DriverHarness(make_thermostat(interval=0.01, log_every=3)) as client:
        defs = await asyncio.wait_for(client.get_properties(), 5)
    assert {e.name for e in defs} == {
        "CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS",  # a standard device's (issue 42)
        "TEMPERATURE", "TARGET", "HEATER_MODE", "HEATER", "SITE", "LOG"}


async def test_updates_seen_while_answering_stay_available_in_order() -> None:
    """Only definitions are returned; the sets that arrived meanwhile (and before the call)
    are still there for receive/expect, in the order sent. Failed before the fix: the sets
    were returned mixed with the definitions, and those before the call were thrown away."""
    driver = FastPoller(make_device())
    async with DriverHarness(driver) as client:
        first = await client.expect(pe.SetNumberVector, name="NUM")
        # more sets queue up, unread, before the call
        sent = driver.sent
        await until(lambda: driver.sent >= sent + 10, 5, "ten more sets")
        defs = await asyncio.wait_for(client.get_properties(device=DEV, name="NUM"), 5)
        assert [(type(e), e.name) for e in defs] == [(pe.DefNumberVector, "NUM")]
        later = [await client.expect(pe.SetNumberVector, name="NUM") for _ in range(30)]
    values = [first["A"].float] + [e["A"].float for e in later]
    # Consecutive values of the 1 ms loop (mod 10): none was lost around the call.
    assert all((b - a) % 10 == 1 for a, b in itertools.pairwise(values)), values


class Stuck(RecordingDriver):
    """A driver that never answers getProperties: rxevent (auto_send_def off) never returns."""

    auto_send_def = False

    async def rxevent(self, event: Any) -> None:
        await asyncio.sleep(3600)


async def test_an_answer_that_never_ends_raises_a_clear_timeout() -> None:
    """Failed before the fix: it returned [] after the quiet spell as if the driver defined
    nothing, so the test failed later, somewhere unrelated."""
    async with DriverHarness(Stuck(make_device())) as client:
        with pytest.raises(TimeoutError, match="getProperties.*0.2 s"):
            await client.get_properties(timeout=0.2)


class DefinesInRxevent(RecordingDriver):
    """auto_send_def off: rxevent answers getProperties itself (one event per vector, as 3.x
    gave them), after a delay longer than the old quiet spell."""

    auto_send_def = False

    async def rxevent(self, event: Any) -> None:
        await asyncio.sleep(0.1)
        await event.vector.send_defVector()


async def test_with_auto_send_def_off_the_answer_is_what_rxevent_sends() -> None:
    """The answer ends when rxevent has handled the getProperties. Failed before the fix:
    0.05 s of quiet ended it early, with nothing."""
    driver = DefinesInRxevent(make_device())
    async with DriverHarness(driver) as client:
        defs = await client.get_properties()
    assert [e.name for e in defs] == [n for n, v in driver[DEV].items() if v.enable]


async def test_a_driver_that_stops_while_answering_is_an_eof_error() -> None:
    driver = make_driver()
    async with DriverHarness(driver) as client:
        driver.shutdown()
        await asyncio.wait_for(driver.stopped.wait(), 2)
        with pytest.raises(EOFError):
            await client.get_properties(timeout=1)
