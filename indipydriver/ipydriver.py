"""indipydriver 3.x's module path for `IPyDriver` and `Device` (``from indipydriver.ipydriver
import IPyDriver``); they are defined in ``driver.py`` and ``device.py``."""

from .device import Device
from .driver import IPyDriver

__all__ = ["Device", "IPyDriver"]
