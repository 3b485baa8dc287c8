"""A weather driver that hangs (SIGSTOP: alive, its device still defined, silent) is no
verdict: our watchdog, an executable under indilib's indiserver beside indilib's weather
simulator, turns its weather light Alert within the stale time plus a margin, saying nothing
was heard. Found by bench/watchdog_response.py's part s: the watchdog's own WEATHER_REFRESH,
unanswered, came back from its client library as a TimeOut event, which was taken for the
device's traffic, so the stale time never ran out."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from peers import IndiServer
from peers import eval_until
from peers import getprop
from peers import setprop

WATCHDOG = "WatchDog"
WEATHER = "Weather Simulator"
STALE = 10
#: The verdict's tick, a refresh asked at half the stale time, and a loaded machine's slack.
MARGIN = 15


def weather_pid(server: IndiServer) -> int:
    assert server.process is not None
    for task in Path(f"/proc/{server.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"indi_simulator_weather" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    raise AssertionError("indi_simulator_weather is not running")


@pytest.mark.timeout(120)
def test_a_hung_weather_driver_is_stale_within_the_stale_time(
        indiserver_factory: Callable[..., IndiServer], tmp_path: Path) -> None:
    """indilib's weather simulator safe and heard: WATCHDOG_STATUS.WEATHER Ok; stopped with
    SIGSTOP: WEATHER Alert within STALE + MARGIN s, WATCHDOG_CAUSE saying nothing was heard
    from it; continued (SIGCONT): Ok again."""
    server = indiserver_factory("indi_simulator_weather", "indipy_agent_watchdog")
    port = server.port
    eval_until(port, f'"{WATCHDOG}.WATCHDOG_STALE.WATCHDOG_STALE_VALUE">0', tmp_path, 20)
    for command in (f"{WATCHDOG}.WATCHDOG_SETTINGS.INDISERVER_HOST;INDISERVER_PORT="
                    f"127.0.0.1;{port}",
                    f"{WATCHDOG}.WATCHDOG_STALE.WATCHDOG_STALE_VALUE={STALE}",
                    f"{WATCHDOG}.WATCHDOG_Trigger.TRIGGER_WEATHER=On",
                    f"{WEATHER}.CONNECTION.CONNECT=On", f"{WATCHDOG}.CONNECTION.CONNECT=On"):
        assert setprop(port, command, cwd=tmp_path).returncode == 0, command
    eval_until(port, f'"{WATCHDOG}.WATCHDOG_STATUS.WEATHER"==1', tmp_path, STALE * 3)
    pid = weather_pid(server)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        eval_until(port, f'"{WATCHDOG}.WATCHDOG_STATUS.WEATHER"==3', tmp_path, STALE + MARGIN)
        assert time.monotonic() - started < STALE + MARGIN
        cause = getprop(port, f"{WATCHDOG}.WATCHDOG_CAUSE.CAUSE", cwd=tmp_path)
        assert "nothing heard" in cause[f"{WATCHDOG}.WATCHDOG_CAUSE.CAUSE"], cause
    finally:
        os.kill(pid, signal.SIGCONT)
    eval_until(port, f'"{WATCHDOG}.WATCHDOG_STATUS.WEATHER"==1', tmp_path, STALE * 3)
