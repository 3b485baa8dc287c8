"""`Served`: which Alpaca device (type, number) is which INDI device, right now.

The INDI client's model says which devices exist and their roles; the registry gives each
its lasting number and UniqueID. A device object is made once per (INDI device, type) and
kept, so a device that goes and comes back is the same Alpaca device.
"""

from __future__ import annotations

from indipyalpaca.wire.devicetypes import DeviceType

from .camera import Camera
from .common import AlpacaDevice
from .dome import Dome
from .filterwheel import FilterWheel
from .focuser import Focuser
from .indiside import IndiSide
from .registry import Registry
from .rotator import Rotator
from .telescope import Telescope
from .weather import ObservingConditions
from .weather import SafetyMonitor

KINDS: dict[DeviceType, type[AlpacaDevice]] = {
    DeviceType.FOCUSER: Focuser,
    DeviceType.FILTERWHEEL: FilterWheel,
    DeviceType.TELESCOPE: Telescope,
    DeviceType.CAMERA: Camera,
    DeviceType.OBSERVINGCONDITIONS: ObservingConditions,
    DeviceType.SAFETYMONITOR: SafetyMonitor,
    DeviceType.DOME: Dome,
    DeviceType.ROTATOR: Rotator,
}


class Served:
    """The Alpaca devices of the INDI server the face is a client of."""

    def __init__(self, indi: IndiSide, registry: Registry) -> None:
        self.indi = indi
        self.registry = registry
        self._made: dict[tuple[str, DeviceType], AlpacaDevice] = {}

    def all(self) -> list[AlpacaDevice]:
        """Every device the server has now, by type then number."""
        found = []
        for name, dtype in self.indi.devices():
            kind = KINDS.get(dtype)
            if kind is None:
                continue
            device = self._made.get((name, dtype))
            if device is None:
                device = self._made[(name, dtype)] = kind(self.indi,
                                                          self.registry.identify(name, dtype))
            found.append(device)
        found.sort(key=lambda d: (d.device_type.value, d.identity.number))
        return found

    def find(self, dtype: DeviceType, number: int) -> AlpacaDevice | None:
        for device in self.all():
            if device.device_type is dtype and device.identity.number == number:
                return device
        return None
