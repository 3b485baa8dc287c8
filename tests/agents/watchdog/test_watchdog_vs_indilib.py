"""Issue 72 item 1: ours beside indilib's ``indi_watchdog``, each under indilib's
``indiserver`` with indilib's weather, telescope and dome simulators (ours as the executable
``indipy_agent_watchdog``), both driven by the same indi_setprop commands. Both park the mount
and the dome after a weather Alert (WEATHER_CONTROL.Precip > 0, then WEATHER_REFRESH), both
park a mount unparked while the weather is still Alert (indi_watchdog unless its own race
loses the park: `THEIRS_LOST`), and both park the mount and then the dome (MOUNT_LOCKS) after
a heartbeat that stops. The figures are measured for both and asserted as bounds: parked
within the threshold plus 10 s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from peers import IndiServer
from peers import driver_path
from peers import setprop
from simrig import DOME
from simrig import MOUNT
from simrig import SIMULATORS
from simrig import WEATHER
from simrig import ParkWatcher
from simrig import configure
from simrig import connect_simulators
from simrig import parks
from waiting import wait_for

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

#: indi_watchdog's figures in the notes were measured with a 5 s threshold and heartbeat.
THRESHOLD = 5
HEARTBEAT = 5
#: indi_watchdog 1.9.9 re-parks through its client's copy of TELESCOPE_PARK, which the client's
#: reader thread writes at the same moment (the simulator's unpark sends two Ok sets): now and
#: then the switch on when it sends is UNPARK (indilib's client sends only the switch that is
#: on), the simulator answers "Telescope already unparked." (Idle) and, acting only on the
#: change to unparked, indi_watchdog never asks again: the mount stays unparked in the rain.
#: Measured on this rig (one watchdog, the mount unparked again and again, four busy loops on
#: two cores): indi_watchdog lost 4 re-parks in 550 (none in 60 without the loops), ours none
#: in 300; a full run under load lost one of indi_watchdog's. Ours parks again whenever a tick
#: finds the mount unparked while unsafe, so it is held to the park itself.
THEIRS_LOST = "Telescope already unparked."
#: indi_watchdog's word that it parks the mount again (said before it sends the park).
THEIRS_DECIDED = "Mount unparked while weather alert is active"


def _set(port: int, *specs: str) -> None:
    for spec in specs:
        sent = setprop(port, spec, timeout=10)
        assert sent.returncode == 0, sent.describe()


def _at_the_park_position(port: int) -> None:
    """Parked once, then unparked: the mount stands where a park puts it, so a park is
    quick (the simulator starts at the pole and slews 90 degrees to its park position, which
    would measure its slew rather than the watchdog)."""
    _set(port, f"{MOUNT}.TELESCOPE_PARK.PARK=On", f"{DOME}.DOME_PARK.PARK=On")
    wait_for(lambda: parks(port) == ("On", "On"), 120, "mount and dome parked first")
    _unpark(port)


def _unpark(port: int) -> None:
    _set(port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On", f"{DOME}.DOME_PARK.UNPARK=On")
    wait_for(lambda: parks(port) == ("Off", "Off"), 60, "mount and dome unparked")


def _park_times(watcher: ParkWatcher, start: float, bound: float) -> dict[str, float]:
    """Seconds from `start` until the mount and the dome were seen parked."""
    def both() -> dict[str, float] | None:
        mount = watcher.parked_at(MOUNT, start)
        dome = watcher.parked_at(DOME, start)
        if mount is None or dome is None:
            return None
        return {"mount": mount - start, "dome": dome - start}

    found: dict[str, float] = wait_for(both, bound, lambda: f"parked: {watcher.records()[-6:]}")
    return found


def _weather(port: int) -> dict[str, object]:
    """Rain, then the mount unparked while it still rains: what was seen and when."""
    seen: dict[str, object] = {}
    connect_simulators(port)
    _at_the_park_position(port)
    configure(port, threshold=THRESHOLD)
    watcher = ParkWatcher(port)
    try:
        _set(port, f"{WEATHER}.WEATHER_CONTROL.Precip=10",
             f"{WEATHER}.WEATHER_REFRESH.REFRESH=On")
        start = time.monotonic()
        seen["weather"] = _park_times(watcher, start, THRESHOLD + 60)
        # The unpark comes once the shutdown has ended, as a person's would: an unpark in
        # the same millisecond as the park's end raced the end of indilib's shutdown.
        wait_for(lambda: watcher.said_at("Shutdown procedure", start), 30,
                 lambda: f"the shutdown's end on {port}: {watcher.messages[-5:]}")
        unpark = time.monotonic()
        _set(port, f"{MOUNT}.TELESCOPE_PARK.UNPARK=On")
        unparked = wait_for(lambda: watcher.unparked_at(MOUNT, unpark), 10, "the unpark")
        seen.update(_parked_again(watcher, port, unparked))
    finally:
        watcher.close()
    return seen


def _parked_again(watcher: ParkWatcher, port: int, unparked: float) -> dict[str, float]:
    """Seconds from the unpark until the mount was seen parked again ("repark"); or, when the
    simulator answered a park that said UNPARK (`THEIRS_LOST`), until the watchdog said it
    parks again ("repark lost")."""
    def outcome() -> tuple[str, float] | None:
        again = watcher.parked_at(MOUNT, unparked)
        if again is not None:
            return "repark", again
        lost = watcher.said_at(THEIRS_LOST, unparked)
        return None if lost is None else ("repark lost", lost)

    def last() -> str:
        return f"on {port}: {watcher.records()[-6:]}, {[m.text for m in watcher.messages[-6:]]}"

    how, at = wait_for(outcome, 60, lambda: f"parked again {last()}")
    if how == "repark lost":
        # Its message and its client's command reach the server by different sockets.
        at = wait_for(lambda: watcher.said_at(THEIRS_DECIDED, unparked), 10,
                      lambda: f"the decision to park again {last()}")
    return {how: at - unparked}


def _heartbeat(port: int) -> dict[str, object]:
    """A client's heartbeat that stops, the dome waiting for the mount (MOUNT_LOCKS)."""
    connect_simulators(port)
    _at_the_park_position(port)
    configure(port, "WatchDog.WATCHDOG_MOUNT_POLICY.MOUNT_LOCKS=On",
              f"WatchDog.WATCHDOG_HEARTBEAT.WATCHDOG_HEARTBEAT_VALUE={HEARTBEAT}",
              "WatchDog.WATCHDOG_Trigger.TRIGGER_CLIENT=On;TRIGGER_WEATHER=On",
              threshold=THRESHOLD)
    start = time.monotonic()  # the last beat: the trigger's set
    watcher = ParkWatcher(port)
    try:
        return {"heartbeat": _park_times(watcher, start, HEARTBEAT + 60)}
    finally:
        watcher.close()


