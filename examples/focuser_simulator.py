#!/usr/bin/env python3
"""A simulated focuser and filter wheel: absolute and relative moves, abort, a slot change.

The code lives in the installed package, in ``indipysimulators/focus.py``, which is
also installed as the executable ``indipy_simulator_focus``; this file runs the same driver
and gives tests and readers its names. Run it (no hardware needed)::

    python examples/focuser_simulator.py            # serves on localhost:7624
    python examples/focuser_simulator.py --port 7625 --speed 5000

or as an executable driver under any INDI server (INDI on stdin/stdout when stdin is not a
terminal, or with ``--stdio``), indilib's too::

    indiserver -p 7624 ./examples/focuser_simulator.py
    indiserver -p 7624 indipy_simulator_focus                   # by its installed name
    indiserver -p 7624 ./examples/exdrivers/indi_py_focuser     # its settings from INDIPY_FOCUS_SPEED

Then, in another terminal::

    indi_getprop -p 7624 "Python Focuser.DRIVER_INFO.DRIVER_INTERFACE"   # 8: a focuser
    indi_setprop -p 7624 "Python Focuser.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Focuser.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=42000"
    indi_setprop -p 7624 "Python Filter Wheel.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Filter Wheel.FILTER_SLOT.FILTER_SLOT_VALUE=3"

What to expect: ABS_FOCUS_POSITION goes Busy and counts towards the target at the focuser's
speed, then Ok there; a position beyond FOCUS_MAX is refused with Alert. The wheel
(DRIVER_INTERFACE 16) turns half a second per slot. In Ekos: "Python Focuser" as the focuser
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
