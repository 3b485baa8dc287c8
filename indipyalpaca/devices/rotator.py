"""An Alpaca Rotator as an INDI rotator: the standard `Rotator` role on Alpaca calls.

ABS_ROTATOR_ANGLE -> ``moveabsolute``, then ``ismoving`` until False (Busy meanwhile, the
angle polled at POLLING_PERIOD, Ok at the end); ROTATOR_ABORT_MOTION -> ``halt``;
ROTATOR_REVERSE -> ``reverse`` (where ``canreverse``); SYNC_ROTATOR_ANGLE -> ``sync``, which
Alpaca rotators have from interface version 3 on (earlier ones have no SYNC_ROTATOR_ANGLE).
The angle shown is Alpaca's ``position``, the sky angle (after any sync).
"""

from __future__ import annotations

from indipydriver.standard import Rotator

from .client import AlpacaClient
from .part import TurningPart

__all__ = ["AlpacaRotator"]

#: The first IRotator version with Sync and MechanicalPosition.
SYNC_VERSION = 3


class AlpacaRotator(TurningPart):
    """`RotatorHardware` for one Alpaca rotator, and its INDI device."""

    START, TARGET, MOVING, ANGLE, STOP = "moveabsolute", "Position", "ismoving", "position", \
        "halt"

    def __init__(self, client: AlpacaClient, number: int, name: str, *, angle: float,
                 can_sync: bool, can_reverse: bool, reversed: bool) -> None:
        super().__init__(client, "rotator", number, name)
        self.role = Rotator(self, angle=angle, can_sync=can_sync, can_reverse=can_reverse,
                            reversed=reversed)
        self.device = self.make_device(self.role)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaRotator:
        path = f"rotator/{number}"
        can_reverse = await client.get(path, "canreverse") is True
        return cls(client, number, name, angle=float(await client.get(path, "position")),
                   can_sync=int(await client.get(path, "interfaceversion")) >= SYNC_VERSION,
                   can_reverse=can_reverse,
                   reversed=can_reverse and await client.get(path, "reverse") is True)

    # RotatorHardware

    async def sync(self, angle: float) -> None:
        await self.put("sync", Position=angle)

    async def set_reverse(self, on: bool) -> None:
        await self.put("reverse", Reverse=on)
