"""Issue 89 item 1, with indilib's weather, telescope and dome simulators: after a power cut
(our whole server killed with SIGKILL and started again with the same command, as the guide's
systemd unit does) the watchdog connects the stations that came back disconnected itself, with
no client, and shuts nothing down; a client's DISCONNECT of the weather station during the
run is respected (not undone) and said, and the watchdog fails closed for it as before; a
watchdog watching another server connects the station again when that server is started
again under it (its link lost and made again)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import setprop
from serverkit import running
from serverkit import server
from simrig import PARK_BOUND
from simrig import SIMULATORS
from simrig import STALE
from simrig import THRESHOLD
from simrig import WEATHER
from simrig import ParkWatcher
from simrig import commands
from simrig import connect_simulators
from simrig import our_rig
from waiting import until
from waiting import wait_for
from watchdogkit import configure as watchdog_configure
from watchdogkit import said
from watchdogkit import watchdog

import indipyclient

pytestmark = pytest.mark.timeout(120)

#: Seconds past the stale time and the threshold the restarted watchdog is watched for a
#: shutdown: a tick and a loaded machine's slack.
MARGIN = 5.0


def safe(port: int) -> bool:
    return getprop(port, "WatchDog.WATCHDOG_STATUS.SAFE", timeout=5).get(
        "WatchDog.WATCHDOG_STATUS.SAFE") == "Ok"


def connected(port: int, device: str) -> bool:
    spec = f"{device}.CONNECTION.CONNECT"
    return getprop(port, spec, timeout=5).get(spec) == "On"


def _group(pid: str) -> int | None:
    """`pid`'s process group, None once it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else int(fields[2])


def alive_in(groups: list[int]) -> list[str]:
    return [entry.name for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _group(entry.name) in groups]


def kill_all(server: OurServer) -> None:
    """SIGKILL to the server's process group and each driver's (our server starts each in a
    session of its own), at once, as a power cut stops them."""
    process = server.process
    assert process is not None and process.poll() is None, server.log_tail()
    drivers = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    groups = [process.pid, *(group for pid in drivers if (group := _group(pid)) is not None)]
    for group in groups:
        os.killpg(group, signal.SIGKILL)
    process.wait(10)
    wait_for(lambda: not alive_in(groups), 10,
             lambda: f"processes of groups {groups} still alive")
    server.process = None


def test_after_a_power_cut_the_watchdog_connects_the_weather_and_shuts_nothing_down(
        tmp_path: Path) -> None:
    """Our server (``python -m indipyserver indipyagents.watchdog`` and indilib's three
    simulators) set up and saved (CONFIG_SAVE), safe, then killed whole and started again with
    the same command; no client sets anything. The weather station, mount and dome come back
    disconnected: the watchdog connects them, and it is safe again, with no "unsafe" said and no
    shutdown, through its stale time (10 s) plus its threshold (2 s) plus a margin. That limit
    proves it: a restarted watchdog whose station stays disconnected hears no WEATHER_STATUS
    and is unsafe once the stale time has passed since its start, and shuts down after the
    threshold (the issue's two minutes are the default stale time of 120 s)."""
    server = OurServer("indipyagents.watchdog", *SIMULATORS, workdir=tmp_path,
                       port=free_port())
    server.start()
    try:
        port = server.port
        connect_simulators(port)
        # indi_watchdog's commands but its server's address: hosted, ours learns it (the
        # guide's way), and the saved file then names no other server.
        for spec in (*[spec for spec in commands(port) if "INDISERVER_PORT" not in spec],
                     f"WatchDog.WATCHDOG_STALE.WATCHDOG_STALE_VALUE={STALE}",
                     "WatchDog.WATCHDOG_SHUTDOWN.PAUSE_SEQUENCE=Off",
                     "WatchDog.CONFIG_PROCESS.CONFIG_SAVE=On"):
            sent = setprop(port, spec, timeout=10)
            assert sent.returncode == 0, sent.describe()
        wait_for(lambda: safe(port), 30, lambda: f"safe before the cut\n{server.log_tail()}")
        kill_all(server)
        server.start()
        started = time.monotonic()
        watcher = ParkWatcher(port)
        try:
            wait_for(lambda: all(connected(port, device) for device in (
                WEATHER, "Telescope Simulator", "Dome Simulator")), 20,
                lambda: f"the stations connected again\n{server.log_tail()}")
            wait_for(lambda: safe(port), STALE,
                     lambda: f"safe again after the restart\n{server.log_tail()}")

            def through() -> bool:
                said = [text for _at, text in watcher.messages
                        if "unsafe" in text or "shutdown" in text]
                assert not said, said
                return time.monotonic() - started >= STALE + THRESHOLD + MARGIN

            wait_for(through, STALE + THRESHOLD + MARGIN + 5, "the watch through the stale time")
            assert safe(port), server.log_tail()
            assert not [park for park in watcher.records() if park.park == "On"], \
                watcher.records()
        finally:
            watcher.close()
    finally:
        server.stop()


async def test_a_clients_disconnect_of_the_weather_is_respected_and_said(
        tmp_path: Path) -> None:
    """A client's CONNECTION DISCONNECT on the weather station while the watchdog runs: said
    ("... was disconnected by a client: not reconnected"), left disconnected, and the watchdog
    fails closed for it (parks) as before."""
    async with our_rig(tmp_path) as rig:
        client = rig.client
        await client.set(WEATHER, "CONNECTION", {"DISCONNECT": "On"}, timeout=10)
        await said(client, f"{WEATHER} was disconnected by a client: not reconnected")
        await until(rig.parked, THRESHOLD + PARK_BOUND,
                    lambda: f"parked ({rig.cause()!r})")
        assert client.get(WEATHER, "CONNECTION", "CONNECT") == "Off"
        assert "WEATHER_STATUS was deleted" in rig.cause()


async def test_the_watchdog_connects_the_weather_again_when_its_link_comes_back(
        tmp_path: Path) -> None:
    """The watchdog in-process on one server, told to watch another (``--indi-port``'s way):
    our server as a child process with indilib's weather simulator. That one killed whole and
    started again with the same command, the watchdog's link is lost and made again, the
    station comes back disconnected, and the watchdog connects it: said, and seen connected
    by a client that only reads."""
    (tmp_path / "remote").mkdir()
    remote = OurServer("indi_simulator_weather", workdir=tmp_path / "remote", port=free_port())
    remote.start()
    try:
        driver = watchdog(tmp_path, host="127.0.0.1", port=remote.port)
        async with running(server(driver)) as ours, \
                indipyclient.connect("127.0.0.1", ours.port) as client, \
                indipyclient.connect("127.0.0.1", remote.port) as far:

            def station_connected() -> bool:
                return far.devices.vector(WEATHER, "CONNECTION") is not None \
                    and far.get(WEATHER, "CONNECTION", "CONNECT") == "On"

            await client.wait_for("WatchDog", "WATCHDOG_Trigger", timeout=10)
            await watchdog_configure(client, WATCHDOG_Trigger={"TRIGGER_WEATHER": "On"})
            await until(station_connected, 20, "the station connected by the watchdog")
            before = len(client.messages)
            await asyncio.to_thread(kill_all, remote)
            await asyncio.to_thread(remote.start)
            await until(lambda: any(
                f"{WEATHER} is disconnected (its driver started or restarted): connecting it"
                in message.message for message in list(client.messages)[before:]), 30,
                lambda: f"the watchdog connecting it again: "
                        f"{[m.message for m in list(client.messages)[before:]]}")
            await until(station_connected, 20, "the station connected again by the watchdog")
    finally:
        remote.stop()
