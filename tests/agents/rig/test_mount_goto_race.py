"""`IndiMount.slew_to` when a stale position set answers the goto: a mount not tracking sends
its position Idle as the sky turns, and one such set crossing the goto, read together with
the goto's Busy, made the answer say Busy (set-and-wait reports the burst's last state) and
the agent pause the night ("EQUATORIAL_EOD_COORD went Busy"), as the power-cut test saw. The
goto waits for its end either way. The SYNC alike: a parked mount's stale Idle position, then
its Alert, is a refusal, not a sync done. A mount driver of its own, in-process under our
server."""

from __future__ import annotations

import asyncio
from datetime import UTC
from datetime import datetime
from typing import Any

from serverkit import running
from serverkit import server

import indipyclient
from indipyagents.rig.mount import IndiMount
from indipyagents.rig.protocols import DeviceRefused
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
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


class ParkedMount(IPyDriver):
    """Parked: a SYNC answered by its position as the sky turned it (Idle, the coordinates
    not those told) in the same moment, then refused (Alert); with `takes`, synced (Ok at
    the position told) after the same stale report."""

    def __init__(self, takes: bool = False) -> None:
        super().__init__(Device(MOUNT, [
            NumberVector("EQUATORIAL_EOD_COORD", "Position", "Main", "rw", "Idle", [
                NumberMember("RA", "RA", "%.6f", 0, 24, 0, 1.0),
                NumberMember("DEC", "Dec", "%.6f", -90, 90, 0, 30.0)]),
            SwitchVector("ON_COORD_SET", "On set", "Main", "rw", "OneOfMany", "Ok", [
                SwitchMember("TRACK", "Track", "On"), SwitchMember("SLEW", "Slew", "Off"),
                SwitchMember("SYNC", "Sync", "Off")])]))
        self.takes = takes

    async def rxevent(self, event: Any) -> None:
        vector = event.vector
        if event.vectorname == "ON_COORD_SET":
            for name in ("TRACK", "SLEW", "SYNC"):
                vector[name] = event.get(name, "Off")
            await vector.send_setVector(state="Ok")
        elif isinstance(event, newNumberVector) and event.vectorname == "EQUATORIAL_EOD_COORD":
            vector["RA"] = float(vector["RA"]) + 0.001  # where the sky moved it
            await vector.send_setVector(state="Idle")
            await asyncio.sleep(0.2)
            if self.takes:
                vector["RA"], vector["DEC"] = event["RA"], event["DEC"]
                await vector.send_setVector(state="Ok")
            else:
                await vector.send_setVector(state="Alert",
                                            message="The mount is parked: unpark it first")


async def test_a_sync_answered_by_a_stale_idle_is_refused_by_the_alert_after_it() -> None:
    """The refusal that follows the stale Idle report is what `sync` says (DeviceRefused with
    the mount's reason), not "synced"; a mount that takes the SYNC after the same report is
    synced, on reading the position it was told."""
    for takes in (False, True):
        driver = ParkedMount(takes)
        async with running(server(driver)) as ours, \
                indipyclient.connect("127.0.0.1", ours.port) as client:
            await client.wait_for(MOUNT, "ON_COORD_SET", timeout=10)
            mount = IndiMount(client, MOUNT, clock=lambda: J2000)
            if takes:
                await asyncio.wait_for(mount.sync(5.0, 40.0), 10)
                coord = client.vector(MOUNT, "EQUATORIAL_EOD_COORD")
                assert (coord.state, round(float(coord["RA"]), 3)) == ("Ok", 5.0)
                continue
            try:
                await asyncio.wait_for(mount.sync(5.0, 40.0), 10)
            except DeviceRefused as refused:
                assert "refused the SYNC" in str(refused) and "parked" in str(refused)
            else:
                raise AssertionError("a SYNC the mount refused was said done")
