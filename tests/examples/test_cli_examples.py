"""The `indipyserver` command serves the demo (`--demo`) and loads an example file in-process
through its make_driver(), as docs/guides/command_line.rst says."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from example_helpers import EXAMPLES
from example_helpers import getprop
from peers import OurServer


async def test_demo_and_an_example_file_are_served_together(tmp_path: Path) -> None:
    """`python -m indipyserver --demo examples/first_driver.py` lists Thermostat and Dew Heater;
    SIGTERM stops it with exit 0."""
    server = OurServer("--demo", str(EXAMPLES / "first_driver.py"), workdir=tmp_path / "server",
                       verbosity=0)
    server.start()
    try:
        values = await getprop(server.port, "Thermostat.SITE.FIRMWARE", "Dew Heater.POWER.LEVEL",
                               timeout=5)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.process.wait, 10)
    finally:
        server.stop()
    assert values["Thermostat.SITE.FIRMWARE"] == "indipy demo thermostat 1.0"
    assert float(values["Dew Heater.POWER.LEVEL"]) == 50
    assert code == 0, server.log_tail()
