"""Issue 89 item 1's flake: the watchdog called a station whose definitions were listed again
"defined again (its driver restarted)" and stayed unsafe for WATCHDOG_RESUME (600 s), because
it began watching in the middle of a listing (its WEATHER_STATUS Ok heard, then the next
listing's CONNECTION taken for a restarted driver's). Each listing here is a real one: our
server replays indilib's connected weather simulator to a real client's getProperties,
CONNECTION first, WEATHER_STATUS later. The watchdog's `Guard` is given that client's events
(`Guard.attach`, `Guard.hear`: what its link does with them) one at a time, and ACTIVE_WEATHER
is changed between two of them, so the interleaving a loaded run met by chance is met here
every time, in the order of the test's calls. The guard itself is not served or run: its
link's own reading would race the test's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serverkit import running
from serverkit import server
from simrig import WEATHER
from watchdogkit import watchdog

import indipyclient
from indipyagents.watchdog.guard import Guard
from indipyclient import Client
from indipyclient import EventStream
from indipyclient.model import events as ev

pytestmark = pytest.mark.timeout(60)


@dataclass
class Station:
    """indilib's weather simulator connected under our server, a client of that server and its
    event stream from after the connection, and an unserved watchdog's guard (watching nothing
    yet, TRIGGER_WEATHER on) attached to the client."""

    client: Client
    stream: EventStream
    guard: Guard

    def name(self, weather: str) -> None:
        """ACTIVE_WEATHER set as a client's request sets it: the face's value, then its hook."""
        face = self.guard.face
        face.active["ACTIVE_WEATHER"] = weather
        self.guard.configure()  # what the face does after a request (its `Watcher`)

    async def listing(self, until: str) -> None:
        """A listing of the station asked for; its events heard up to its `until` vector's
        definition (the rest stays in the stream)."""
        await self.client.send_getProperties(WEATHER)
        await self.hear_until(until)

    async def hear_until(self, vector: str) -> None:
        async with asyncio.timeout(10):
            async for event in self.stream:
                self.guard.hear(event)
                if isinstance(event, ev.defVector) and event.devicename == WEATHER \
                        and event.vectorname == vector:
                    return


@contextlib.asynccontextmanager
async def station(tmp_path: Path) -> AsyncIterator[Station]:
    ours = server()
    ours.add_exdriver("indi_simulator_weather", max_restarts=0)
    async with running(ours), indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.set(WEATHER, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(WEATHER, "WEATHER_STATUS", state="Ok", timeout=10)
        guard = watchdog(tmp_path).guard
        here = Station(client, client.events(), guard)
        try:
            here.name("")
            guard.face.trigger["TRIGGER_WEATHER"] = "On"
            guard.configure()
            guard.attach(client)
            yield here
        finally:
            here.stream.close()
            await guard.keeper.close()


async def test_a_station_named_in_the_middle_of_a_listing_is_not_taken_for_a_restart(
        tmp_path: Path) -> None:
    """ACTIVE_WEATHER names the station after a listing's CONNECTION and before its
    WEATHER_STATUS; the next listing (another client's arrival) is no lapse: safe. On the old
    code the verdict forgot what it had heard and took that CONNECTION for a restarted
    driver's: unsafe, "it was defined again (its driver restarted)", for 600 s."""
    async with station(tmp_path) as here:
        await here.listing(until="CONNECTION")
        here.name(WEATHER)
        await here.hear_until("WEATHER_STATUS")
        await here.listing(until="WEATHER_STATUS")
        judgement = here.guard.verdict.judge(here.guard.clock())
        assert judgement.cause is None and judgement.safe, judgement


async def test_a_station_named_once_connected_is_known_at_once(tmp_path: Path) -> None:
    """ACTIVE_WEATHER names a station the link already holds, connected and Ok: safe at once,
    from what the link holds. On the old code nothing was known of it until its next traffic,
    and indilib's station sends WEATHER_STATUS only when it changes: SAFE Idle, then unsafe
    once the stale time had passed ("WEATHER_STATUS has been not defined")."""
    async with station(tmp_path) as here:
        here.name(WEATHER)
        judgement = here.guard.verdict.judge(here.guard.clock())
        assert judgement.cause is None and judgement.safe, judgement
        here.name("")
        here.name(WEATHER)  # and again: a second naming is no lapse either
        await here.listing(until="WEATHER_STATUS")
        judgement = here.guard.verdict.judge(here.guard.clock())
        assert judgement.safe, judgement
