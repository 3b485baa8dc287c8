"""PyIndi: pyindi-client's module, in pure Python on indipyclient.

Programs written for pyindi-client (the SWIG binding of libindi's C++ client) run unchanged::

    import PyIndi

    class Client(PyIndi.BaseClient):
        def __init__(self):
            super().__init__()

        def updateProperty(self, prop):
            print(prop.getDeviceName(), prop.getName(), prop.getStateAsString())

    client = Client()
    client.setServer("localhost", 7624)
    client.connectServer()

The names are pyindi-client's, with both the 1.9 and the 2.x spellings where they differ; the
behaviour differs on purpose in a few places (each event once, a lost connection reported,
exceptions in callbacks logged): see docs/pyindi.rst, "Coming from pyindi-client".
"""

from __future__ import annotations

from . import constants
from . import properties
from .baseclient import BaseClient
from .baseclient import BaseMediator
from .basedevice import BaseDevice

# pyindi-client's numbers and property classes, each listed once, in its module's __all__.
from .constants import *
from .properties import *
from .widgets import IBLOB
from .widgets import ILight
from .widgets import INumber
from .widgets import ISwitch
from .widgets import IText

# libindi 2.x's names for the elements.
WidgetViewNumber = INumber
WidgetViewSwitch = ISwitch
WidgetViewText = IText
WidgetViewLight = ILight
WidgetViewBlob = IBLOB

__all__ = [
    "IBLOB",
    "BaseClient",
    "BaseDevice",
    "BaseMediator",
    "ILight",
    "INumber",
    "ISwitch",
    "IText",
    "WidgetViewBlob",
    "WidgetViewLight",
    "WidgetViewNumber",
    "WidgetViewSwitch",
    "WidgetViewText",
]
__all__ += constants.__all__
__all__ += properties.__all__
