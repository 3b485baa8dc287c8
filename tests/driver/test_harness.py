"""The DriverHarness itself: end to end with the demo-style flow, hardware and background tasks."""

from __future__ import annotations

import asyncio
import logging

import pytest
from driverkit import DEV
from driverkit import RecordingDriver
from driverkit import make_device
from driverkit import make_driver
from waiting import until

from indipycore.protocol import events as pe
from indipydriver.testing import DriverHarness


async def test_harness_end_to_end_request_reply_and_shutdown_on_close() -> None:
    driver = make_driver(echo=True)
    client = DriverHarness(driver)
    await client.start()
    defs = await client.get_properties()
    assert len(defs) == len([vector for vector in driver[DEV].values() if vector.enable])
    await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "2.5"),)))
    reply = await client.expect(pe.SetNumberVector, device=DEV, name="NUM")
    assert reply["A"].float == 2.5 and driver[DEV]["NUM"]["A"] == "2.5"
    await client.close()
    assert not client.serving and driver.stopped.is_set()


async def test_expect_times_out_when_nothing_matches() -> None:
    async with DriverHarness(make_driver(), timeout=0.05) as client:
        with pytest.raises(TimeoutError):
            await client.expect(pe.SetNumberVector)


class Ticker(RecordingDriver):
    async def hardware(self) -> None:
        vector = self[DEV]["NUM"]
        for i in range(3):
            vector["A"] = i
            await vector.send_setVector()
            await asyncio.sleep(0)
        raise RuntimeError("hardware broke")


async def test_hardware_runs_and_its_error_is_logged_without_stopping_the_driver(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The driver goes on answering, and its devices' clients are told (a device message) why
    the values stopped changing."""
    driver = Ticker(make_device())
    async with DriverHarness(driver) as client:
        values = [(await client.expect(pe.SetNumberVector))["A"].float for _ in range(3)]
        assert values == [0.0, 1.0, 2.0]
        told = await client.expect(pe.Message)
        assert told.device == DEV
        assert told.message == ("hardware of Ticker failed (RuntimeError: hardware broke); "
                                "what it updated is no longer updated")
        assert client.serving
        assert [e.name for e in await client.get_properties(device=DEV, name="TXT")] == ["TXT"]
    assert any("hardware" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_background_tasks_run_and_shutdown_stops_serve() -> None:
    driver = make_driver()
    started = asyncio.Event()

    async def background() -> None:
        started.set()
        await driver[DEV].send_message("from background")
        await asyncio.sleep(3600)

    driver.add_background(background())
    async with DriverHarness(driver) as client:
        assert (await client.expect(pe.Message)).message == "from background"
        driver.shutdown()
        await asyncio.wait_for(driver.stopped.wait(), 2)
        assert not client.serving


async def test_a_tight_send_loop_delivers_every_message() -> None:
    """Sends 20000 setNumberVectors; every one arrives (the send rate is bench/'s to measure)."""
    driver = make_driver()
    async with DriverHarness(driver) as client:
        vector = driver[DEV]["NUM"]
        count = 20000
        for i in range(count):
            vector["A"] = i % 10
            await vector.send_setVector()
        await until(lambda: client.frames_received >= count, what=f"{count} frames")
        assert client.frames_received == count


def test_the_same_driver_can_be_served_again_under_a_new_event_loop() -> None:
    """A restarted driver (or a second asyncio.run) must not trip over loop-bound queues."""
    driver = make_driver(echo=True)

    async def session() -> float:
        async with DriverHarness(driver) as client:
            await client.send(pe.NewNumberVector(DEV, "NUM", (pe.Number("A", "3"),)))
            return (await client.expect(pe.SetNumberVector))["A"].float

    assert asyncio.run(session()) == 3.0
    assert asyncio.run(session()) == 3.0
