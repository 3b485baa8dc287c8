"""The `indipyserver` command serves the demo (`--demo`) and loads an example file in-process
through its make_driver(), as docs/guides/command_line.rst says."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from example_helpers import EXAMPLES, free_port, getprop, wait_listening


async def test_demo_and_an_example_file_are_served_together() -> None:
    """`python -m indipyserver --demo examples/first_driver.py` lists Thermostat and Dew Heater;
    SIGTERM stops it with exit 0."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "indipyserver", "-p", str(port), "--demo",
        str(EXAMPLES / "first_driver.py"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        await wait_listening(port)
        values = await getprop(port, "Thermostat.SITE.FIRMWARE", "Dew Heater.POWER.LEVEL",
                               timeout=5)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert values["Thermostat.SITE.FIRMWARE"] == "indipy demo thermostat 1.0"
    assert float(values["Dew Heater.POWER.LEVEL"]) == 50
    assert proc.returncode == 0, err.decode()
