"""Issue 79 item 1 with the real peers: never image through a closed dome. Our watchdog and the
Imager Agent in one server (in-process) beside our camera, wheel and mount, indilib's weather
simulator and indilib's ``indi_simulator_dome``. A watcher (a client of its own, reading the
server's events in order) notes the dome's DOME_PARK and DOME_SHUTTER as they were at the
moment each exposure began (CCD_EXPOSURE going Busy).

- The plan names the dome: the night opens it before its first light; rain makes the watchdog
  hold the night and park the mount and the dome (its shutter closed on park, as the dome's
  DOME_SHUTTER_PARK_POLICY says); dry again, the night opens the dome before the frames after
  the hold, every light frame begins with the dome unparked and its shutter open, and the
  night's end closes it ([end] close_dome).
- The plan names no dome, the watchdog guards one that is closed: START ends in the Alert
  naming the dome and no exposure begins; opened by the user, START takes the frames.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
from agentkit import AGENT
from agentkit import night
from nightkit import CCD
from nightkit import WEATHER
from nightkit import fits_files
from nightkit import high_target
from nightkit import load_and_start
from nightkit import rain
from nightkit import sequence
from nightkit import sequence_ends
from nightkit import watched
from serverkit import running
from waiting import until

import indipyclient
from indipyagents.plan.model import Plan
from indipyagents.rig.dome import IndiDome
from indipyclient import events

WATCHDOG = "WatchDog"
DOME = "Dome Simulator"
MOUNT = "Python Mount"
WHEEL = "Python Filter Wheel"
LIGHTS = ["lights/Red/High_Red_Light_001.fits", "lights/Red/High_Red_Light_002.fits",
          "lights/Red/High_Red_Light_003.fits"]
#: Seconds a move of the dome simulator may take (its shutter about 6 s, a park some more).
MOVE = 60.0

pytestmark = pytest.mark.timeout(300)


@dataclass
class Watcher:
    """The dome as the server's events said it, in order, and at each exposure's start."""

    park: dict[str, str] = field(default_factory=dict)
    shutter: dict[str, str] = field(default_factory=dict)
    #: At each exposure's start: (DOME_PARK state, its switch on, DOME_SHUTTER state, its
    #: switch on).
    starts: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: How many exposures had begun each time the dome was seen to become parked (Ok, PARK).
    parked_after: list[int] = field(default_factory=list)
    exposing: bool = False

    def follow(self, event: events.Event) -> None:
        if not isinstance(event, events.VectorEvent):
            return
        name = (event.devicename, event.vectorname)
        state = getattr(event, "state", None)
        if name == (CCD, "CCD_EXPOSURE") and state is not None:
            busy = state.value == "Busy"
            if busy and not self.exposing:
                self.starts.append((*self._seen(self.park), *self._seen(self.shutter)))
            self.exposing = busy
        elif name in ((DOME, "DOME_PARK"), (DOME, "DOME_SHUTTER")):
            seen = self.park if event.vectorname == "DOME_PARK" else self.shutter
            was_parked = self._seen(self.park) == ("Ok", "PARK")
            seen.update({member: str(value) for member, value in event.data.items()})
            if state is not None:
                seen["state"] = state.value
            if not was_parked and self._seen(self.park) == ("Ok", "PARK"):
                self.parked_after.append(len(self.starts))

    @staticmethod
    def _seen(vector: dict[str, str]) -> tuple[str, str]:
        on = [member for member, value in vector.items() if member != "state" and value == "On"]
        return vector.get("state", ""), on[0] if len(on) == 1 else ""

    def open_at_each_start(self) -> bool:
        return all(park[1] == "UNPARK" and park[0] != "Busy" and shutter[1] == "SHUTTER_OPEN"
                   and shutter[0] != "Busy"
                   for park, shutter in (((s[0], s[1]), (s[2], s[3])) for s in self.starts))


@contextlib.asynccontextmanager
async def watching(client: indipyclient.Client) -> AsyncIterator[Watcher]:
    """A `Watcher` fed every event of `client` from now on, the dome's vectors as they are."""
    watcher = Watcher()
    for vector, seen in (("DOME_PARK", watcher.park), ("DOME_SHUTTER", watcher.shutter)):
        found = client.vector(DOME, vector)
        seen.update({member: str(found[member]) for member in found})
        seen["state"] = found.state.value

    async def feed(stream: indipyclient.EventStream) -> None:
        async for event in stream:
            watcher.follow(event)

    async with client.events(maxsize=100_000) as stream:
        task = asyncio.create_task(feed(stream))
        try:
            yield watcher
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def plan(dome: str) -> Plan:
    """Three light frames of a target high now at our mount's site (Greenwich)."""
    return night("domed", high_target(), camera=CCD, wheel=WHEEL, mount=MOUNT, dome=dome, close_dome=bool(dome))


