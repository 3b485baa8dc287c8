"""indipydriver 3.x's module path for the events given to ``rxevent`` and ``snoopevent``
(``from indipydriver.events import newNumberVector``); they are defined in ``rxevents.py``."""

from .rxevents import (
    Message,
    defBLOBVector,
    defLightVector,
    defNumberVector,
    defSwitchVector,
    defTextVector,
    delProperty,
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

__all__ = [
    "Message",
    "defBLOBVector",
    "defLightVector",
    "defNumberVector",
    "defSwitchVector",
    "defTextVector",
    "delProperty",
    "getProperties",
    "newBLOBVector",
    "newNumberVector",
    "newSwitchVector",
    "newTextVector",
    "setBLOBVector",
    "setLightVector",
    "setNumberVector",
    "setSwitchVector",
    "setTextVector",
]
