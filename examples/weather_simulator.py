#!/usr/bin/env python3
"""A simulated weather station: readings with OK ranges, status lights, refresh and override.

The code lives in the installed package, in ``indipysimulators/weather.py``, which is
also installed as the executable ``indipy_simulator_weather``; this file runs the same driver
and gives tests and readers its names. Run it (no hardware needed)::

    python examples/weather_simulator.py            # serves on localhost:7624
    python examples/weather_simulator.py --port 7625 --period 10

or as an executable driver under any INDI server (INDI on stdin/stdout when stdin is not a
terminal, or with ``--stdio``), indilib's too::

    indiserver -p 7624 ./examples/weather_simulator.py
    indiserver -p 7624 indipy_simulator_weather                 # by its installed name
    indiserver -p 7624 ./examples/exdrivers/indi_py_weather     # its settings from INDIPY_WEATHER_PERIOD

Then, in another terminal::

    indi_getprop -p 7624 "Python Weather.DRIVER_INFO.DRIVER_INTERFACE"   # 128: weather
    indi_setprop -p 7624 "Python Weather.CONNECTION.CONNECT=On"
    indi_getprop -p 7624 "Python Weather.WEATHER_STATUS.*" "Python Weather.WEATHER_PARAMETERS.*"
    indi_setprop -p 7624 "Python Weather.WEATHER_WIND_SPEED.MAX_OK=5"   # wind now too strong

What to expect: each WEATHER_STATUS light is Ok inside its parameter's OK range, Busy near its
ends, Alert outside, and the vector's state is the worst light (what Ekos' observatory and
scheduler read); WEATHER_OVERRIDE makes the state Ok whatever the lights say.
"""

from indipysimulators.weather import DEVICE
from indipysimulators.weather import PARAMETERS
from indipysimulators.weather import SimulatedStation
from indipysimulators.weather import main
from indipysimulators.weather import make_driver

__all__ = ["DEVICE", "PARAMETERS", "SimulatedStation", "main", "make_driver"]

if __name__ == "__main__":
    main()