def dome_closed(client: indipyclient.Client) -> bool:
    park, shutter = client.vector(DOME, "DOME_PARK"), client.vector(DOME, "DOME_SHUTTER")
    return park.state.value == "Ok" and park["PARK"] == "On" \
        and shutter.state.value in ("Ok", "Idle") and shutter["SHUTTER_CLOSE"] == "On"


async def close_the_dome(client: indipyclient.Client) -> None:
    """Parked, its shutter closed (the rig's own hands, as a user's client would)."""
    dome = IndiDome(client, DOME, timeout=MOVE)
    await dome.unpark()
    await dome.close_shutter()
    await dome.park()
    assert dome_closed(client)


async def guard(client: indipyclient.Client, *, weather: str, steps: dict[str, str]) -> None:
    """The watchdog guards our mount and indilib's dome, and holds the Imager Agent."""
    await client.set(WATCHDOG, "ACTIVE_DEVICES", {
        "ACTIVE_TELESCOPE": MOUNT, "ACTIVE_DOME": DOME, "ACTIVE_WEATHER": weather,
        "ACTIVE_CCD": "", "ACTIVE_SEQUENCER": AGENT}, timeout=10)
    await client.set(WATCHDOG, "WATCHDOG_SHUTDOWN", steps, timeout=10)


