#!/usr/bin/env python3
"""A simulated focuser and filter wheel: absolute and relative moves, abort, a slot change.

It is ``indipysimulators/focus.py``'s driver (installed as ``indipy_simulator_focus``); this
file gives tests and readers its names and runs the way ``ccd_simulator.py`` explains, by
itself or as an executable driver under an INDI server, no hardware needed::

    python examples/focuser_simulator.py --speed 5000          # serves on localhost:7624
    indiserver -p 7624 ./examples/exdrivers/indi_py_focuser    # speed from INDIPY_FOCUS_SPEED

Then, in another terminal::

    indi_getprop -p 7624 "Python Focuser.DRIVER_INFO.DRIVER_INTERFACE"   # 8: a focuser
    indi_setprop -p 7624 "Python Focuser.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Focuser.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=42000"
    indi_setprop -p 7624 "Python Filter Wheel.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Filter Wheel.FILTER_SLOT.FILTER_SLOT_VALUE=3"
    indi_setprop -p 7624 "Python Focuser.FOCUS_SIMULATION.BEST_POSITION=42060"
    indi_getprop -p 7624 "Python Focuser.FWHM.SIM_FWHM"                # 12.62: 60 steps out

What to expect: ABS_FOCUS_POSITION goes Busy and counts towards the target at the focuser's
speed, then Ok there; a position beyond FOCUS_MAX is refused with Alert. The wheel
(DRIVER_INTERFACE 16) turns half a second per slot. FWHM is the stars' size at the focuser's
position (SEEING_SETTINGS at FOCUS_SIMULATION's BEST_POSITION, twice that STEPS_TO_DOUBLE
away); ``ccd_simulator.py``'s stars take it. In Ekos: "Python Focuser" as the focuser
and "Python Filter Wheel" as the filter wheel; the Focus tab's In/Out and Go to move it.
"""

from indipysimulators.focus import FILTERS
from indipysimulators.focus import FOCUSER
from indipysimulators.focus import WHEEL
from indipysimulators.focus import SimulatedFocuser
from indipysimulators.focus import SimulatedWheel
from indipysimulators.focus import main
from indipysimulators.focus import make_driver

__all__ = ["FILTERS", "FOCUSER", "WHEEL", "SimulatedFocuser", "SimulatedWheel", "main",
           "make_driver"]

if __name__ == "__main__":
    main()
