"""An Alpaca FilterWheel as an INDI filter wheel: the standard `FilterWheel` role.

FILTER_SLOT n -> ``position`` n-1 (Alpaca counts from 0, INDI from 1), then ``position`` read
until it is there (it reads -1 while the wheel turns): Busy meanwhile, Ok at the end.
FILTER_NAME starts with the wheel's ``names``; a slot changed elsewhere is shown at
POLLING_PERIOD.
"""

from __future__ import annotations

from indipydriver.standard import FilterWheel

from .client import AlpacaClient
from .part import AlpacaPart

__all__ = ["AlpacaFilterWheel"]


class AlpacaFilterWheel(AlpacaPart):
    """`FilterWheelHardware` for one Alpaca filter wheel, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str, *, names: list[str],
                 slot: int) -> None:
        super().__init__(client, "filterwheel", number, name)
        self.turning = False
        self.role = FilterWheel(self, names, slot=slot)
        self.device = self.make_device(self.role)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str
                       ) -> AlpacaFilterWheel:
        path = f"filterwheel/{number}"
        names = await client.get(path, "names")
        if not isinstance(names, list) or not names:
            raise ValueError(f"{path}: names {names!r} is not a list of filter names")
        position = int(await client.get(path, "position"))
        slot = position + 1 if 0 <= position < len(names) else 1
        return cls(client, number, name, names=[str(n) or f"Filter {i}"
                                                for i, n in enumerate(names, 1)], slot=slot)

    async def select(self, slot: int) -> None:
        self.turning = True
        try:
            await self.put("position", Position=slot - 1)
            await self.wait_until(lambda: self._at(slot - 1), "the filter change", limit=120)
        finally:
            self.turning = False

    async def _at(self, position: int) -> bool:
        now = await self.get("position")
        if now not in (-1, position):
            raise RuntimeError(f"the wheel stopped at slot {int(now) + 1}, not {position + 1}")
        return bool(now == position)

    async def refresh(self) -> None:
        if self.turning:
            return
        position = int(await self.get("position"))
        vector = self.role.slot
        if position >= 0 and position + 1 != self.role.current:
            vector["FILTER_SLOT_VALUE"] = position + 1
            await vector.send_setVector(state="Ok")
