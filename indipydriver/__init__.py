"""Write INDI instrument drivers in Python (indipydriver 3.x compatible API).

A driver is an `IPyDriver` subclass holding Device objects, each holding vectors of members::

    from indipydriver import IPyDriver, Device, NumberVector, NumberMember

See `indipydriver.driver` for what the framework does for you, `indipydriver.rxevents` for
the events your `rxevent`/`snoopevent` receive and `indipydriver.testing` for testing a driver
with no server.
"""

from .device import Device
from .driver import IPyDriver
from .links import Link, MemoryLink, StdioLink
from .members import (
    BLOBMember,
    LightMember,
    NumberMember,
    PropertyMember,
    SwitchMember,
    TextMember,
    getfloat,
)
from .rxevents import (
    Message,
    RxEvent,
    VectorEvent,
    defBLOBVector,
    defLightVector,
    defNumberVector,
    defSwitchVector,
    defTextVector,
    delProperty,
    enableBLOB,
    getProperties,
    newBLOBVector,
    newNumberVector,
    newSwitchVector,
    newTextVector,
    setBLOBVector,
    setLightVector,
    setNumberVector,
    setSwitchVector,
    setTextVector,
)
from .vectors import (
    BLOBVector,
    LightVector,
    NumberVector,
    PropertyVector,
    SwitchVector,
    TextVector,
)

__all__ = [
    "IPyDriver",
    "Device",
    "PropertyVector",
    "SwitchVector",
    "LightVector",
    "TextVector",
    "NumberVector",
    "BLOBVector",
    "PropertyMember",
    "SwitchMember",
    "LightMember",
    "TextMember",
    "NumberMember",
    "BLOBMember",
    "getfloat",
    "Link",
    "StdioLink",
    "MemoryLink",
    "RxEvent",
    "VectorEvent",
    "getProperties",
    "enableBLOB",
    "newSwitchVector",
    "newTextVector",
    "newNumberVector",
    "newBLOBVector",
    "Message",
    "delProperty",
    "defSwitchVector",
    "defTextVector",
    "defNumberVector",
    "defLightVector",
    "defBLOBVector",
    "setSwitchVector",
    "setTextVector",
    "setNumberVector",
    "setLightVector",
    "setBLOBVector",
]
