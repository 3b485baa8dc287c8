#!/usr/bin/env python3
"""A simulated weather station: readings with OK ranges, status lights, refresh and override.

Run it (no hardware needed)::

    python examples/weather_simulator.py            # serves on localhost:7624
    python examples/weather_simulator.py --port 7625 --period 10

or as an executable driver under any INDI server (INDI on stdin/stdout when stdin is not a
terminal, or with ``--stdio``), indilib's too::

    indiserver -p 7624 ./examples/weather_simulator.py
    indiserver -p 7624 ./examples/exdrivers/indi_py_weather     # its settings from INDIPY_WEATHER_PERIOD

Then, in another terminal::

    indi_getprop -p 7624 "Python Weather.DRIVER_INFO.DRIVER_INTERFACE"   # 128: weather
    indi_setprop -p 7624 "Python Weather.CONNECTION.CONNECT=On"
    indi_getprop -p 7624 "Python Weather.WEATHER_STATUS.*" "Python Weather.WEATHER_PARAMETERS.*"
    indi_setprop -p 7624 "Python Weather.WEATHER_WIND_SPEED.MAX_OK=5"   # wind now too strong

What to expect: WEATHER_PARAMETERS holds the temperature, wind, gusts and rain, read every
PERIOD seconds (WEATHER_UPDATE) and on WEATHER_REFRESH; each WEATHER_STATUS light is Ok inside
its OK range, Busy near its ends, Alert outside, and the vector's state is the worst light
(what Ekos' observatory and scheduler read). Narrow a range (MIN_OK, MAX_OK, PERC_WARN of each
parameter) and the lights follow at once; WEATHER_OVERRIDE makes the state Ok whatever the
lights say.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections.abc import Callable, Mapping

from indipydriver import Device, IPyDriver
from indipydriver.standard import Weather, WeatherParameter

DEVICE = "Python Weather"

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
    return IPyDriver(Device(DEVICE, roles=[weather], driver_exec="indi_py_weather"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="serve on this interface (default localhost)")
    parser.add_argument("--port", type=int, default=None, help="serve on this port (default 7624)")
    parser.add_argument("--stdio", action="store_true",
                        help="speak INDI on stdin/stdout (what indiserver expects)")
    parser.add_argument("--period", type=float, default=60.0, help="seconds between readings")
    args = parser.parse_args()
    # As examples/ccd_simulator.py: serve on a port when asked to or run from a terminal; under
    # an INDI server (stdin not a terminal) speak INDI on stdin/stdout.
    serve = not args.stdio and (args.port is not None or args.host is not None
                                or sys.stdin.isatty())
    driver = make_driver(args.period)
    if not serve:
        # stdout carries INDI: logs go to stderr (the server's log).
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        asyncio.run(driver.asyncrun())
        return
    from indipyserver import IPyServer

    host, port = args.host or "localhost", args.port or 7624
    logging.basicConfig(level=logging.INFO)
    print(f"{DEVICE} served on {host}:{port}; Ctrl-C to stop")
    try:
        IPyServer(driver, host=host, port=port).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
