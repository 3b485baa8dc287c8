"""FilterWheel (IFilterWheelV3) on FILTER_SLOT and FILTER_NAME.

Alpaca counts filters from 0, INDI slots from 1; Position reads -1 while FILTER_SLOT is Busy.
INDI keeps no focus offsets, so FocusOffsets is a zero for each filter (as the interface
says a wheel without offsets answers).
"""

from __future__ import annotations

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.requests import Params
from indipycore.protocol import State

from .common import AlpacaDevice

SLOT = "FILTER_SLOT"


class FilterWheel(AlpacaDevice):
    device_type = DeviceType.FILTERWHEEL
    MEMBERS = frozenset({"focusoffsets", "names", "position"})
    STATE = ("Position",)

    def _names(self) -> list[str]:
        vector = self.indi.vector(self.name, "FILTER_NAME")
        if vector is not None and len(vector):
            return [str(vector[m]) or f"Filter {i}" for i, m in enumerate(vector, start=1)]
        limits = self.indi.limits(self.name, SLOT, "FILTER_SLOT_VALUE")
        if limits is None:
            raise AlpacaError.not_implemented("Names (neither FILTER_NAME nor FILTER_SLOT)")
        return [f"Filter {i}" for i in range(1, round(limits[1]) + 1)]

    async def get_names(self, params: Params) -> list[str]:
        return self._names()

    async def get_focusoffsets(self, params: Params) -> list[int]:
        return [0] * len(self._names())

    async def get_position(self, params: Params) -> int:
        vector = self.indi.require(self.name, SLOT, "Position")
        self.check_not_alert(SLOT)
        if vector.state == State.BUSY:
            return -1
        value = self.indi.number(self.name, SLOT, "FILTER_SLOT_VALUE")
        if value is None:
            raise AlpacaError.not_implemented("Position (no FILTER_SLOT_VALUE)")
        return round(value) - 1

    async def put_position(self, params: Params) -> None:
        position = params.as_int("Position")
        count = len(self._names())
        if not 0 <= position < count:
            raise AlpacaError.invalid_value(f"Position {position} is outside 0..{count - 1}")
        self.indi.require(self.name, SLOT, "Position")
        await self.indi.send(self.name, SLOT, {"FILTER_SLOT_VALUE": position + 1})
