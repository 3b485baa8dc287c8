"""examples/first_driver.py, the ten-minute driver of Getting started, does what the page says."""

from __future__ import annotations

import first_driver
from example_helpers import free_port
from example_helpers import getprop
from example_helpers import serving
from example_helpers import setprop
from example_helpers import wait_for_value

from indipyserver import IPyServer


async def test_power_level_and_heater_switch_are_applied() -> None:
    """POWER.LEVEL=60 and HEATER.ON=On are confirmed; LEVEL=150 (above max 100) is refused."""
    port = free_port()
    server = IPyServer(first_driver.make_driver(), host="127.0.0.1", port=port)
    async with serving(server, ports=[port]):
        await setprop(port, "Dew Heater.POWER.LEVEL=60")
        await wait_for_value(port, "Dew Heater.POWER.LEVEL", lambda v: float(v) == 60)
        await setprop(port, "Dew Heater.HEATER.ON=On")
        await wait_for_value(port, "Dew Heater.HEATER.ON", lambda v: v == "On")
        await setprop(port, "Dew Heater.POWER.LEVEL=150")
        values = await getprop(port, "Dew Heater.HEATER.OFF", "Dew Heater.POWER.LEVEL")
    assert values["Dew Heater.HEATER.OFF"] == "Off"
    assert float(values["Dew Heater.POWER.LEVEL"]) == 60
