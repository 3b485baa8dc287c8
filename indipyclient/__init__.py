"""indipyclient: an INDI 1.7 client library, standard library only.

Two ways in, sharing one pure model (``model``) and one connection layer (``connection``):

* ``async with indipyclient.connect(host, port) as client:`` -- the modern API (``connect``);
* ``IPyClient`` / ``QueClient`` / ``runqueclient`` -- indipyclient 0.9.4's names, so scripts
  written for it move over with few or no changes (``ipyclient``, ``queclient``).

Events (``indipyclient.events``) are the same objects in both.
"""

from __future__ import annotations

import sys
from types import ModuleType

from indipydriver import lazy_names

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from .connect import Client, EventStream, SetResult, UnknownVector, connect
    from .connection import (
        ConstantBackoff,
        ExponentialBackoff,
        NoBackoff,
        NotConnected,
        Retry,
    )
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
    from .model import Model
    from .outgoing import InvalidValue
    from .properties import Device, PropertyVector
    from .queclient import EventItem, QueClient, runqueclient
    from .snapshot import Snap

# PEP 562: each public name is imported from its module on first use, so a program that
# needs one part (a command-line tool, the protocol core) does not pay for the rest.
_LAZY = {
    "Client": "connect",
    "EventStream": "connect",
    "SetResult": "connect",
    "UnknownVector": "connect",
    "connect": "connect",
    "ConstantBackoff": "connection",
    "ExponentialBackoff": "connection",
    "NoBackoff": "connection",
    "NotConnected": "connection",
    "Retry": "connection",
    "ClientEvent": "events",
    "ConnectionLost": "events",
    "ConnectionMade": "events",
    "Message": "events",
    "VectorTimeOut": "events",
    "defBLOBVector": "events",
    "defLightVector": "events",
    "defNumberVector": "events",
    "defSwitchVector": "events",
    "defTextVector": "events",
    "defVector": "events",
    "delProperty": "events",
    "getProperties": "events",
    "setBLOBVector": "events",
    "setLightVector": "events",
    "setNumberVector": "events",
    "setSwitchVector": "events",
    "setTextVector": "events",
    "setVector": "events",
    "IPyClient": "ipyclient",
    "Device": "properties",
    "Model": "model",
    "PropertyVector": "properties",
    "EventItem": "queclient",
    "QueClient": "queclient",
    "runqueclient": "queclient",
    "Snap": "snapshot",
    "InvalidValue": "outgoing",
}

__all__ = [
    "Client",
    "ClientEvent",
    "ConnectionLost",
    "ConnectionMade",
    "ConstantBackoff",
    "Device",
    "EventItem",
    "EventStream",
    "ExponentialBackoff",
    "IPyClient",
    "InvalidValue",
    "Message",
    "Model",
    "NoBackoff",
    "NotConnected",
    "PropertyVector",
    "QueClient",
    "Retry",
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


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


class _Package(ModuleType):
    """Keeps ``indipyclient.connect`` the function once the submodule of that name is loaded.

    Importing ``indipyclient.connect`` (the module) sets the package attribute of that name;
    eagerly the function was bound after it, lazily the import may come first (``from
    ..connect import Client`` in another module).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "connect" and isinstance(value, ModuleType):
            value = value.connect
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
