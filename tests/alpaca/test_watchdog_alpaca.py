"""The watchdog with an Alpaca safety monitor as its weather source (issue 72 item 2): our
server runs alpaca-simulators' SafetyMonitor through ``alpaca://`` (behind a relay that fails
on demand), the watchdog (``indipyagents.watchdog``, in-process) and our mount simulator; the
watchdog names the monitor in ACTIVE_WEATHER, set with indilib's indi_setprop as for
indi_watchdog, and parks the mount when the monitor says unsafe and when it stops answering
(no verdict is unsafe)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators
from alpacapeers import FaultyRelay
from alpacapeers import until
from peers import OurServer
from peers import getprop
from peers import setprop
from test_focuser_wheel import connect
from test_weather_fails_closed import SAFETY_BOUND

SAFETY = "Simulator Safety Monitor"
MOUNT = "Python Mount"
WATCHDOG = "WatchDog"
#: WATCHDOG_WEATHER_VALUE: seconds unsafe before the shutdown.
THRESHOLD = 2
#: Our mount simulator's park (a slew to the pole) and the step's own retries: slack.
PARK_SLACK = 60


def watched(our_server: object, relay: FaultyRelay, tmp_path: Path) -> OurServer:
    """The server, the monitor and the mount connected, the mount unparked and tracking,
    the watchdog set (indi_setprop, indi_watchdog's commands) to park the mount THRESHOLD s
    after the monitor's WEATHER_STATUS goes Alert, and its overall verdict safe."""
    server: OurServer = our_server(  # type: ignore[operator]
        f"alpaca://127.0.0.1:{relay.port}/safetymonitor/0", "--module",
        "indipysimulators.telescope", "--module", "indipyagents.watchdog")
    until(server.port, f'"{SAFETY}.CONNECTION.DISCONNECT"==1', tmp_path)
    for device in (SAFETY, MOUNT):
        connect(server.port, device, tmp_path)
    for command in (
            f"{WATCHDOG}.ACTIVE_DEVICES.ACTIVE_TELESCOPE;ACTIVE_WEATHER={MOUNT};{SAFETY}",
            f"{WATCHDOG}.WATCHDOG_WEATHER.WATCHDOG_WEATHER_VALUE={THRESHOLD}",
            f"{WATCHDOG}.WATCHDOG_SHUTDOWN.PARK_MOUNT;PARK_DOME;EXECUTE_SCRIPT;PAUSE_SEQUENCE="
            "On;Off;Off;Off",
            f"{WATCHDOG}.WATCHDOG_Trigger.TRIGGER_WEATHER=On"):
        assert setprop(server.port, command, cwd=tmp_path).returncode == 0, command
    until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==1', tmp_path)
    unpark(server, tmp_path)
    until(server.port, f'"{WATCHDOG}.WATCHDOG_STATUS.SAFE"==1', tmp_path, timeout=30)
    return server


def unpark(server: OurServer, cwd: Path) -> None:
    assert setprop(server.port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On", cwd=cwd).returncode == 0
    until(server.port, f'"{MOUNT}.TELESCOPE_PARK.UNPARK"==1 && '
          f'"{MOUNT}.TELESCOPE_PARK._STATE"==1', cwd)


def parked_within(server: OurServer, cwd: Path, bound: float) -> float:
    """Seconds until the mount is parked (PARK On, Ok), seen by indi_eval; fails past
    `bound`."""
    started = time.monotonic()
    until(server.port, f'"{MOUNT}.TELESCOPE_PARK.PARK"==1 && '
          f'"{MOUNT}.TELESCOPE_PARK._STATE"==1', cwd, timeout=bound)
    return time.monotonic() - started


@pytest.mark.timeout(400)
def test_watchdog_parks_the_mount_when_the_alpaca_monitor_says_unsafe_or_goes_quiet(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """The monitor turned unsafe (IsSafe false): the mount is parked within THRESHOLD +
    PARK_SLACK s, the watchdog's WATCHDOG_CAUSE naming the monitor; safe again and unparked,
    the monitor then holds every request without an answer: its WEATHER_STATUS goes Alert
    within SAFETY_BOUND and the mount is parked again within SAFETY_BOUND + THRESHOLD +
    PARK_SLACK s; the server keeps serving."""
    relay = FaultyRelay(alpaca_sim.port)
    try:
        server = watched(our_server, relay, tmp_path)
        alpaca_sim.put("safetymonitor/0/issafe", IsSafe="false")
        parked_within(server, tmp_path, THRESHOLD + PARK_SLACK)
        cause = getprop(server.port, f"{WATCHDOG}.WATCHDOG_CAUSE.CAUSE",
                        cwd=tmp_path)[f"{WATCHDOG}.WATCHDOG_CAUSE.CAUSE"]
        assert SAFETY in cause, cause

        alpaca_sim.put("safetymonitor/0/issafe", IsSafe="true")
        until(server.port, f'"{WATCHDOG}.WATCHDOG_STATUS.SAFE"==1', tmp_path, timeout=30)
        unpark(server, tmp_path)
        relay.fail("hang")
        parked_within(server, tmp_path, SAFETY_BOUND + THRESHOLD + PARK_SLACK)
        assert server.running
    finally:
        relay.close()