def _side_by_side(indiserver_factory: Callable[..., IndiServer],
                  scenario: Callable[[int], dict[str, object]]) -> dict[str, dict[str, object]]:
    """`scenario` run at once on indilib's watchdog and on ours, each with its simulators."""
    theirs = indiserver_factory("indi_watchdog", *SIMULATORS)
    env = {"PATH": driver_path(), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    ours = indiserver_factory("indipy_agent_watchdog", *SIMULATORS, env=env)
    with ThreadPoolExecutor(2) as pool:
        their_run = pool.submit(scenario, theirs.port)
        our_run = pool.submit(scenario, ours.port)
        return {"indi_watchdog": their_run.result(), "ours": our_run.result()}


def test_both_park_after_a_weather_alert_and_park_again(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """After the weather simulator's Alert both watchdogs have the mount and the dome parked
    within the threshold plus 10 s (not before the threshold); a mount unparked while it still
    rains is parked again within 10 s by ours, and by indi_watchdog unless its own race sent
    UNPARK instead (`THEIRS_LOST`: then its decision to park again, within 10 s, is what it
    is held to)."""
    seen = _side_by_side(indiserver_factory, _weather)
    print(seen)  # the figures, for the report (pytest -s)
    for who, figures in seen.items():
        weather = figures["weather"]
        assert isinstance(weather, dict)
        assert THRESHOLD - 1 <= weather["mount"] <= THRESHOLD + 10, (who, seen)
        assert THRESHOLD - 1 <= weather["dome"] <= THRESHOLD + 10, (who, seen)
        key = "repark lost" if who == "indi_watchdog" and "repark lost" in figures else "repark"
        repark = figures.get(key)
        assert isinstance(repark, float) and repark <= 10, (who, seen)


def test_both_park_the_mount_then_the_dome_after_the_heartbeat_stops(
        indiserver_factory: Callable[..., IndiServer]) -> None:
    """With MOUNT_LOCKS and a 5 s heartbeat that is never renewed, both watchdogs park the
    mount and then the dome, within the heartbeat plus 10 s."""
    seen = _side_by_side(indiserver_factory, _heartbeat)
    print(seen)
    for who, figures in seen.items():
        heartbeat = figures["heartbeat"]
        assert isinstance(heartbeat, dict)
        assert heartbeat["mount"] <= heartbeat["dome"] <= HEARTBEAT + 10, (who, seen)
