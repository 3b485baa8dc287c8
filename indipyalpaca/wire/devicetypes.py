"""The Alpaca device types: their URL names, their PascalCase names and interface versions.

The URL uses the lower-case name (`filterwheel`), the management API the PascalCase one
(`FilterWheel`), and InterfaceVersion is the Platform 7 version of each interface, which
clients read to decide whether Connect/Disconnect/DeviceState exist.
"""

from __future__ import annotations

import enum


class DeviceType(enum.Enum):
    """One Alpaca device type; the value is its PascalCase name."""

    CAMERA = "Camera"
    COVERCALIBRATOR = "CoverCalibrator"
    DOME = "Dome"
    FILTERWHEEL = "FilterWheel"
    FOCUSER = "Focuser"
    OBSERVINGCONDITIONS = "ObservingConditions"
    ROTATOR = "Rotator"
    SAFETYMONITOR = "SafetyMonitor"
    SWITCH = "Switch"
    TELESCOPE = "Telescope"

    @property
    def url_name(self) -> str:
        """The name in `/api/v1/{type}/...`: lower case, and only lower case is valid."""
        return self.value.lower()

    @property
    def interface_version(self) -> int:
        """The Platform 7 version of this type's interface, as a served device reports it."""
        return _PLATFORM7[self]


_PLATFORM7 = {
    DeviceType.CAMERA: 4, DeviceType.TELESCOPE: 4, DeviceType.FOCUSER: 4, DeviceType.ROTATOR: 4,
    DeviceType.DOME: 3, DeviceType.FILTERWHEEL: 3, DeviceType.SWITCH: 3,
    DeviceType.OBSERVINGCONDITIONS: 2, DeviceType.COVERCALIBRATOR: 2,
    DeviceType.SAFETYMONITOR: 3,
}

_BY_URL = {t.url_name: t for t in DeviceType}


def device_type_from_url(name: str) -> DeviceType | None:
    """The type a URL path element names, None unless it is exactly a lower-case type name."""
    return _BY_URL.get(name)


def device_type_from_name(name: str) -> DeviceType | None:
    """The type a management reply names (`DeviceType`), in any casing, None if unknown."""
    return _BY_URL.get(name.lower())
