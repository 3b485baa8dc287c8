"""Issue 72 item 2, with indilib's weather simulator: ours parks the mount and the dome when the
weather driver is killed (SIGKILL, never restarted), when the device is disconnected (its
WEATHER_STATUS deleted), when it stays silent past WATCHDOG_STALE (stopped), when
WEATHER_STATUS stays Busy past it, and when the named device never appears; each cause named
in WATCHDOG_CAUSE and logged once. In the SIGKILL case indilib's ``indi_watchdog``, set up by
the same commands beside its own simulators, parks nothing in the same time: it fails open.
A healthy station that is merely quiet (indilib's sends nothing but WEATHER_PARAMETERS, every
60 s) is asked for WEATHER_REFRESH and stays safe under a stale time of 10 s.

Issue 79 item 2: the weather driver killed and restarted by its server (ours, and indilib's
indiserver) is unsafe at once and parks within the threshold plus 10 s; the watchdog is safe
again only once the station, connected again (by the watchdog itself since issue 89 item 1),
has reported Ok for WATCHDOG_RESUME."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import IndiServer
from simrig import DOME
from simrig import MOUNT
from simrig import PARK_BOUND
from simrig import SIMULATORS
from simrig import STALE
from simrig import THRESHOLD
from simrig import WEATHER
from simrig import OurRig
from simrig import child_pid
from simrig import configure
from simrig import connect_simulators
from simrig import our_rig
from simrig import parks
from simrig import unparked_and_safe
from waiting import until
from watchdogkit import messages
from watchdogkit import said

import indipyclient
from indipyclient import delProperty

pytestmark = pytest.mark.timeout(240)


async def test_the_weather_driver_killed(tmp_path: Path,
                                         indiserver_factory: Callable[..., IndiServer]) -> None:
    """SIGKILL to the weather driver (indiserver deletes its device): ours is unsafe at once
    and parks both within the threshold plus a park; indi_watchdog, given the same commands
    and its weather driver killed at the same moment under ``indiserver -r 0``, has parked
    neither once the stale time plus the threshold plus 10 s have passed."""
    theirs = indiserver_factory("indi_watchdog", *SIMULATORS, extra_args=["-r", "0"])
    await asyncio.to_thread(connect_simulators, theirs.port)
    await asyncio.to_thread(configure, theirs.port)
    assert await asyncio.to_thread(parks, theirs.port) == ("Off", "Off")
    their_weather = child_pid(theirs.process.pid, "indi_simulator_weather")  # type: ignore[union-attr]
    async with our_rig(tmp_path) as rig:
        killed = time.monotonic()
        os.kill(rig.pids["indi_simulator_weather"], signal.SIGKILL)
        os.kill(their_weather, signal.SIGKILL)
        await rig.parked_within(THRESHOLD + PARK_BOUND)
        assert "deleted" in rig.cause() and WEATHER in rig.cause()
        await said(rig.client, "unsafe: weather 'Weather Simulator': the device was deleted")
        window = STALE + THRESHOLD + 10
        await until(lambda: time.monotonic() - killed >= window, window + 5)
        assert await asyncio.to_thread(parks, theirs.port) == ("Off", "Off")
        # The cause was said once in all that time, whatever the watchdog did meanwhile.
        told = [text for text in messages(rig.client)
                if "unsafe: weather 'Weather Simulator': the device was deleted" in text]
        assert len(told) == 1, messages(rig.client)
    assert "Weather Simulator" in theirs.log_text()


async def test_the_weather_device_disconnected(tmp_path: Path) -> None:
    """CONNECTION DISCONNECT on the weather station deletes its WEATHER_STATUS: unsafe, named
    so, and parked."""
    async with our_rig(tmp_path) as rig:
        await rig.client.set(WEATHER, "CONNECTION", {"DISCONNECT": "On"}, timeout=10)
        await rig.parked_within(THRESHOLD + PARK_BOUND)
        assert "WEATHER_STATUS was deleted" in rig.cause()


async def test_a_quiet_station_is_asked_and_a_silent_one_is_unsafe(tmp_path: Path) -> None:
    """With a stale time of 10 s and the simulator's 60 s period, the watchdog asks for
    WEATHER_REFRESH and stays safe through twice the stale time; once the driver is stopped
    (SIGSTOP: alive, silent) it is unsafe after the stale time and parks."""
    async with our_rig(tmp_path) as rig:
        client, refreshes = rig.client, []
        stream = client.events()
        start = time.monotonic()
        try:
            while time.monotonic() - start < 2 * STALE:
                try:
                    async with asyncio.timeout(1):
                        event = await anext(stream)
                except TimeoutError:
                    continue
                if event.devicename == WEATHER and event.vectorname == "WEATHER_REFRESH":
                    refreshes.append(event)
                assert client.get("WatchDog", "WATCHDOG_STATUS", "SAFE") == "Ok", rig.cause()
        finally:
            stream.close()
        assert len(refreshes) >= 2
        pid = rig.pids["indi_simulator_weather"]
        os.kill(pid, signal.SIGSTOP)
        try:
            await rig.parked_within(STALE + THRESHOLD + PARK_BOUND)
            assert "nothing heard from it for 10 s" in rig.cause()
            told = [text for text in messages(rig.client)
                    if "unsafe:" in text and "nothing heard from it" in text]
            assert len(told) == 1, messages(rig.client)
        finally:
            os.kill(pid, signal.SIGCONT)


async def test_weather_busy_past_the_stale_time(tmp_path: Path) -> None:
    """A warning (the temperature near its limit: WEATHER_STATUS Busy) that lasts longer than
    the stale time is unsafe and parks; until then, not."""
    async with our_rig(tmp_path) as rig:
        client = rig.client
        await client.set(WEATHER, "WEATHER_CONTROL", {"Temperature": 27}, timeout=10)
        await client.set(WEATHER, "WEATHER_REFRESH", {"REFRESH": "On"}, timeout=10)
        await until(lambda: client.vector(WEATHER, "WEATHER_STATUS").state == "Busy", 10)
        busy = time.monotonic()
        await rig.parked_within(STALE + THRESHOLD + PARK_BOUND)
        assert time.monotonic() - busy >= STALE
        assert "WEATHER_STATUS has been Busy for 10 s" in rig.cause()


async def test_a_weather_device_that_never_appears(tmp_path: Path) -> None:
    """ACTIVE_WEATHER naming no device on the server: the set is Alert with a message saying
    so, and after the stale time it is unsafe and parks."""
    async with our_rig(tmp_path) as rig:
        await rig.client.set("WatchDog", "ACTIVE_DEVICES",
                             {"ACTIVE_WEATHER": "Roof Weather"}, timeout=10)
        await until(lambda: rig.client.vector("WatchDog", "ACTIVE_DEVICES").state == "Alert", 10)
        await said(rig.client, "ACTIVE_WEATHER 'Roof Weather'", "not on the server")
        await rig.parked_within(STALE + THRESHOLD + PARK_BOUND)
        assert "'Roof Weather': the device has not appeared on the server in 10 s" in rig.cause()
        assert rig.client.get(MOUNT, "TELESCOPE_PARK", "PARK") == "On"


# -- issue 79 item 2: a station killed and restarted by its server --------------------------

#: WATCHDOG_RESUME in these tests: how long the restarted station must report Ok.
RESUME = 15
#: The watchdog's tick and a loaded machine's slack, on the resume's end only.
SLACK = 5.0


@contextlib.asynccontextmanager
async def under_indiserver(factory: Callable[..., IndiServer]) -> AsyncIterator[OurRig]:
    """Ours as the executable under indilib's ``indiserver`` (it restarts a dead driver, up
    to 10 times by default) beside the simulators, set up as `our_rig` does."""
    theirs = factory("indipy_agent_watchdog", *SIMULATORS)
    port = theirs.port
    await asyncio.to_thread(connect_simulators, port)
    await asyncio.to_thread(
        configure, port, f"WatchDog.WATCHDOG_STALE.WATCHDOG_STALE_VALUE={STALE}",
        "WatchDog.WATCHDOG_SHUTDOWN.PAUSE_SEQUENCE=Off",
        f"WatchDog.WATCHDOG_RESUME.WATCHDOG_RESUME_VALUE={RESUME}")
    async with indipyclient.connect("127.0.0.1", port) as client:
        assert theirs.process is not None
        rig = OurRig(client, port, {"indi_simulator_weather": child_pid(
            theirs.process.pid, "indi_simulator_weather")})
        await unparked_and_safe(rig)
        yield rig


async def killed_and_restarted(rig: OurRig) -> None:
    """SIGKILL to the weather driver, which its server restarts (its device deleted, then
    defined again with CONNECTION Off and no WEATHER_STATUS): unsafe at once, parked within
    the threshold plus 10 s of the kill; the restarted station is connected again by the
    watchdog itself (issue 89 item 1: no client sets CONNECT here) and, reporting Ok, is
    unsafe until it has reported Ok for WATCHDOG_RESUME, then safe again, said once."""
    client = rig.client
    # Parked, then unparked (a fresh HOME's telescope starts away from its park position and
    # takes some 16 s to slew there): the park times the watchdog, as the bench does.
    for device, vector in ((MOUNT, "TELESCOPE_PARK"), (DOME, "DOME_PARK")):
        if client.get(device, vector, "PARK") != "On":
            await client.set(device, vector, {"PARK": "On"}, wait=False)
    await until(rig.parked, PARK_BOUND, "the mount and dome parked at the start")
    await unparked_and_safe(rig)
    before = len(messages(client))

    def since_kill() -> list[str]:
        return messages(client)[before:]

    def safe() -> bool:
        return client.get("WatchDog", "WATCHDOG_STATUS", "SAFE") == "Ok"

    def reporting_ok() -> bool:
        status = client.devices.vector(WEATHER, "WEATHER_STATUS")
        return status is not None and status.state == "Ok" and not safe()

    def deleted(event: object) -> bool:
        return isinstance(event, delProperty) and event.devicename == WEATHER \
            and event.vectorname in (None, "WEATHER_STATUS")

    # The deletion is waited for as an event, watched from before the kill: with the
    # watchdog connecting the restarted station at once (issue 89 item 1), WEATHER_STATUS is
    # defined again so soon that a look at the client's copy missed its absence (a CI run).
    with client.waiters.watching(deleted) as gone:
        killed = time.monotonic()
        os.kill(rig.pids["indi_simulator_weather"], signal.SIGKILL)
        async with asyncio.timeout(10):
            await gone
    await said(client, f"{WEATHER} is disconnected (its driver started or restarted): "
                       "connecting it")
    await until(reporting_ok, 10, "the station, connected again by the watchdog, reporting Ok")
    ok = time.monotonic()
    await until(rig.parked, THRESHOLD + 10 - (time.monotonic() - killed),
                lambda: f"parked within {THRESHOLD + 10} s of the kill ({rig.cause()!r})")
    assert time.monotonic() - killed <= THRESHOLD + 10
    # Said at the first tick after the kill: the deletion, or already the restarted driver
    # defined again when both came within one tick.
    assert any(f"unsafe: weather {WEATHER!r}: " in text for text in since_kill()), since_kill()
    assert not any("safe again" in text for text in since_kill()), since_kill()
    await until(safe, RESUME + SLACK, lambda: f"safe once Ok for {RESUME} s ({rig.cause()!r})")
    waited = time.monotonic() - ok
    assert waited >= RESUME - 1, waited  # the watchdog heard the Ok at most a tick earlier
    await said(client, "safe again")
    assert sum("safe again" in text for text in since_kill()) == 1, since_kill()


async def test_a_weather_driver_killed_and_restarted_by_our_server(tmp_path: Path) -> None:
    """Under our server, which restarts a killed driver after 0.5 s."""
    async with our_rig(tmp_path, f"WatchDog.WATCHDOG_RESUME.WATCHDOG_RESUME_VALUE={RESUME}",
                       restarts=3) as rig:
        await killed_and_restarted(rig)


async def test_a_weather_driver_killed_and_restarted_by_indiserver(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """Under indilib's indiserver, which restarts it too (and sends every client the
    definitions another client asks for: the watchdog's own link included)."""
    async with under_indiserver(indiserver_factory) as rig:
        await killed_and_restarted(rig)
