"""indipyclient: an INDI 1.7 client library, standard library only.

Two ways in, sharing one pure model (``model``) and one connection layer (``connection``):

* ``async with indipyclient.connect(host, port) as client:`` -- the modern API (``connect``);
* ``IPyClient`` / ``QueClient`` / ``runqueclient`` -- indipyclient 0.9.4's names, so scripts
  written for it move over with few or no changes (``ipyclient``, ``queclient``).

Events (``indipyclient.events``) are the same objects in both.
"""

from .connect import Client, EventStream, SetResult, UnknownVector, connect
from .connection import Backoff, NotConnected
from .events import (
    ClientEvent,
    ConnectionLost,
    ConnectionMade,
    Message,
    VectorTimeOut,
    defBLOBVector,
    defLightVector,
    defNumberVector,
    defSwitchVector,
    defTextVector,
    defVector,
    delProperty,
    getProperties,
    setBLOBVector,
    setLightVector,
    setNumberVector,
    setSwitchVector,
    setTextVector,
    setVector,
)
from .ipyclient import IPyClient
from .model import Device, Model, PropertyVector
from .queclient import EventItem, QueClient, runqueclient
from .snapshot import Snap
from .validation import InvalidValue

__all__ = [
    "Backoff",
    "Client",
    "ClientEvent",
    "ConnectionLost",
    "ConnectionMade",
    "Device",
    "EventItem",
    "EventStream",
    "IPyClient",
    "InvalidValue",
    "Message",
    "Model",
    "NotConnected",
    "PropertyVector",
    "QueClient",
    "SetResult",
    "Snap",
    "UnknownVector",
    "VectorTimeOut",
    "connect",
    "defBLOBVector",
    "defLightVector",
    "defNumberVector",
    "defSwitchVector",
    "defTextVector",
    "defVector",
    "delProperty",
    "getProperties",
    "runqueclient",
    "setBLOBVector",
    "setLightVector",
    "setNumberVector",
    "setSwitchVector",
    "setTextVector",
    "setVector",
]
