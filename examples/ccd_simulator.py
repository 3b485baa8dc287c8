#!/usr/bin/env python3
"""A simulated CCD camera: a star field as FITS, binning, an exposure countdown, abort, cooling.

The code lives in the installed package, in ``indipysimulators/ccd.py``, which is also
installed as the executable ``indipy_simulator_ccd`` (named as indilib names its simulators);
this file runs the same driver and gives tests and readers its names. Run it either way:

    python examples/ccd_simulator.py              # serves itself on localhost:7624
    python examples/ccd_simulator.py --port 7625  # (any port; --host to listen elsewhere)
    indiserver -v ./examples/ccd_simulator.py     # an executable driver under indilib's server
    indiserver -v indipy_simulator_ccd            # the same, by its installed name

How it tells the two apart: it serves itself (with indipyserver's IPyServer) when given
``--port`` or ``--host``, or when its standard input is a terminal; otherwise -- its standard
input is a pipe, as when indiserver starts it -- it speaks INDI on stdin/stdout. ``--stdio``
forces the driver mode.

Then, in another terminal::

    indi_setprop -p 7624 "Python CCD Simulator.CONNECTION.CONNECT=On"
    indi_getprop -p 7624 "Python CCD Simulator.DRIVER_INFO.*"          # DRIVER_INTERFACE 2
    indi_setprop -p 7624 "Python CCD Simulator.CCD_BINNING.HOR_BIN;VER_BIN=2;2"
    indi_setprop -p 7624 "Python CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=2" &
    indi_getprop -p 7624 -t 10 "Python CCD Simulator.CCD1.CCD1"        # saves the .fits

or point KStars/Ekos at localhost:7624 and use it as the camera.

The hardware part is all that is written there: `SimulatedCamera.expose` returns an image of
the frame and binning the client chose; `SimulatedCooler` moves the chip's temperature towards
its set point at 0.5 C a second. indipydriver's `Camera` role runs the INDI side (the
properties, the states, the countdown, abort, the FITS file and the BLOB);
`docs/guides/camera_driver.rst` walks through it.
"""

from indipysimulators.ccd import DEVICE
from indipysimulators.ccd import SENSOR
from indipysimulators.ccd import SimulatedCamera
from indipysimulators.ccd import SimulatedCooler
from indipysimulators.ccd import main
from indipysimulators.ccd import make_driver

__all__ = ["DEVICE", "SENSOR", "SimulatedCamera", "SimulatedCooler", "main", "make_driver"]

if __name__ == "__main__":
    main()
