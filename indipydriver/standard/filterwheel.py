"""`FilterWheel`: the filter wheel role (FILTER bit), indilib's ``INDI::FilterInterface``.

The user writes a `FilterWheelHardware` with one coroutine, ``select(slot)``, which returns
once the wheel is there. The role defines FILTER_SLOT and FILTER_NAME (names, labels, group,
format and timeouts of indilib 1.9.9's wheel simulator) and runs a change as indilib does:
FILTER_SLOT Busy with the old slot, then Ok with the new one (Alert with the error if
``select`` raises). FILTER_NAME keeps the names clients give the slots.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from ..members import TextMember
from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import TextVector
from .groups import FILTER_TAB
from .role import Operation
from .role import RoleDevice
from .role import accept_values
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["FilterWheel", "FilterWheelHardware"]

logger = logging.getLogger(__name__)


#: The wheel's vectors (indilib 1.9.9's wheel simulator): FILTER_NAME has one text per slot.
WHEEL_VECTORS = (
    VectorSpec("FILTER_SLOT", "Filter Slot", FILTER_TAB, "rw", (
        NumberSpec("FILTER_SLOT_VALUE", "Filter", "%3.0f", 1, Param("slots"), 1, Param("slot")),
    ), timeout=60),
    VectorSpec("FILTER_NAME", "Filter", FILTER_TAB, "rw", Param("names")),
)


class FilterWheelHardware(Protocol):
    """What the user writes for a filter wheel; slots count from 1."""

    async def select(self, slot: int) -> None:
        """Turn to `slot`; return once there (raise if it cannot)."""


class FilterWheel:
    """The filter wheel role::

        wheel = FilterWheel(MyWheel(), names=["Red", "Green", "Blue", "Luminance"])
        device = Device("Filter Wheel", roles=[wheel])

    One slot per name; `slot` is the one in place at start.
    """

    #: Saved by CONFIG_SAVE (indilib's FilterInterface::saveConfigItems).
    config_names = ("FILTER_SLOT", "FILTER_NAME")
    #: Taken from the saved file when the driver starts (indilib's FilterInterface::
    #: initProperties, loadFilterNames).
    startup_names = ("FILTER_NAME",)

    def __init__(self, hardware: FilterWheelHardware, names: Sequence[str], *,
                 slot: int = 1) -> None:
        if not names:
            raise ValueError("a filter wheel needs at least one slot (one name per slot)")
        if not 1 <= slot <= len(names):
            raise ValueError(f"slot {slot} is outside 1..{len(names)}")
        self.hardware = hardware
        self.logger = logger
        made = build(WHEEL_VECTORS, slots=len(names), slot=slot, names=[
            TextMember(f"FILTER_SLOT_NAME_{n}", f"Filter#{n}", name)
            for n, name in enumerate(names, start=1)])
        self.slot = made.vector("FILTER_SLOT", NumberVector)
        self.names = made.vector("FILTER_NAME", TextVector)
        self._change = Operation(self.slot, "Filter change")

    @property
    def interface(self) -> Interface:
        return Interface.FILTER

    @property
    def current(self) -> int:
        """The slot in place (the last one the wheel reached)."""
        return round(self.slot.getfloatvalue("FILTER_SLOT_VALUE"))

    def filter_name(self, slot: int) -> str:
        """The name of `slot` (as FILTER_NAME holds it)."""
        value: str = self.names[f"FILTER_SLOT_NAME_{slot}"]
        return value

    def vectors(self) -> Sequence[PropertyVector]:
        return [self.slot, self.names]

    def attach(self, device: RoleDevice) -> None:
        self.logger = device.logger
        self._change.attach(device)

    async def connected(self) -> None:
        """Nothing to start: the wheel moves only when asked."""

    async def disconnected(self) -> None:
        await self._change.abort()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if event.vectorname == "FILTER_SLOT" and isinstance(event, newNumberVector):
            await self._select(round(event.getfloatvalue("FILTER_SLOT_VALUE")))
        elif event.vectorname == "FILTER_NAME":
            await accept_values(event)

    async def _select(self, slot: int) -> None:
        if self._change.running:
            await self.slot.send_setVector(state="Alert",
                                           message="The wheel is still turning: try again")
            return
        # Busy with the old slot while the wheel turns, as indilib's wheels do.
        await self.slot.send_setVector(state="Busy")
        self._change.start(self._run(slot))

    async def _run(self, slot: int) -> None:
        await self.hardware.select(slot)
        self.slot["FILTER_SLOT_VALUE"] = slot
        self.logger.info("Filter is %s (slot %d)", self.filter_name(slot), slot)
        await self.slot.send_setVector(state="Ok")
