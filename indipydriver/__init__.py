"""Write INDI instrument drivers in Python (indipydriver 3.x compatible API).

A driver is an `IPyDriver` subclass holding Device objects, each holding vectors of members::

    from indipydriver import IPyDriver, Device, NumberVector, NumberMember

See `IPyDriver` for what the framework does for you, the event classes exported here
(`newNumberVector` ... `setBLOBVector`, `Message`, `delProperty`) for what your
`rxevent`/`snoopevent` receive, and `indipydriver.testing` for testing a driver with no server.
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the tools' start-up time)
if TYPE_CHECKING:
    from .device import Device as Device
    from .driver import IPyDriver as IPyDriver
    from .links import Link as Link
    from .links import StdioLink as StdioLink
    from .members import BLOBMember as BLOBMember
    from .members import LightMember as LightMember
    from .members import NumberMember as NumberMember
    from .members import PropertyMember as PropertyMember
    from .members import SwitchMember as SwitchMember
    from .members import TextMember as TextMember
    from .members import getfloat as getfloat
    from .memorylink import MemoryLink as MemoryLink
    from .rxevents import *
    from .vectors import *

# PEP 562: each public name is imported from its module on first use, so a program that
# needs one part (a command-line tool, the protocol core) does not pay for the rest.
_LAZY = {
    "Device": "device",
    "IPyDriver": "driver",
    "Link": "links",
    "MemoryLink": "memorylink",
    "StdioLink": "links",
    "BLOBMember": "members",
    "LightMember": "members",
    "NumberMember": "members",
    "PropertyMember": "members",
    "SwitchMember": "members",
    "TextMember": "members",
    "getfloat": "members",
    "ClientVectorEvent": "rxevents",
    "Message": "rxevents",
    "RxEvent": "rxevents",
    "VectorEvent": "rxevents",
    "defBLOBVector": "rxevents",
    "defLightVector": "rxevents",
    "defNumberVector": "rxevents",
    "defSwitchVector": "rxevents",
    "defTextVector": "rxevents",
    "delProperty": "rxevents",
    "enableBLOB": "rxevents",
    "getProperties": "rxevents",
    "newBLOBVector": "rxevents",
    "newNumberVector": "rxevents",
    "newSwitchVector": "rxevents",
    "newTextVector": "rxevents",
    "setBLOBVector": "rxevents",
    "setLightVector": "rxevents",
    "setNumberVector": "rxevents",
    "setSwitchVector": "rxevents",
    "setTextVector": "rxevents",
    "BLOBVector": "vectors",
    "LightVector": "vectors",
    "NumberVector": "vectors",
    "PropertyVector": "vectors",
    "SwitchVector": "vectors",
    "TextVector": "vectors",
}

#: This project's version (pyproject.toml's); 3.x drivers print ``indipydriver.version``.
version = "0.1.0"

# __all__ is the table's names and `version` (the imports under TYPE_CHECKING re-export them
# for mypy).
__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY, "version")
