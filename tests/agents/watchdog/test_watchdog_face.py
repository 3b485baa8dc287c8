"""Issue 72 items 1 and 6: the watchdog's face. indi_watchdog's vectors (the names, members,
defaults, rules measured with indi_getprop) and ours; a threshold out of range refused;
TRIGGER_CLIENT refused before a heartbeat value, as indilib's; CONFIG_SAVE and CONFIG_LOAD,
and the saved settings taken at start; in-process, the server's own address in
WATCHDOG_SETTINGS; the executable listed by indipy-driverxml under Agent, renamed by
``--device`` or INDIDEV."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from agentkit import AGENT
from peers import LOADED
from peers import OurServer
from peers import free_port
from peers import getprop
from peers import setprop
from serverkit import running
from serverkit import server
from waiting import until
from waiting import wait_for
from watchdogkit import Rig
from watchdogkit import configure
from watchdogkit import said
from watchdogkit import served
from watchdogkit import watchdog

import indipyclient
from indipyserver.driverxml import group_of
from indipyserver.driverxml import read_driver_info

EXECUTABLE = str(Path(sys.executable).with_name("indipy_agent_watchdog"))

#: indi_watchdog 1.9.9's vectors as indi_getprop prints them (label, group, perm, rule) and
#: their members' first values.
INDILIBS = {
    "WATCHDOG_HEARTBEAT": {"WATCHDOG_HEARTBEAT_VALUE": "0"},
    "WATCHDOG_WEATHER": {"WATCHDOG_WEATHER_VALUE": "0"},
    "WATCHDOG_SETTINGS": {"INDISERVER_HOST": "localhost", "INDISERVER_PORT": "7624",
                          "SHUTDOWN_SCRIPT": ""},
    "WATCHDOG_Trigger": {"TRIGGER_CLIENT": "Off", "TRIGGER_WEATHER": "Off"},
    "WATCHDOG_SHUTDOWN": {"PARK_MOUNT": "Off", "PARK_DOME": "Off", "EXECUTE_SCRIPT": "Off"},
    "WATCHDOG_MOUNT_POLICY": {"MOUNT_IGNORED": "On", "MOUNT_LOCKS": "Off"},
    "ACTIVE_DEVICES": {"ACTIVE_TELESCOPE": "Telescope Simulator",
                       "ACTIVE_DOME": "Dome Simulator", "ACTIVE_WEATHER": "Weather Simulator"},
}
SHAPES = {"WATCHDOG_HEARTBEAT": ("Heart beat", "Main Control", "rw"),
          "WATCHDOG_WEATHER": ("Weather", "Main Control", "rw"),
          "WATCHDOG_SETTINGS": ("Settings", "Main Control", "rw"),
          "WATCHDOG_Trigger": ("Trigger", "Main Control", "rw"),
          "WATCHDOG_SHUTDOWN": ("Shutdown", "Main Control", "rw"),
          "WATCHDOG_MOUNT_POLICY": ("Mount Policy", "Options", "rw"),
          "ACTIVE_DEVICES": ("Active devices", "Options", "rw")}


async def test_indilibs_vectors_and_ours(tmp_path: Path) -> None:
    """Every vector of indi_watchdog with its label, group, permission and first values
    (hosted in-process, WATCHDOG_SETTINGS' port is the server's own), its rules, and ours
    beside them with their defaults; DRIVER_INFO says WatchDog, AUX (32768)."""
    async with served(tmp_path, Rig()) as (_driver, client):
        for name, values in INDILIBS.items():
            vector = client.vector("WatchDog", name)
            assert (vector.label, vector.group, vector.perm) == SHAPES[name], name
            got = {member: vector[member] for member in values}
            if name == "WATCHDOG_SETTINGS":
                assert got["INDISERVER_PORT"] == str(client.port)
                assert got["INDISERVER_HOST"] == "127.0.0.1"
                got.update(INDISERVER_HOST="localhost", INDISERVER_PORT="7624")
            assert got == values, name
        assert client.vector("WatchDog", "WATCHDOG_Trigger").rule == "AnyOfMany"
        assert client.vector("WatchDog", "WATCHDOG_SHUTDOWN").rule == "AnyOfMany"
        assert client.vector("WatchDog", "WATCHDOG_MOUNT_POLICY").rule == "OneOfMany"
        heartbeat = client.vector("WatchDog", "WATCHDOG_HEARTBEAT").members()[
            "WATCHDOG_HEARTBEAT_VALUE"]
        assert (heartbeat.format, heartbeat.min, heartbeat.max) == ("%.f", "0", "3600")
        assert client.get("WatchDog", "WATCHDOG_STALE", "WATCHDOG_STALE_VALUE") == 120
        assert client.get("WatchDog", "WATCHDOG_RESUME", "WATCHDOG_RESUME_VALUE") == 600
        assert client.get("WatchDog", "ACTIVE_DEVICES", "ACTIVE_CCD") == ""
        assert client.get("WatchDog", "ACTIVE_DEVICES", "ACTIVE_SEQUENCER") == AGENT
        shutdown = client.vector("WatchDog", "WATCHDOG_SHUTDOWN")
        assert (shutdown["PAUSE_SEQUENCE"], shutdown["ABORT_EXPOSURE"],
                shutdown["WARM_CAMERA"]) == ("On", "Off", "Off")
        assert set(client.vector("WatchDog", "WATCHDOG_STATUS")) == {"WEATHER", "CLIENT", "SAFE"}
        assert client.vector("WatchDog", "WATCHDOG_CAUSE").perm == "ro"
        assert client.get("WatchDog", "ACTIVE_DEVICES", "ACTIVE_GUIDER") == ""
        assert shutdown["STOP_GUIDING"] == "On"
        assert list(client.vector("WatchDog", "WATCHDOG_STEPS")) == [
            "PAUSE_SEQUENCE", "STOP_GUIDING", "ABORT_EXPOSURE", "PARK_MOUNT", "PARK_DOME", "WARM_CAMERA",
            "EXECUTE_SCRIPT"]
        assert client.get("WatchDog", "DRIVER_INFO", "DRIVER_INTERFACE") == "32768"
        assert client.get("WatchDog", "DRIVER_INFO", "DRIVER_EXEC") == "indipy_agent_watchdog"
        assert client.get("WatchDog", "CONNECTION", "CONNECT") == "Off"


async def test_a_threshold_out_of_range_is_refused(tmp_path: Path) -> None:
    """Item 6: WATCHDOG_WEATHER_VALUE 5000 (range 0..3600) and WATCHDOG_STALE_VALUE 1 (at
    least 10): refused, the vector Alert with a message, the value kept; the watchdog answers
    the next request as ever."""
    async with served(tmp_path, Rig()) as (_driver, client):
        # indi_setprop sends what it is given (our client refuses it before sending).
        sent = await asyncio.to_thread(setprop, client.port,
                                       "WatchDog.WATCHDOG_WEATHER.WATCHDOG_WEATHER_VALUE=5000")
        assert sent.returncode == 0, sent.describe()
        await until(lambda: client.vector("WatchDog", "WATCHDOG_WEATHER").state == "Alert", 10)
        assert "5000 is outside" in client.vector("WatchDog", "WATCHDOG_WEATHER").message
        assert client.get("WatchDog", "WATCHDOG_WEATHER", "WATCHDOG_WEATHER_VALUE") == 0
        await asyncio.to_thread(setprop, client.port,
                                "WatchDog.WATCHDOG_STALE.WATCHDOG_STALE_VALUE=1")
        await until(lambda: client.vector("WatchDog", "WATCHDOG_STALE").state == "Alert", 10)
        assert client.get("WatchDog", "WATCHDOG_STALE", "WATCHDOG_STALE_VALUE") == 120
        result = await client.set("WatchDog", "WATCHDOG_WEATHER", {"WATCHDOG_WEATHER_VALUE": 30})
        assert result.state == "Ok"


async def test_the_client_trigger_needs_a_heartbeat_value_first(tmp_path: Path) -> None:
    """As indi_watchdog: TRIGGER_CLIENT while WATCHDOG_HEARTBEAT_VALUE is 0 is refused
    (Alert, "Heart beat timeout should be set first."), accepted after it is set."""
    async with served(tmp_path, Rig()) as (_driver, client):
        result = await client.set("WatchDog", "WATCHDOG_Trigger", {"TRIGGER_CLIENT": "On"})
        assert result.state == "Alert"
        assert client.get("WatchDog", "WATCHDOG_Trigger", "TRIGGER_CLIENT") == "Off"
        await said(client, "Heart beat timeout should be set first.")
        await configure(client, WATCHDOG_HEARTBEAT={"WATCHDOG_HEARTBEAT_VALUE": 60})
        result = await client.set("WatchDog", "WATCHDOG_Trigger", {"TRIGGER_CLIENT": "On"})
        assert result.state == "Ok"
        await until(lambda: client.get("WatchDog", "WATCHDOG_STATUS", "CLIENT") == "Ok", 5)


async def test_config_save_and_load_and_the_saved_settings_at_start(tmp_path: Path) -> None:
    """CONFIG_SAVE writes the settings (ours too); CONFIG_LOAD brings them back after a
    change; a watchdog made again with the same folder starts with them."""
    async with served(tmp_path, Rig()) as (_driver, client):
        await configure(client, WATCHDOG_WEATHER={"WATCHDOG_WEATHER_VALUE": 120},
                        WATCHDOG_STALE={"WATCHDOG_STALE_VALUE": 300},
                        WATCHDOG_Trigger={"TRIGGER_WEATHER": "On"},
                        ACTIVE_DEVICES={"ACTIVE_WEATHER": "Roof Weather"})
        result = await client.set("WatchDog", "CONFIG_PROCESS", {"CONFIG_SAVE": "On"})
        assert result.state == "Ok"
        await configure(client, WATCHDOG_STALE={"WATCHDOG_STALE_VALUE": 60})
        result = await client.set("WatchDog", "CONFIG_PROCESS", {"CONFIG_LOAD": "On"})
        assert result.state == "Ok"
        await until(lambda: client.get("WatchDog", "WATCHDOG_STALE",
                                       "WATCHDOG_STALE_VALUE") == 300, 5,
                    lambda: str(client.vector("WatchDog", "WATCHDOG_STALE")))
    saved = (tmp_path / "indi" / "WatchDog_config.xml").read_text()
    assert "WATCHDOG_STALE_VALUE" in saved and "Roof Weather" in saved
    again = watchdog(tmp_path)
    async with running(server(again)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        await client.wait_for("WatchDog", "WATCHDOG_STALE", timeout=10)
        assert client.get("WatchDog", "WATCHDOG_WEATHER", "WATCHDOG_WEATHER_VALUE") == 120
        assert client.get("WatchDog", "WATCHDOG_Trigger", "TRIGGER_WEATHER") == "On"
        assert client.get("WatchDog", "ACTIVE_DEVICES", "ACTIVE_WEATHER") == "Roof Weather"


async def test_driverxml_lists_the_watchdog_under_agent() -> None:
    """indipy-driverxml reads the executable's DRIVER_INFO (WatchDog, interface 32768) and
    lists it in devGroup Agent, label WatchDog."""
    entries = await read_driver_info(EXECUTABLE, timeout=LOADED)
    assert [(e.label, e.name) for e in entries] == [("WatchDog", "WatchDog")]
    assert group_of(entries[0].interface, entries[0].exec) == "Agent"


async def test_the_executable_takes_its_name_from_device_or_indidev(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """INDIDEV, as indiserver's -n sets it, names the device (``--device`` does the same on
    the command line), so two watchdogs can share a server."""
    monkeypatch.setenv("INDIDEV", "Our WatchDog")
    entries = await read_driver_info(EXECUTABLE, timeout=LOADED)
    assert [entry.label for entry in entries] == ["Our WatchDog"]


def test_indipyserver_hosts_it_by_its_dotted_name(our_server: Callable[..., OurServer]) -> None:
    """``indipyserver indipyagents.watchdog`` serves the device in-process, its client on the
    server's own port (WATCHDOG_SETTINGS says it)."""
    ours = our_server("indipyagents.watchdog", port=free_port())
    found = wait_for(lambda: getprop(ours.port, "WatchDog.WATCHDOG_SETTINGS.INDISERVER_PORT",
                                     "WatchDog.DRIVER_INFO.DRIVER_INTERFACE", timeout=5) or None,
                     20, "the WatchDog device")
    assert found["WatchDog.WATCHDOG_SETTINGS.INDISERVER_PORT"] == str(ours.port)
    assert found["WatchDog.DRIVER_INFO.DRIVER_INTERFACE"] == "32768"
