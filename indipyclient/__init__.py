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

from indipycore.lazynames import lazy_names

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from .connect import Client as Client
    from .connect import EventStream as EventStream
    from .connect import SetResult as SetResult
    from .connect import UnknownVector as UnknownVector
    from .connect import connect as connect
    from .connection import ConstantBackoff as ConstantBackoff
    from .connection import ExponentialBackoff as ExponentialBackoff
    from .connection import NoBackoff as NoBackoff
    from .connection import NotConnected as NotConnected
    from .connection import Retry as Retry
    from .events import ClientEvent as ClientEvent
    from .events import ConnectionLost as ConnectionLost
    from .events import ConnectionMade as ConnectionMade
    from .events import Message as Message
    from .events import VectorTimeOut as VectorTimeOut
    from .events import defBLOBVector as defBLOBVector
    from .events import defLightVector as defLightVector
    from .events import defNumberVector as defNumberVector
    from .events import defSwitchVector as defSwitchVector
    from .events import defTextVector as defTextVector
    from .events import defVector as defVector
    from .events import delProperty as delProperty
    from .events import getProperties as getProperties
    from .events import setBLOBVector as setBLOBVector
    from .events import setLightVector as setLightVector
    from .events import setNumberVector as setNumberVector
    from .events import setSwitchVector as setSwitchVector
    from .events import setTextVector as setTextVector
    from .events import setVector as setVector
    from .ipyclient import IPyClient as IPyClient
    from .model import Model as Model
    from .outgoing import InvalidValue as InvalidValue
    from .properties import Device as Device
    from .properties import PropertyVector as PropertyVector
    from .queclient import EventItem as EventItem
    from .queclient import QueClient as QueClient
    from .queclient import runqueclient as runqueclient
    from .snapshot import Snap as Snap

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

# The names of the table above (the imports under TYPE_CHECKING re-export them for mypy).
__all__ = list(_LAZY)


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
