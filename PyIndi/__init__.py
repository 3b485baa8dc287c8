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

from .baseclient import BaseClient, BaseMediator
from .basedevice import BaseDevice
from .constants import (
    AXIS_ALT,
    AXIS_AZ,
    AXIS_DE,
    AXIS_RA,
    B_ALSO,
    B_NEVER,
    B_ONLY,
    DIRECTION_EAST,
    DIRECTION_NORTH,
    DIRECTION_SOUTH,
    DIRECTION_WEST,
    INDI_BAYER_BGGR,
    INDI_BAYER_CYYM,
    INDI_BAYER_GBRG,
    INDI_BAYER_GRBG,
    INDI_BAYER_MYYC,
    INDI_BAYER_RGGB,
    INDI_BAYER_YCMY,
    INDI_BAYER_YMCY,
    INDI_BGR,
    INDI_BLOB,
    INDI_DEVICE_NOT_FOUND,
    INDI_DISPATCH_ERROR,
    INDI_JPG,
    INDI_LIGHT,
    INDI_MONO,
    INDI_NUMBER,
    INDI_PROPERTY_DUPLICATED,
    INDI_PROPERTY_INVALID,
    INDI_RGB,
    INDI_SWITCH,
    INDI_TEXT,
    INDI_UNKNOWN,
    INDI_VERSION_MAJOR,
    INDI_VERSION_MINOR,
    INDI_VERSION_RELEASE,
    INDIV,
    IP_RO,
    IP_RW,
    IP_WO,
    IPS_ALERT,
    IPS_BUSY,
    IPS_IDLE,
    IPS_OK,
    ISR_1OFMANY,
    ISR_ATMOST1,
    ISR_NOFMANY,
    ISS_OFF,
    ISS_ON,
    MAXINDIBLOBFMT,
    MAXINDIDEVICE,
    MAXINDIFORMAT,
    MAXINDIGROUP,
    MAXINDILABEL,
    MAXINDIMESSAGE,
    MAXINDINAME,
    MAXINDITSTAMP,
    MAXRBUF,
)
from .properties import (
    IBLOBVectorProperty,
    ILightVectorProperty,
    INumberVectorProperty,
    ISwitchVectorProperty,
    ITextVectorProperty,
    Property,
    PropertyBLOB,
    PropertyBlob,
    PropertyLight,
    PropertyNumber,
    PropertySwitch,
    PropertyText,
)
from .widgets import IBLOB, ILight, INumber, ISwitch, IText

# libindi 2.x's names for the elements.
WidgetViewNumber = INumber
WidgetViewSwitch = ISwitch
WidgetViewText = IText
WidgetViewLight = ILight
WidgetViewBlob = IBLOB

__all__ = [
    "AXIS_ALT",
    "AXIS_AZ",
    "AXIS_DE",
    "AXIS_RA",
    "B_ALSO",
    "B_NEVER",
    "B_ONLY",
    "DIRECTION_EAST",
    "DIRECTION_NORTH",
    "DIRECTION_SOUTH",
    "DIRECTION_WEST",
    "IBLOB",
    "INDIV",
    "INDI_BAYER_BGGR",
    "INDI_BAYER_CYYM",
    "INDI_BAYER_GBRG",
    "INDI_BAYER_GRBG",
    "INDI_BAYER_MYYC",
    "INDI_BAYER_RGGB",
    "INDI_BAYER_YCMY",
    "INDI_BAYER_YMCY",
    "INDI_BGR",
    "INDI_BLOB",
    "INDI_DEVICE_NOT_FOUND",
    "INDI_DISPATCH_ERROR",
    "INDI_JPG",
    "INDI_LIGHT",
    "INDI_MONO",
    "INDI_NUMBER",
    "INDI_PROPERTY_DUPLICATED",
    "INDI_PROPERTY_INVALID",
    "INDI_RGB",
    "INDI_SWITCH",
    "INDI_TEXT",
    "INDI_UNKNOWN",
    "INDI_VERSION_MAJOR",
    "INDI_VERSION_MINOR",
    "INDI_VERSION_RELEASE",
    "IPS_ALERT",
    "IPS_BUSY",
    "IPS_IDLE",
    "IPS_OK",
    "IP_RO",
    "IP_RW",
    "IP_WO",
    "ISR_1OFMANY",
    "ISR_ATMOST1",
    "ISR_NOFMANY",
    "ISS_OFF",
    "ISS_ON",
    "MAXINDIBLOBFMT",
    "MAXINDIDEVICE",
    "MAXINDIFORMAT",
    "MAXINDIGROUP",
    "MAXINDILABEL",
    "MAXINDIMESSAGE",
    "MAXINDINAME",
    "MAXINDITSTAMP",
    "MAXRBUF",
    "BaseClient",
    "BaseDevice",
    "BaseMediator",
    "IBLOBVectorProperty",
    "ILight",
    "ILightVectorProperty",
    "INumber",
    "INumberVectorProperty",
    "ISwitch",
    "ISwitchVectorProperty",
    "IText",
    "ITextVectorProperty",
    "Property",
    "PropertyBLOB",
    "PropertyBlob",
    "PropertyLight",
    "PropertyNumber",
    "PropertySwitch",
    "PropertyText",
    "WidgetViewBlob",
    "WidgetViewLight",
    "WidgetViewNumber",
    "WidgetViewSwitch",
    "WidgetViewText",
]
