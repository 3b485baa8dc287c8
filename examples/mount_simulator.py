#!/usr/bin/env python3
"""A simulated equatorial mount: goto, sync, abort, park and tracking, its RA and Dec moving.

Its code is the installed ``indipysimulators/telescope.py`` (``indipy_simulator_telescope``
under an INDI server). Run this file as ``ccd_simulator.py`` says: from a terminal it serves
itself on port 7624 (``python examples/mount_simulator.py --slew-rate 10``), under indilib's
``indiserver -p 7624 ./examples/mount_simulator.py`` it is a driver on stdin/stdout
(``examples/exdrivers/indi_py_mount`` takes the rate from INDIPY_SLEW_RATE).

Then, in another terminal::

    indi_getprop -p 7624 "Python Mount.DRIVER_INFO.*"        # DRIVER_INTERFACE 1: a mount
    indi_setprop -p 7624 "Python Mount.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Mount.EQUATORIAL_EOD_COORD.RA;DEC=5.5;40"
    indi_getprop -p 7624 "Python Mount.EQUATORIAL_EOD_COORD.*"   # Busy, moving; then Ok

What to expect: a goto sends EQUATORIAL_EOD_COORD Busy four times a second with the
coordinates on their way, then Ok at the target, tracking (the sky's RA stays put). A target
below the horizon (the site is Greenwich) is refused with Alert and a message.
TELESCOPE_ABORT_MOTION stops a slew where it is; TELESCOPE_PARK slews to the pole and stops
tracking, and a goto is refused until UNPARK. In Ekos: a profile with "Python Mount" as the
mount (remote host), then the Mount tab's Slew, Stop and Park.

The hardware there is `SimulatedMount`: what you write for a real mount is the same few
coroutines talking to its controller instead of to `EquatorialMotion`.
"""

from indipysimulators.telescope import DEVICE
from indipysimulators.telescope import SimulatedMount
from indipysimulators.telescope import main
from indipysimulators.telescope import make_driver

__all__ = ["DEVICE", "SimulatedMount", "main", "make_driver"]

if __name__ == "__main__":
    main()
