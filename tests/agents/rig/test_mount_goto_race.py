"""`IndiMount.slew_to` when a stale position set answers the goto: a mount not tracking sends
its position Idle as the sky turns, and one such set crossing the goto, read together with
the goto's Busy, made the answer say Busy (set-and-wait reports the burst's last state) and
the agent pause the night ("EQUATORIAL_EOD_COORD went Busy"), as the power-cut test saw. The
goto waits for its end either way. A mount driver of its own, in-process under our server."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from typing import Any

from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.rig.mount import IndiMount
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import newNumberVector

MOUNT = "Racing Mount"
J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)  # no precession to think about


class RacingMount(IPyDriver):
    """A goto answered by a stale Idle position and the goto's Busy in one write, then Ok at
    the target once released."""

    def __init__(self) -> None:
        super().__init__(Device(MOUNT, [NumberVector(
            "EQUATORIAL_EOD_COORD", "Position", "Main", "rw", "Idle", [
                NumberMember("RA", "RA", "%.6f", 0, 24, 0, 1.0),
                NumberMember("DEC", "Dec", "%.6f", -90, 90, 0, 90.0)])]))
        self.arrive = asyncio.Event()

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, newNumberVector) and event.vectorname == "EQUATORIAL_EOD_COORD":
            vector = event.vector
            vector["RA"] = float(vector["RA"]) + 0.001  # where the sky moved it
            await vector.send_setVector(state="Idle")
            await vector.send_setVector(state="Busy")
            await self.arrive.wait()
            vector["RA"], vector["DEC"] = event["RA"], event["DEC"]
            await vector.send_setVector(state="Ok")


async def test_a_goto_answered_by_a_stale_idle_then_busy_waits_for_the_end() -> None:
    """slew_to returns only once the mount says Ok at the target, whether the answer it read
    first said Idle or Busy; it raises nothing."""
    driver = RacingMount()
    async with running(server(driver)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        mount = IndiMount(client, MOUNT, clock=lambda: J2000)
        slew = asyncio.create_task(mount.slew_to(5.0, 40.0))
        await client.wait_for(MOUNT, "EQUATORIAL_EOD_COORD", state="Busy", timeout=10)
        assert not slew.done()
        driver.arrive.set()
        await asyncio.wait_for(slew, 10)
        assert client.vector(MOUNT, "EQUATORIAL_EOD_COORD").state == "Ok"
