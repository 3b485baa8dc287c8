"""A simulated weather station: readings with OK ranges, status lights, refresh and override.

Installed as the executable ``indipy_simulator_weather`` (``python
examples/weather_simulator.py`` runs the same)::

    indipy_simulator_weather                            # serves on localhost:7624
    indipy_simulator_weather --port 7625 --period 10
    indiserver -p 7624 indipy_simulator_weather         # under indilib's server

What to expect: WEATHER_PARAMETERS holds the temperature, wind, gusts and rain, read every
PERIOD seconds (WEATHER_UPDATE) and on WEATHER_REFRESH; each WEATHER_STATUS light is Ok inside
its OK range, Busy near its ends, Alert outside, and the vector's state is the worst light
(what Ekos' observatory and scheduler read). Narrow a range (MIN_OK, MAX_OK, PERC_WARN of each
parameter) and the lights follow at once; WEATHER_OVERRIDE makes the state Ok whatever the
lights say.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from collections.abc import Mapping

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import Weather
from indipydriver.standard import WeatherParameter

from .serving import simulator_main

DEVICE = "Python Weather"
EXEC = "indipy_simulator_weather"

#: The parameters and OK ranges of indilib's weather simulator.
PARAMETERS = (
    WeatherParameter("WEATHER_TEMPERATURE", "Temperature (C)", -10, 30),
    WeatherParameter("WEATHER_WIND_SPEED", "Wind (kph)", 0, 20),
    WeatherParameter("WEATHER_WIND_GUST", "Gust (kph)", 0, 20, critical=False),
    WeatherParameter("WEATHER_RAIN_HOUR", "Precip (mm)", 0, 0),
)


class SimulatedStation:
    """`WeatherHardware`: a mild night whose temperature and wind drift slowly with time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start = clock()

    async def read(self) -> Mapping[str, float]:
        t = self.clock() - self.start
        wind = 6.0 + 3.0 * math.sin(t / 300.0)
        return {
            "WEATHER_TEMPERATURE": 12.0 - t / 3600.0,
            "WEATHER_WIND_SPEED": wind,
            "WEATHER_WIND_GUST": wind * 1.5,
            "WEATHER_RAIN_HOUR": 0.0,
        }


def make_driver(period: float = 60.0) -> IPyDriver:
    """One device, "Python Weather", read every `period` seconds."""
    weather = Weather(SimulatedStation(), PARAMETERS, period=period, latitude=51.4769)
    return IPyDriver(Device(DEVICE, roles=[weather], driver_exec=EXEC))


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_weather``: the station served, or on stdin/stdout under an INDI
    server."""
    simulator_main(__doc__, argv, make_driver,
                   ("--period", 60.0, "seconds between readings"))
