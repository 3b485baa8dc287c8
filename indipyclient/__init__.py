"""indipyclient: an INDI 1.7 client library, standard library only.

Three layers, each a folder: the pure model (``model/``: what the server holds, the events,
the rules new values keep), the session (``session/``, asyncio: one connection kept up and read
into the model, set-and-wait, the two APIs) and the front ends (``frontends/``: the role
clients, the command-line tools). Two ways in, on one session:

* ``async with indipyclient.connect(host, port) as client:`` -- the modern API;
* ``IPyClient`` / ``QueClient`` / ``runqueclient`` -- indipyclient 0.9.4's names, so scripts
  written for it move over with few or no changes (``indipyclient.ipyclient``,
  ``indipyclient.queclient``).
* ``indipyclient.discover()`` / ``discover_async()`` / ``resolve_service(name)`` -- the INDI,
  INDIGO and Alpaca servers on the network, from ``indipydiscovery`` (DNS-SD needs the extra
  ``[discovery]``).

Events (``indipyclient.events``) are the same objects in both. The modules at this level are
the public paths (0.9.4's ``events``, ``ipyclient``, ``queclient``; ``properties``, ``roles``)
and the ``python -m`` tools (``getprop``, ``setprop``, ``eval``, ``watch``).
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from indipyclient.model.events import ClientEvent as ClientEvent
    from indipyclient.model.events import ConnectionLost as ConnectionLost
    from indipyclient.model.events import ConnectionMade as ConnectionMade
    from indipyclient.model.events import Message as Message
    from indipyclient.model.events import VectorTimeOut as VectorTimeOut
    from indipyclient.model.events import defBLOBVector as defBLOBVector
    from indipyclient.model.events import defLightVector as defLightVector
    from indipyclient.model.events import defNumberVector as defNumberVector
    from indipyclient.model.events import defSwitchVector as defSwitchVector
    from indipyclient.model.events import defTextVector as defTextVector
    from indipyclient.model.events import defVector as defVector
    from indipyclient.model.events import delProperty as delProperty
    from indipyclient.model.events import getProperties as getProperties
    from indipyclient.model.events import setBLOBVector as setBLOBVector
    from indipyclient.model.events import setLightVector as setLightVector
    from indipyclient.model.events import setNumberVector as setNumberVector
    from indipyclient.model.events import setSwitchVector as setSwitchVector
    from indipyclient.model.events import setTextVector as setTextVector
    from indipyclient.model.events import setVector as setVector
    from indipyclient.model.outgoing import InvalidValue as InvalidValue
    from indipyclient.model.properties import Device as Device
    from indipyclient.model.properties import PropertyVector as PropertyVector
    from indipyclient.model.snapshot import Snap as Snap
    from indipyclient.model.tree import Model as Model
    from indipyclient.session.connect import Client as Client
    from indipyclient.session.connect import EventStream as EventStream
    from indipyclient.session.connect import SetResult as SetResult
    from indipyclient.session.connect import UnknownVector as UnknownVector
    from indipyclient.session.connect import connect as connect
    from indipyclient.session.connection import ConstantBackoff as ConstantBackoff
    from indipyclient.session.connection import ExponentialBackoff as ExponentialBackoff
    from indipyclient.session.connection import NoBackoff as NoBackoff
    from indipyclient.session.connection import NotConnected as NotConnected
    from indipyclient.session.connection import Retry as Retry
    from indipyclient.session.ipyclient import IPyClient as IPyClient
    from indipyclient.session.queclient import EventItem as EventItem
    from indipyclient.session.queclient import QueClient as QueClient
    from indipyclient.session.queclient import runqueclient as runqueclient
    from indipydiscovery.browse import discover as discover
    from indipydiscovery.browse import discover_async as discover_async
    from indipydiscovery.resolve import resolve_service as resolve_service
    from indipydiscovery.service import Service as Service

# PEP 562: each public name is imported from its module on first use, so a program that
# needs one part (a command-line tool, the protocol core) does not pay for the rest.
_LAZY = {
    "Client": "indipyclient.session.connect",
    "EventStream": "indipyclient.session.connect",
    "SetResult": "indipyclient.session.connect",
    "UnknownVector": "indipyclient.session.connect",
    "connect": "indipyclient.session.connect",
    "ConstantBackoff": "indipyclient.session.connection",
    "ExponentialBackoff": "indipyclient.session.connection",
    "NoBackoff": "indipyclient.session.connection",
    "NotConnected": "indipyclient.session.connection",
    "Retry": "indipyclient.session.connection",
    "ClientEvent": "indipyclient.model.events",
    "ConnectionLost": "indipyclient.model.events",
    "ConnectionMade": "indipyclient.model.events",
    "Message": "indipyclient.model.events",
    "VectorTimeOut": "indipyclient.model.events",
    "defBLOBVector": "indipyclient.model.events",
    "defLightVector": "indipyclient.model.events",
    "defNumberVector": "indipyclient.model.events",
    "defSwitchVector": "indipyclient.model.events",
    "defTextVector": "indipyclient.model.events",
    "defVector": "indipyclient.model.events",
    "delProperty": "indipyclient.model.events",
    "getProperties": "indipyclient.model.events",
    "setBLOBVector": "indipyclient.model.events",
    "setLightVector": "indipyclient.model.events",
    "setNumberVector": "indipyclient.model.events",
    "setSwitchVector": "indipyclient.model.events",
    "setTextVector": "indipyclient.model.events",
    "setVector": "indipyclient.model.events",
    "IPyClient": "indipyclient.session.ipyclient",
    "Device": "indipyclient.model.properties",
    "Model": "indipyclient.model.tree",
    "PropertyVector": "indipyclient.model.properties",
    "EventItem": "indipyclient.session.queclient",
    "QueClient": "indipyclient.session.queclient",
    "runqueclient": "indipyclient.session.queclient",
    "Snap": "indipyclient.model.snapshot",
    "InvalidValue": "indipyclient.model.outgoing",
    # finding servers (issue 73): indipydiscovery's, re-exported; zeroconf is imported only
    # when a listing browses DNS-SD, so these import without the extra [discovery]
    "discover": "indipydiscovery.browse",
    "discover_async": "indipydiscovery.browse",
    "resolve_service": "indipydiscovery.resolve",
    "Service": "indipydiscovery.service",
}

# __all__ is the table's names (the imports under TYPE_CHECKING re-export them for mypy).
__all__, __getattr__, __dir__ = lazy_package(__name__, _LAZY)
