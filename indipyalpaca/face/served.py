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
        # The sorted devices and their index, rebuilt when `IndiSide.devices` changes.
        self._pairs: list[tuple[str, DeviceType]] | None = None
        self._sorted: list[AlpacaDevice] = []
        self._index: dict[tuple[DeviceType, int], AlpacaDevice] = {}

    def all(self) -> list[AlpacaDevice]:
        """Every device the server has now, by type then number."""
        self._refresh()
        return list(self._sorted)

    def find(self, dtype: DeviceType, number: int) -> AlpacaDevice | None:
        self._refresh()
        return self._index.get((dtype, number))

    def _refresh(self) -> None:
        pairs = self.indi.devices()
        if pairs is self._pairs:
            return
        found = self._build(pairs)
        self._sorted = found
        self._index = {}
        for device in found:  # the first of a (type, number) wins, as the sorted list says
            self._index.setdefault((device.device_type, device.identity.number), device)
        self._pairs = pairs

    def _build(self, pairs: list[tuple[str, DeviceType]]) -> list[AlpacaDevice]:
        found = []
        for name, dtype in pairs:
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
