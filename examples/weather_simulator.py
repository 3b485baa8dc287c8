#!/usr/bin/env python3
"""A simulated weather station: readings with OK ranges, status lights, refresh and override.

The station is ``indipysimulators/weather.py`` (the executable ``indipy_simulator_weather``),
run here with its names at hand in either of the two ways ``ccd_simulator.py`` describes::

    python examples/weather_simulator.py --period 10
    indiserver -p 7624 ./examples/weather_simulator.py
    indiserver -p 7624 ./examples/exdrivers/indi_py_weather    # period from INDIPY_WEATHER_PERIOD

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
