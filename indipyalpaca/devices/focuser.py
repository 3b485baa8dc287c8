"""An Alpaca Focuser as an INDI focuser: the standard `Focuser` role on Alpaca calls.

ABS_FOCUS_POSITION -> ``move`` then ``ismoving`` until False (Busy meanwhile, Ok at the end),
FOCUS_ABORT_MOTION -> ``halt``, FOCUS_MAX starts at ``maxstep``; a position changed elsewhere
is shown at POLLING_PERIOD. Only absolute focusers are taken: a relative one has no position.
"""

from __future__ import annotations

from indipydriver.standard import Focuser

from .client import AlpacaClient
from .part import AlpacaPart

__all__ = ["AlpacaFocuser"]


class AlpacaFocuser(AlpacaPart):
    """`FocuserHardware` for one Alpaca focuser, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str, *, max_step: int,
                 position: int) -> None:
        super().__init__(client, "focuser", number, name)
        self.moving = False
        self.role = Focuser(self, max_position=max_step, position=position, poll_interval=1.0)
        self.device = self.make_device(self.role)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaFocuser:
        path = f"focuser/{number}"
        if await client.get(path, "absolute") is not True:
            raise ValueError(f"{path} is a relative focuser: only absolute ones are supported")
        return cls(client, number, name, max_step=int(await client.get(path, "maxstep")),
                   position=int(await client.get(path, "position")))

    # FocuserHardware

    async def move_to(self, steps: int) -> None:
        self.moving = True
        try:
            await self.put("move", Position=steps)
            await self.wait_until(self._stopped, "the move")
        finally:
            self.moving = False

    async def _stopped(self) -> bool:
        return await self.get("ismoving") is False

    async def position(self) -> int:
        return int(await self.get("position"))

    async def abort(self) -> None:
        await self.put("halt")

    async def set_speed(self, speed: int) -> None:
        """Alpaca focusers have no speed (the role asks only when made with one)."""

    async def refresh(self) -> None:
        if self.moving:
            return
        vector = self.role.absolute
        before = vector["FOCUS_ABSOLUTE_POSITION"]
        vector["FOCUS_ABSOLUTE_POSITION"] = await self.position()
        if vector["FOCUS_ABSOLUTE_POSITION"] != before:
            await vector.send_setVector()