async def test_the_plans_dome_is_opened_after_the_rain_and_every_light_sees_the_sky(
        tmp_path: Path, tmp_home: Path) -> None:
    """The dome closed at START: opened before the first light. Rain while the second light
    is exposed: the night held, the mount and the dome parked by the watchdog (the dome's
    shutter closed with it). Dry: the night opens the dome and ends Ok with exactly its three
    frames; every exposure (the cut one too) began with the dome unparked and its shutter
    open, one of them after the watchdog's park; at the end the night closes the dome."""
    served = watched(tmp_path, "indi_simulator_weather", "indi_simulator_dome")
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(WEATHER, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(DOME, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.wait_for(DOME, "DOME_SHUTTER_PARK_POLICY", timeout=20)
        await client.set(DOME, "DOME_SHUTTER_PARK_POLICY", {
            "SHUTTER_CLOSE_ON_PARK": "On", "SHUTTER_OPEN_ON_UNPARK": "Off"}, timeout=10)
        await close_the_dome(client)
        await rain(client, False)
        await guard(client, weather=WEATHER, steps={
            "PAUSE_SEQUENCE": "On", "PARK_MOUNT": "On", "PARK_DOME": "On",
            "EXECUTE_SCRIPT": "Off"})
        await client.set(WATCHDOG, "WATCHDOG_WEATHER", {"WATCHDOG_WEATHER_VALUE": 1}, timeout=10)
        await client.set(WATCHDOG, "WATCHDOG_RESUME", {"WATCHDOG_RESUME_VALUE": 3}, timeout=10)
        await client.set(WATCHDOG, "WATCHDOG_Trigger", {"TRIGGER_WEATHER": "On"}, timeout=10)
        await until(lambda: client.get(WATCHDOG, "WATCHDOG_STATUS", "SAFE") == "Ok", 30,
                    "the watchdog's verdict safe")
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        folder = tmp_path / "frames" / "night"
        async with watching(client) as watcher:
            await load_and_start(client, tmp_path, plan(DOME))

            def exposing_the_second() -> bool:
                assert sequence(client)[0] != "Alert", sequence(client)
                vector = client.devices.vector(CCD, "CCD_EXPOSURE")
                return vector is not None and vector.state.value == "Busy" \
                    and folder.exists() and len(fits_files(folder)) == 1

            await until(exposing_the_second, 120, "the first light saved, the second exposing")
            await rain(client, True)
            cause = "weather 'Weather Simulator': WEATHER_STATUS is Alert"
            await until(lambda: sequence(client) == ("Busy", f"held: unsafe ({cause})"), 30,
                        lambda: f"the night held, not {sequence(client)}")
            await until(lambda: dome_closed(client), MOVE,
                        lambda: f"the dome closed by the watchdog: {watcher.park} "
                                f"{watcher.shutter}")
            assert client.get(WATCHDOG, "WATCHDOG_STEPS", "PARK_DOME") == "Ok"
            assert fits_files(folder) == LIGHTS[:1]
            await rain(client, False)
            assert await sequence_ends(client, 180) == ("Ok", "done")
            await until(lambda: dome_closed(client), MOVE, "the dome closed at the end")
        assert fits_files(folder) == LIGHTS
    assert len(watcher.starts) == 4, watcher.starts  # the cut second light begun twice
    assert watcher.open_at_each_start(), watcher.starts
    # parked by the watchdog during the second exposure, by the night's end after the last
    assert watcher.parked_after == [2, 4], watcher.parked_after


async def test_a_closed_guarded_dome_the_plan_does_not_name_holds_the_night_with_an_alert(
        tmp_path: Path, tmp_home: Path) -> None:
    """The plan names no dome; the watchdog guards indilib's dome, which is closed. START:
    SEQUENCE_STATE and AGENT_START_PROCESS Alert naming the dome and saying it is closed, no
    exposure begun, no frame saved. The user opens the dome and presses START: the three
    frames are taken, each begun with the dome open."""
    served = watched(tmp_path, "indi_simulator_dome")
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(DOME, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.wait_for(DOME, "DOME_SHUTTER", timeout=20)
        await close_the_dome(client)
        await guard(client, weather="", steps={
            "PAUSE_SEQUENCE": "Off", "PARK_MOUNT": "Off", "PARK_DOME": "On",
            "EXECUTE_SCRIPT": "Off"})
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(tmp_path / "frames")},
                         timeout=10)
        folder = tmp_path / "frames" / "night"
        async with watching(client) as watcher:
            await load_and_start(client, tmp_path, plan(""))
            state, message = await sequence_ends(client, 120)
            assert state == "Alert", message
            assert message.startswith(f"{DOME}: the dome is closed (parked, its shutter "
                                      "closed): no light frame or flat is started"), message
            assert "open it, then START" in message
            await until(lambda: client.get(AGENT, "AGENT_START_PROCESS", "SEQUENCE") == "Off",
                        10, "START ended")
            assert client.vector(AGENT, "AGENT_START_PROCESS").state.value == "Alert"
            assert watcher.starts == []
            assert not folder.exists() or fits_files(folder) == []
            await IndiDome(client, DOME, timeout=MOVE).open()
            await client.set(AGENT, "AGENT_START_PROCESS", {"SEQUENCE": "On"}, wait=False)
            await until(lambda: sequence(client)[0] == "Busy", 30, "START again")
            assert await sequence_ends(client, 180) == ("Ok", "done")
        assert fits_files(folder) == LIGHTS
    assert len(watcher.starts) == 3 and watcher.open_at_each_start(), watcher.starts


async def test_a_batch_through_indilibs_face_starts_no_light_through_the_closed_guarded_dome(
        tmp_path: Path, tmp_home: Path) -> None:
    """Issue 89 item 9(a): the guard is the camera's, which every face passes, not only the
    sequencer's dome trigger. The watchdog guards indilib's dome, parked and shut, beside
    indilib's weather simulator. BATCH.START of two 1 s lights of our camera (indilib's face,
    no plan): BATCH, PROGRESS and STATUS end Alert naming the dome and saying it is closed, no
    exposure begun, no frame saved. The dome opened, the same batch takes both frames."""
    served = watched(tmp_path, "indi_simulator_weather", "indi_simulator_dome")
    async with running(served), indipyclient.connect("127.0.0.1", served.port) as client:
        await client.set(WEATHER, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.set(DOME, "CONNECTION", {"CONNECT": "On"}, timeout=20)
        await client.wait_for(DOME, "DOME_SHUTTER", timeout=20)
        await close_the_dome(client)
        await guard(client, weather=WEATHER, steps={
            "PAUSE_SEQUENCE": "Off", "PARK_MOUNT": "Off", "PARK_DOME": "On",
            "EXECUTE_SCRIPT": "Off"})
        folder = tmp_path / "frames"
        await client.set(AGENT, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.set(AGENT, "DEVICES", {"CCD": CCD}, timeout=10)
        await client.set(AGENT, "IMAGE_NAME", {"IMAGE_FOLDER": str(folder),
                                               "IMAGE_PREFIX": "IMG"}, timeout=10)
        await client.set(AGENT, "GROUP_01", {"IMAGE_COUNT": 2, "CCD_BINNING": 1,
                                             "FILTER_SLOT": 0, "CCD_EXPOSURE_VALUE": 1},
                         timeout=10)
        async with watching(client) as watcher:
            await client.set(AGENT, "BATCH", {"START": "On"}, wait=False)
            batch = await client.wait_for(AGENT, "BATCH", state="Alert", timeout=60)
            said = batch.message or ""
            assert said.startswith(f"{DOME}: the dome is closed (parked, its shutter "
                                   "closed): no light frame or flat is started"), said
            assert client.vector(AGENT, "PROGRESS").state.value == "Alert"
            assert client.vector(AGENT, "STATUS").message == said
            assert watcher.starts == []
            assert not folder.exists() or fits_files(folder) == []
            await IndiDome(client, DOME, timeout=MOVE).open()
            await client.set(AGENT, "BATCH", {"START": "On"}, wait=False)

            def progress() -> tuple[str, str]:
                vector = client.vector(AGENT, "PROGRESS")
                return vector.state.value, vector.message or ""

            await until(lambda: progress() == ("Ok", "Batch done"), 60,
                        lambda: f"the batch done, not {progress()}")
        assert fits_files(folder) == ["IMG_1_001.fits", "IMG_1_002.fits"]
    assert len(watcher.starts) == 2 and watcher.open_at_each_start(), watcher.starts
