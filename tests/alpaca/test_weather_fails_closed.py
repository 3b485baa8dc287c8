"""Alpaca weather sources fail closed (issue 72 item 2): a SafetyMonitor or ObservingConditions
consumed through ``alpaca://`` is a weather device whose WEATHER_STATUS is Ok when safe and
Alert when unsafe, and Alert too, within a stated bound, when the Alpaca side stops giving a
verdict: its server killed (SIGKILL), answering HTTP 500 or a body that is not JSON, or
holding requests without an answer. Each such loss is said once in the log, naming the
device. The peers are real: alpaca-simulators 1.3.2 (through a relay that fails on demand)
and our own Alpaca face serving our weather simulator."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alpacapeers import AlpacaSimulators
from alpacapeers import FaultyRelay
from alpacapeers import until
from peers import OurServer
from peers import free_port
from peers import getprop_holding
from peers import setprop
from test_focuser_wheel import connect
from test_focuser_wheel import serve
from waiting import wait_for

import indipyclient
from indipyclient.model.events import setVector
from indipycore.protocol import State

SAFETY = "Simulator Safety Monitor"
CONDITIONS = "Simulator Observing Conditions"

#: The SafetyMonitor's bound: its read period (1 s) plus one call's timeout (the client's 5 s)
#: plus slack for a loaded machine.
SAFETY_BOUND = 1.0 + 5.0 + 4.0
#: The ObservingConditions' read period in these tests (WEATHER_UPDATE, set by `quicken`; 10 s
#: by default): what is proved is that a read with no verdict is Alert, not how often reads
#: come, and each test waits out several periods.
CONDITIONS_PERIOD = 2.0
#: The ObservingConditions' bound: its read period plus one call's timeout (5 s) plus slack.
CONDITIONS_BOUND = CONDITIONS_PERIOD + 5.0 + 5.0


def alert_after(port: int, device: str, act: Callable[[], None], bound: float,
                more: int) -> float:
    """Seconds from `act` (a kill, a relay told to fail) until `device`'s WEATHER_STATUS is
    Alert, seen by a client connected before; fails past `bound`. Then `more` further
    WEATHER_STATUS sets are waited for, all Alert (the device keeps reading, and keeps
    failing), so the caller can count what the log said meanwhile."""
    async def watch() -> float:
        async with indipyclient.connect("127.0.0.1", port) as client:
            await client.wait_for(device, "WEATHER_STATUS", state=State.OK, timeout=30)
            stream = client.events()
            act()
            started = time.monotonic()
            await client.wait_for(device, "WEATHER_STATUS", state=State.ALERT, timeout=bound)
            took = time.monotonic() - started
            alerts = 0  # the first Alert set, then `more`, nothing else meanwhile
            async with asyncio.timeout(bound * (more + 2)):
                async for event in stream:
                    if not (isinstance(event, setVector) and event.devicename == device
                            and event.vectorname == "WEATHER_STATUS"):
                        continue
                    if alerts:
                        assert event.state in (None, State.ALERT), event.state
                    alerts += event.state == State.ALERT or bool(alerts)
                    if alerts > more:
                        break
            return took
    return asyncio.run(watch())


def test_safety_monitor_killed_is_alert_within_the_bound(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """alpaca-simulators' SafetyMonitor, safe: WEATHER_STATUS Ok; its server killed with
    SIGKILL: Alert within SAFETY_BOUND (10 s: the 1 s period, the 5 s call timeout, slack),
    and it stays Alert while the monitor is gone; the failed read is logged once, naming the
    device, however many reads fail after it."""
    server = serve(our_server, alpaca_sim, "safetymonitor/0", SAFETY)
    connect(server.port, SAFETY, tmp_path)
    took = alert_after(server.port, SAFETY, alpaca_sim.stop, SAFETY_BOUND, more=3)
    assert took < SAFETY_BOUND
    log = server.log_text()
    lines = [line for line in log.splitlines() if "IsSafe (unsafe until it answers) failed" in line]
    assert len(lines) == 1, log[-3000:]
    assert f"indipydriver.devices.{SAFETY}" in lines[0]
    assert server.running


@pytest.mark.parametrize("mode", ["500", "garbage", "hang"])
def test_safety_monitor_that_answers_no_verdict_is_alert(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path, mode: str) -> None:
    """The SafetyMonitor behind a relay that starts answering HTTP 500, a body that is not
    JSON, or nothing at all (held): WEATHER_STATUS Alert within SAFETY_BOUND, with the failure
    logged once naming the device; healed, it is Ok again and the log says it works again.
    A verdict of unsafe (IsSafe false) is Alert too, and safe again Ok."""
    relay = FaultyRelay(alpaca_sim.port)
    try:
        server = serve(our_server, relay, "safetymonitor/0", SAFETY)
        connect(server.port, SAFETY, tmp_path)
        took = alert_after(server.port, SAFETY, lambda: relay.fail(mode), SAFETY_BOUND,
                           more=2)
        assert took < SAFETY_BOUND
        relay.heal()
        until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==1', tmp_path, timeout=20)
        log = server.log_text()
        failed = [line for line in log.splitlines()
                  if "IsSafe (unsafe until it answers) failed" in line]
        assert len(failed) == 1, log[-3000:]
        assert f"indipydriver.devices.{SAFETY}" in failed[0]
        assert {"500": "HTTP 500", "garbage": "not JSON", "hang": "does not answer"}[mode] \
            in failed[0]
        assert server.wait_for_log("IsSafe (unsafe until it answers) works again")
        alpaca_sim.put("safetymonitor/0/issafe", IsSafe="false")
        until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==3', tmp_path, timeout=20)
        alpaca_sim.put("safetymonitor/0/issafe", IsSafe="true")
        until(server.port, f'"{SAFETY}.WEATHER_STATUS._STATE"==1', tmp_path, timeout=20)
    finally:
        relay.close()


def test_observing_conditions_killed_is_alert_within_the_bound(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """alpaca-simulators' ObservingConditions, its readings inside the OK ranges: Ok; its
    server killed with SIGKILL: WEATHER_STATUS Alert, every light Alert, within
    CONDITIONS_BOUND (12 s: the 2 s period, the 5 s call timeout, slack), the readings kept
    as they were but no longer a verdict; said once in the log, naming the device."""
    server = conditions_ready(our_server, alpaca_sim, tmp_path)
    took = alert_after(server.port, CONDITIONS, alpaca_sim.stop, CONDITIONS_BOUND, more=1)
    assert took < CONDITIONS_BOUND
    # A wildcard, as every light is the point.
    lights = getprop_holding(server.port, f"{CONDITIONS}.WEATHER_STATUS.*", timeout=3,
                             cwd=tmp_path)
    assert set(lights.values()) == {"Alert"}, lights
    log, failed = weather_failures(server)
    assert len(failed) == 1, log[-3000:]
    assert f"indipydriver.devices.{CONDITIONS}" in failed[0]


def test_observing_conditions_critical_sensor_failing_is_alert(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """A critical sensor (wind speed) answering HTTP 500 while the others answer: no verdict,
    so WEATHER_STATUS Alert within CONDITIONS_BOUND, the reason naming the sensor, logged
    once; a sensor that is not critical (temperature) failing keeps its last value and the
    status Ok, its failure logged once too; healed, Ok again."""
    relay = FaultyRelay(alpaca_sim.port)
    try:
        server = conditions_ready(our_server, relay, tmp_path)
        took = alert_after(server.port, CONDITIONS, lambda: relay.fail("500", "windspeed"),
                           CONDITIONS_BOUND, more=1)
        assert took < CONDITIONS_BOUND
        log, failed = weather_failures(server)
        assert len(failed) == 1 and "windspeed: HTTP 500" in failed[0], log[-3000:]
        relay.fail("500", "temperature")
        until(server.port, f'"{CONDITIONS}.WEATHER_STATUS._STATE"==1', tmp_path,
              timeout=CONDITIONS_BOUND * 2)
        assert server.wait_for_log("Reading observingconditions/0 temperature failed",
                                   timeout=CONDITIONS_BOUND)
        relay.heal()
        assert server.wait_for_log("Reading observingconditions/0 temperature works again",
                                   timeout=CONDITIONS_BOUND * 2)
        assert server.log_text().count("Reading observingconditions/0 temperature failed") == 1
        until(server.port, f'"{CONDITIONS}.WEATHER_STATUS._STATE"==1', tmp_path)
    finally:
        relay.close()


def test_observing_conditions_whose_readings_stopped_is_alert(
        our_server: object, alpaca_sim: AlpacaSimulators, tmp_path: Path) -> None:
    """A server that still answers but whose readings have stopped: TimeSinceLastUpdate
    past STALE_AFTER (120 s; the relay answers 999) is no verdict, so WEATHER_STATUS Alert
    within CONDITIONS_BOUND, the reason saying how old, logged once; fresh again (the
    simulator's own 1 s), Ok."""
    relay = FaultyRelay(alpaca_sim.port)
    try:
        server = conditions_ready(our_server, relay, tmp_path)
        took = alert_after(server.port, CONDITIONS,
                           lambda: relay.fail("old", "timesincelastupdate"), CONDITIONS_BOUND,
                           more=1)
        assert took < CONDITIONS_BOUND
        log, failed = weather_failures(server)
        assert len(failed) == 1 and "the readings are 999 s old" in failed[0], log[-3000:]
        relay.heal()
        until(server.port, f'"{CONDITIONS}.WEATHER_STATUS._STATE"==1', tmp_path,
              timeout=CONDITIONS_BOUND * 2)
    finally:
        relay.close()


def conditions_ready(our_server: object, source: AlpacaSimulators | FaultyRelay, cwd: Path) -> OurServer:
    """Our server with the ObservingConditions at `source` (the simulators, or a relay to
    them) connected, read every CONDITIONS_PERIOD seconds, its ranges wide and its status Ok."""
    server = serve(our_server, source, "observingconditions/0", CONDITIONS)
    connect(server.port, CONDITIONS, cwd)
    quicken(server.port, CONDITIONS, cwd)
    widen_ranges(server.port, CONDITIONS, cwd)
    return server


def weather_failures(server: OurServer) -> tuple[str, list[str]]:
    """The server's log, and its lines saying a weather read failed."""
    log = server.log_text()
    return log, [line for line in log.splitlines() if "Reading the weather failed" in line]


def quicken(port: int, device: str, cwd: Path) -> None:
    """`device` (an ObservingConditions) read every CONDITIONS_PERIOD seconds (WEATHER_UPDATE
    PERIOD; a new period starts when it is set)."""
    assert setprop(port, f"{device}.WEATHER_UPDATE.PERIOD={CONDITIONS_PERIOD:g}",
                   cwd=cwd).returncode == 0
    until(port, f'"{device}.WEATHER_UPDATE.PERIOD"=={CONDITIONS_PERIOD:g}', cwd)


def widen_ranges(port: int, device: str, cwd: Path) -> None:
    """Every critical parameter's OK range made wide (the simulator's random readings may
    fall outside the defaults, and the tests need a safe start), then WEATHER_STATUS Ok."""
    values = getprop_holding(port, f"{device}.WEATHER_STATUS.*", timeout=3, cwd=cwd)  # names
    for key in values:
        name = key.rsplit(".", 1)[1]
        assert setprop(port, f"{device}.{name}.MIN_OK;MAX_OK;PERC_WARN=-1000;1000;0",
                       cwd=cwd).returncode == 0
    until(port, f'"{device}.WEATHER_STATUS._STATE"==1', cwd)


WEATHER = "Python Weather"


def face_and_bridge(our_server: object, tmp_path: Path) -> tuple[OurServer, OurServer, str, str]:
    """Server A (our weather simulator as an executable driver, served as Alpaca; started
    here, not by the fixture, so a test may kill it) and server B taking A's Alpaca devices
    back: an ObservingConditions and a SafetyMonitor of the same station, both connected on
    B and Ok. Returns A, B and B's names of the conditions and the safety monitor."""
    alpaca_port = free_port()
    a = OurServer("--alpaca", str(alpaca_port), "--alpaca-discovery", "0", "--alpaca-devices",
                  str(tmp_path / "devices.json"), "indipy_simulator_weather",
                  workdir=tmp_path / "face")
    a.start()
    b: OurServer = our_server(f"alpaca://127.0.0.1:{alpaca_port}")  # type: ignore[operator]
    for name in (WEATHER, f"{WEATHER} 2"):
        until(b.port, f'"{name}.CONNECTION.DISCONNECT"==1', tmp_path)
    assert setprop(a.port, f"{WEATHER}.CONNECTION.CONNECT=On", cwd=tmp_path).returncode == 0
    for name in (WEATHER, f"{WEATHER} 2"):
        connect(b.port, name, tmp_path)
    # Which device is the safety monitor: a wildcard finds out.
    found = getprop_holding(b.port, "*.WEATHER_PARAMETERS.WEATHER_SAFETY", timeout=3,
                            cwd=tmp_path)
    safety = next(iter(found)).split(".")[0]
    conditions = f"{WEATHER} 2" if safety == WEATHER else WEATHER
    quicken(b.port, conditions, tmp_path)
    for name in (safety, conditions):
        until(b.port, f'"{name}.WEATHER_STATUS._STATE"==1', tmp_path)
    return a, b, conditions, safety


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (its children, from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.timeout(240)
def test_our_face_weather_driver_killed_then_face_killed(our_server: object,
                                                         tmp_path: Path) -> None:
    """Our weather simulator served by our Alpaca face (A) and taken back by alpaca:// (B):
    Ok while A's station is safe; A's weather driver killed with SIGKILL (A starts it again):
    B's SafetyMonitor turns Alert within its bound; A's station connected again: both Ok;
    then A itself killed with SIGKILL: both Alert within their bounds, said once in B's log."""
    a, b, conditions, safety = face_and_bridge(our_server, tmp_path)
    try:
        assert a.process is not None
        (driver,) = [pid for pid in child_pids(a.process.pid)
                     if b"indipy_simulator_weather" in Path(f"/proc/{pid}/cmdline").read_bytes()]

        def both_alert_within_bounds(kill: Callable[[], None]) -> None:
            """After `kill`: B's SafetyMonitor Alert within its bound, its ObservingConditions
            within theirs."""
            started = time.monotonic()
            took = alert_after(b.port, safety, kill, SAFETY_BOUND, more=1)
            assert took < SAFETY_BOUND
            until(b.port, f'"{conditions}.WEATHER_STATUS._STATE"==3', tmp_path,
                  timeout=CONDITIONS_BOUND)
            assert time.monotonic() - started < CONDITIONS_BOUND + SAFETY_BOUND

        def kill_driver() -> None:
            os.kill(driver, signal.SIGKILL)

        # The driver killed: B's SafetyMonitor fails closed within its bound. A restarts the
        # driver within a second; B connects a device it finds again (`AlpacaDriver`), so
        # whether B also saw the gap (and its ObservingConditions, read every 2 s, a failed
        # read) depends on when its watch asked: only the first Alert is certain.
        took = alert_after(b.port, safety, kill_driver, SAFETY_BOUND, more=0)
        assert took < SAFETY_BOUND
        wait_for(lambda: setprop(a.port, f"{WEATHER}.CONNECTION.CONNECT=On",
                                 cwd=tmp_path).returncode == 0,
                 timeout=30, what="A's weather driver started again and connected", interval=0.5)
        for name in (safety, conditions):
            until(b.port, f'"{name}.WEATHER_STATUS._STATE"==1', tmp_path,
                  timeout=CONDITIONS_BOUND * 2)
        said_before = b.log_text().count("IsSafe (unsafe until it answers) failed")

        def kill_face() -> None:
            assert a.process is not None
            os.killpg(a.process.pid, signal.SIGKILL)

        both_alert_within_bounds(kill_face)
        wait_for(lambda: "IsSafe (unsafe until it answers) failed" in b.log_text(),
                 timeout=5, what="the safety monitor's failure in B's log")
        log = b.log_text()
        # Said once for the face's death (the driver's gap, if B saw it, was said before).
        assert log.count("IsSafe (unsafe until it answers) failed") == said_before + 1, \
            log[-3000:]
        assert f"indipydriver.devices.{safety}: Reading" in log
        assert b.running
    finally:
        a.stop()
