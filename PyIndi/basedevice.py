"""``BaseDevice``: one device as a ``BaseClient`` knows it, with its properties, its messages and
its driver's description (DRIVER_INFO), as pyindi-client programs read them.

``getNumber(name)`` and friends return an invalid (falsy) property when the device has no
property of that name and kind, so ``while not prop: prop = dev.getNumber(...)`` works; an
unknown device (``BaseClient.getDevice``) is an invalid, falsy ``BaseDevice``.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from .constants import INDI_DEVICE_NOT_FOUND
from .constants import INDI_DISPATCH_ERROR
from .constants import INDI_PROPERTY_DUPLICATED
from .constants import INDI_PROPERTY_INVALID
from .constants import INTERFACES
from .constants import IP_RO
from .constants import IPS_IDLE
from .constants import ISS_ON
from .live import LiveProperty
from .properties import Property
from .properties import PropertyBlob
from .properties import PropertyLight
from .properties import PropertyNumber
from .properties import PropertySwitch
from .properties import PropertyText
from .properties import timestamp_text

__all__ = ["MAX_MESSAGES", "BaseDevice"]

MAX_MESSAGES = 1024  # messages kept per device; older ones read as ""


class BaseDevice:
    """A device (see the module docstring); the ``*_INTERFACE`` bits are class attributes."""

    GENERAL_INTERFACE = INTERFACES["GENERAL_INTERFACE"]
    TELESCOPE_INTERFACE = INTERFACES["TELESCOPE_INTERFACE"]
    CCD_INTERFACE = INTERFACES["CCD_INTERFACE"]
    GUIDER_INTERFACE = INTERFACES["GUIDER_INTERFACE"]
    FOCUSER_INTERFACE = INTERFACES["FOCUSER_INTERFACE"]
    FILTER_INTERFACE = INTERFACES["FILTER_INTERFACE"]
    DOME_INTERFACE = INTERFACES["DOME_INTERFACE"]
    GPS_INTERFACE = INTERFACES["GPS_INTERFACE"]
    WEATHER_INTERFACE = INTERFACES["WEATHER_INTERFACE"]
    AO_INTERFACE = INTERFACES["AO_INTERFACE"]
    DUSTCAP_INTERFACE = INTERFACES["DUSTCAP_INTERFACE"]
    LIGHTBOX_INTERFACE = INTERFACES["LIGHTBOX_INTERFACE"]
    DETECTOR_INTERFACE = INTERFACES["DETECTOR_INTERFACE"]
    ROTATOR_INTERFACE = INTERFACES["ROTATOR_INTERFACE"]
    SPECTROGRAPH_INTERFACE = INTERFACES["SPECTROGRAPH_INTERFACE"]
    CORRELATOR_INTERFACE = INTERFACES["CORRELATOR_INTERFACE"]
    AUX_INTERFACE = INTERFACES["AUX_INTERFACE"]
    OUTPUT_INTERFACE = INTERFACES["OUTPUT_INTERFACE"]
    INPUT_INTERFACE = INTERFACES["INPUT_INTERFACE"]
    POWER_INTERFACE = INTERFACES["POWER_INTERFACE"]
    SENSOR_INTERFACE = INTERFACES["SENSOR_INTERFACE"]
    # The indices of the standard INDI_ENABLED/INDI_DISABLED switch pairs, and the error codes.
    INDI_ENABLED, INDI_DISABLED = 0, 1
    INDI_DEVICE_NOT_FOUND = INDI_DEVICE_NOT_FOUND
    INDI_PROPERTY_INVALID = INDI_PROPERTY_INVALID
    INDI_PROPERTY_DUPLICATED = INDI_PROPERTY_DUPLICATED
    INDI_DISPATCH_ERROR = INDI_DISPATCH_ERROR

    def __init__(self, name: str | None = None) -> None:
        self._name = name
        # Property name -> its live property, in the order the driver defined them.
        self.properties: dict[str, LiveProperty] = {}
        self._messages: deque[str] = deque(maxlen=MAX_MESSAGES)
        self._message_count = 0

    # -- validity and names -----------------------------------------------------------------

    def isValid(self) -> bool:
        return self._name is not None

    def __bool__(self) -> bool:
        return self._name is not None

    def getDeviceName(self) -> str:
        return self._name or ""

    def isDeviceNameMatch(self, name: str) -> bool:
        return self._name == name

    # -- properties -------------------------------------------------------------------------

    def getProperty(self, name: str, kind: int | None = None) -> Property:
        """The property of that name (of that ``INDI_*`` type, if given), or an invalid one."""
        prop = Property(self.properties.get(name))
        if kind is not None and prop.getType() != kind:
            return Property()
        return prop

    def getProperties(self) -> list[Property]:
        return [Property(live) for live in list(self.properties.values())]

    def getNumber(self, name: str) -> PropertyNumber:
        return PropertyNumber(self.properties.get(name))

    def getSwitch(self, name: str) -> PropertySwitch:
        return PropertySwitch(self.properties.get(name))

    def getText(self, name: str) -> PropertyText:
        return PropertyText(self.properties.get(name))

    def getLight(self, name: str) -> PropertyLight:
        return PropertyLight(self.properties.get(name))

    def getBLOB(self, name: str) -> PropertyBlob:
        return PropertyBlob(self.properties.get(name))

    def getPropertyState(self, name: str) -> int:
        prop = Property(self.properties.get(name))
        return prop.getState() if prop else IPS_IDLE

    def getPropertyPermission(self, name: str) -> int:
        prop = Property(self.properties.get(name))
        return prop.getPermission() if prop else IP_RO

    # -- connection and driver ----------------------------------------------------------------

    def isConnected(self) -> bool:
        """True when the device's CONNECTION switch CONNECT is On."""
        connection = self.getSwitch("CONNECTION")
        connect = connection.findWidgetByName("CONNECT") if connection else None
        return connect is not None and connect.s == ISS_ON

    def _driver_info(self, element: str) -> str:
        info = self.getText("DRIVER_INFO")
        widget = info.findWidgetByName(element) if info else None
        return widget.text if widget is not None else ""

    def getDriverInterface(self) -> int:
        """The interface bits from DRIVER_INFO (0 when the driver does not say)."""
        try:
            return int(self._driver_info("DRIVER_INTERFACE"))
        except ValueError:
            return self.GENERAL_INTERFACE

    def getDriverName(self) -> str:
        return self._driver_info("DRIVER_NAME")

    def getDriverExec(self) -> str:
        return self._driver_info("DRIVER_EXEC")

    def getDriverVersion(self) -> str:
        return self._driver_info("DRIVER_VERSION")

    # -- messages ---------------------------------------------------------------------------

    def add_message(self, timestamp: datetime, text: str) -> int:
        """Keep a message (as libindi shows it: ``timestamp: text``); returns its id."""
        self._messages.append(f"{timestamp_text(timestamp)}: {text}")
        self._message_count += 1
        return self._message_count - 1

    def messageQueue(self, index: int) -> str:
        """Message ``index`` (the id ``newMessage`` gave); "" when unknown or long gone."""
        first = self._message_count - len(self._messages)
        if first <= index < self._message_count:
            return self._messages[index - first]
        return ""

    def lastMessage(self) -> str:
        """The newest message, or "" when there is none."""
        return self._messages[-1] if self._messages else ""

    def getMessageCount(self) -> int:
        return self._message_count

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BaseDevice):
            return self is other or (self._name is not None and self._name == other._name
                                     and self.properties is other.properties)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        if self._name is None:
            return "<BaseDevice invalid>"
        return f"<BaseDevice {self._name!r} {len(self.properties)} properties>"
