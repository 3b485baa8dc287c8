"""examples/thermostat.py (the README demo, same driver as `indipyserver --demo`), served
in-process and driven with indilib's clients."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import thermostat
from example_helpers import EXAMPLES
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import getprop_holding
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value
from example_helpers import wait_listening
from waiting import until


@asynccontextmanager
async def thermostat_served(interval: float = 0.05) -> AsyncIterator[int]:
    """examples/thermostat.py's server (a reading every `interval` seconds) on a free port,
    in-process: the port."""
    port = free_port()
    async with serving(thermostat.make_server("127.0.0.1", port, interval=interval),
                       ports=[port]):
        yield port


async def test_every_vector_kind_is_listed_with_its_initial_value() -> None:
    """indi_getprop sees the Number, Switch, Light and Text vectors with their start values."""
    async with thermostat_served() as port:
        values = await getprop_holding(
            port, "Thermostat.*.*", "Thermostat.TARGET.TARGET", "Thermostat.TEMPERATURE.TEMPERATURE",
            "Thermostat.HEATER_MODE.AUTO", "Thermostat.HEATER.FROST", "Thermostat.SITE.FIRMWARE")
    assert float(values["Thermostat.TARGET.TARGET"]) == 20.0
    assert "Thermostat.TEMPERATURE.TEMPERATURE" in values
    assert values["Thermostat.HEATER_MODE.AUTO"] == "On"
    assert values["Thermostat.HEATER_MODE.ON"] == "Off"
    assert values["Thermostat.HEATER.FROST"] in {"Idle", "Ok", "Busy", "Alert"}
    assert values["Thermostat.SITE.FIRMWARE"] == "indipy demo thermostat 1.0"


async def test_read_only_and_switch_rule_are_declared() -> None:
    """TEMPERATURE is published read-only; HEATER_MODE's permission lets clients write it."""
    async with thermostat_served() as port:
        values = (await getprop(port, "Thermostat.TEMPERATURE._PERM",
                                "Thermostat.HEATER_MODE._PERM"))
    assert values["Thermostat.TEMPERATURE._PERM"] == "ro"
    assert values["Thermostat.HEATER_MODE._PERM"] == "rw"


async def test_target_within_limits_is_applied_and_out_of_range_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A target of 25 is confirmed; 100 (above max 40) is refused -- the driver logs the
    refusal, which is the evidence the request was dealt with -- and the target stays 25."""
    async with thermostat_served() as port:
        await setprop(port, "Thermostat.TARGET.TARGET=25")
        await wait_for_value(port, "Thermostat.TARGET.TARGET", lambda v: float(v) == 25.0)
        with caplog.at_level(logging.WARNING, logger="indipydriver.driver"):
            await setprop(port, "Thermostat.TARGET.TARGET=100")
            refusal = await until(
                lambda: [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()],
                what="the driver's refusal of TARGET=100")
        values = await getprop(port, "Thermostat.TARGET.TARGET")
    assert "outside min -20 .. max 40" in refusal[0], refusal
    assert float(values["Thermostat.TARGET.TARGET"]) == 25.0


async def test_hardware_loop_heats_the_room_towards_the_target() -> None:
    """hardware() keeps publishing TEMPERATURE, which climbs to a raised target."""
    async with thermostat_served(interval=0.02) as port:
        await setprop(port, "Thermostat.TARGET.TARGET=30")
        await wait_for_value(port, "Thermostat.TEMPERATURE.TEMPERATURE",
                             lambda v: float(v) > 29.0, timeout=20)


async def test_heater_mode_is_one_of_many_and_forces_the_heater_off() -> None:
    """Turning OFF on switches AUTO off in the reply, and the HEATING light goes Idle."""
    async with thermostat_served(interval=0.02) as port:
        await setprop(port, "Thermostat.HEATER_MODE.OFF=On")
        await wait_for_value(port, "Thermostat.HEATER_MODE.OFF", lambda v: v == "On")
        await wait_for_value(port, "Thermostat.HEATER.HEATING", lambda v: v == "Idle")
        values = await getprop(port, "Thermostat.HEATER_MODE.AUTO", "Thermostat.HEATER_MODE.ON",
                               "Thermostat.HEATER.HEATING")
    assert values["Thermostat.HEATER_MODE.AUTO"] == "Off"
    assert values["Thermostat.HEATER_MODE.ON"] == "Off"
    assert values["Thermostat.HEATER.HEATING"] == "Idle"


async def test_text_member_is_changed_by_a_client() -> None:
    """SITE.NAME takes the client's text (with a space) and the reply carries it."""
    async with thermostat_served() as port:
        await setprop(port, "Thermostat.SITE.NAME=Roof Lab")
        await wait_for_value(port, "Thermostat.SITE.NAME", lambda v: v == "Roof Lab")


async def test_csv_log_blob_is_saved_by_indi_getprop(tmp_path: Path) -> None:
    """The LOG BLOB arrives as a .csv that indi_getprop saves with the readings in it."""
    async with thermostat_served() as port:
        await getprop(port, "Thermostat.LOG.LOG", timeout=10, cwd=tmp_path)
    saved = tmp_path / "Thermostat.LOG.LOG.csv"
    assert saved.is_file(), sorted(p.name for p in tmp_path.iterdir())
    lines = saved.read_text().splitlines()
    assert lines[0] == "reading,temperature,heater"
    assert len(lines) >= 11  # header + log_every (10) readings
    count, temperature, heater = lines[1].split(",")
    assert int(count) >= 1 and -50 < float(temperature) < 100 and heater in {"0", "1"}


async def test_script_runs_from_the_command_line_and_stops_on_ctrl_c() -> None:
    """`python examples/thermostat.py --port N` serves the thermostat; SIGINT ends it cleanly."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "thermostat.py"), "--host", "127.0.0.1",
        "--port", str(port), "--interval", "0.1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        await wait_listening(port)
        values = (await getprop(port, "Thermostat.TARGET.TARGET"))
        assert float(values["Thermostat.TARGET.TARGET"]) == 20.0
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, err.decode()
