"""Write INDI instrument drivers in Python (indipydriver 3.x compatible API).

A driver is an `IPyDriver` subclass holding Device objects, each holding vectors of members::

    from indipydriver import IPyDriver, Device, NumberVector, NumberMember

See `IPyDriver` for what the framework does for you, the event classes exported here
(`newNumberVector` ... `setBLOBVector`, `Message`, `delProperty`) for what your
`rxevent`/`snoopevent` receive, and `indipydriver.testing` for testing a driver with no server.
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
    ClientVectorEvent,
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

#: This project's version (pyproject.toml's); 3.x drivers print ``indipydriver.version``.
version = "0.1.0"

__all__ = [
    "BLOBMember",
    "BLOBVector",
    "ClientVectorEvent",
    "Device",
    "IPyDriver",
    "LightMember",
    "LightVector",
    "Link",
    "MemoryLink",
    "Message",
    "NumberMember",
    "NumberVector",
    "PropertyMember",
    "PropertyVector",
    "RxEvent",
    "StdioLink",
    "SwitchMember",
    "SwitchVector",
    "TextMember",
    "TextVector",
    "VectorEvent",
    "defBLOBVector",
    "defLightVector",
    "defNumberVector",
    "defSwitchVector",
    "defTextVector",
    "delProperty",
    "enableBLOB",
    "getProperties",
    "getfloat",
    "newBLOBVector",
    "newNumberVector",
    "newSwitchVector",
    "newTextVector",
    "setBLOBVector",
    "setLightVector",
    "setNumberVector",
    "setSwitchVector",
    "setTextVector",
    "version",
]
