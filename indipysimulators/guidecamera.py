"""A simulated guide camera: a second, smaller camera device on the CCD simulator's code.

indilib's CCD simulator carries a guide head (GUIDER_EXPOSURE, CCD2); most guide cameras are
separate devices (a ZWO ASI120MM on an off-axis guider or a guide scope), and every guider
(PHD2, Ekos's, INDIGO's, ours) takes any camera that has CCD_EXPOSURE and CCD1. So the guide
camera is a device of its own, "Python Guide Camera", 640 x 512 pixels of 5.2 um at the
imaging camera's focal length (an off-axis guider's view: 2.49"/px, 26' x 21'), drawing the
real sky where the mount its ACTIVE_DEVICES names truly points (EQUATORIAL_PE), with the
same seeing wander frame to frame and the same sensor model (`sensorfaults`: bias, dark,
warm pixels, dust), its vignetting milder (`VIGNETTING`)::

    indipyserver indipysimulators.telescope indipysimulators.guidecamera
    indipy_simulator_guide                       # serves itself on localhost:7624
    indiserver indipy_simulator_telescope indipy_simulator_guide
"""

from __future__ import annotations

from indipydriver import IPyDriver
from indipydriver.standard.camera import Sensor

from . import ccd
from .serving import simulator_main

__all__ = ["DEVICE", "EXEC", "SENSOR", "VIGNETTING", "main", "make_driver"]

DEVICE = "Python Guide Camera"
EXEC = "indipy_simulator_guide"
SENSOR = Sensor(width=640, height=512, pixel_size=5.2, bits=16, max_binning=4)
#: Its vignetting (`sensorfaults`' K): an off-axis guider's 26' x 21' is a small patch at the
#: side of the telescope's image circle, nearly evenly lit: its corners 5 % darker than its
#: centre, where the imaging camera's whole field loses 28 %.
VIGNETTING = 0.05


def make_driver(device_name: str = DEVICE) -> IPyDriver:
    """The guide camera as an IPyDriver (`ccd.make_driver` on the smaller `SENSOR`)."""
    return ccd.make_driver(device_name, sensor=SENSOR, driver_exec=EXEC, vignetting=VIGNETTING)


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_guide``: served, or on stdin/stdout under an INDI server."""
    simulator_main(__doc__, argv, make_driver)
