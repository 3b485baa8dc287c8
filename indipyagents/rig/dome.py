"""`IndiDome`: the rig's `Dome` on a device's standard Dome properties, through
`indiset.command` and `indiset.park_switch` (so a refusal is `DeviceRefused` and silence
`DeviceLost`, as for every instrument of the rig).

Closing a dome is what the watchdog's shutdown does and the end of a night may do: DOME_PARK
where the dome has it (indilib's domes and roll-off roofs; whether parking also closes the
shutter is the dome's own DOME_SHUTTER_PARK_POLICY, as with indilib's ``indi_watchdog``), else
DOME_SHUTTER closed (a roof that only opens and shuts). Opening is the reverse: unparked where
it parks, then its shutter opened where it has one. indilib's dome simulator answers a
shutter's move Ok once the move is done (some seconds, even for a shutter already there),
and a park or unpark already done Ok at once.
"""

from __future__ import annotations

from typing import Any

from indipyclient import Client
from indipycore.protocol import State

from .indiset import DEFINITION_WAIT
from .indiset import command
from .indiset import park_switch
from .protocols import DeviceLost
from .protocols import DeviceRefused

__all__ = ["DOME_WAIT", "IndiDome"]

#: Seconds a dome's park, unpark or shutter move may take before the dome counts as lost.
DOME_WAIT = 180.0


class IndiDome:
    """The INDI dome (or roof) `device` on `client`'s server, as the rig's `Dome`; each move
    bounded by `timeout` seconds."""

    def __init__(self, client: Client, device: str, *, timeout: float = DOME_WAIT,
                 appear: float = DEFINITION_WAIT) -> None:
        self.client = client
        self.name = device
        self.timeout = timeout
        #: Seconds its DOME_PARK or DOME_SHUTTER is waited for (a dome just connected).
        self.appear = appear

    def _vector(self, name: str) -> Any:
        found = self.client.devices.vector(self.name, name)
        return found if found is not None and found.enable else None

    def can_park(self) -> bool:
        return self._vector("DOME_PARK") is not None

    def has_shutter(self) -> bool:
        return self._vector("DOME_SHUTTER") is not None

    def parked(self) -> bool:
        """Whether DOME_PARK says PARK (False for a dome that cannot park)."""
        park = self._vector("DOME_PARK")
        return park is not None and park["PARK"] == "On"

    def shutter_closed(self) -> bool | None:
        """Whether DOME_SHUTTER says SHUTTER_CLOSE (None for a dome without a shutter)."""
        shutter = self._vector("DOME_SHUTTER")
        return None if shutter is None else shutter["SHUTTER_CLOSE"] == "On"

    async def _defined(self) -> None:
        """Wait until the dome defines DOME_PARK or DOME_SHUTTER; `DeviceLost` otherwise."""
        if self.can_park() or self.has_shutter():
            return
        try:
            await self.client.waiters.until(
                lambda _event: self.can_park() or self.has_shutter(), self.appear)
        except TimeoutError:
            raise DeviceLost(self.name, "defines neither DOME_PARK nor DOME_SHUTTER (none "
                                        f"within {self.appear:g} s)") from None

    async def close(self) -> None:
        """Parked where it parks (DOME_PARK.PARK), else its shutter closed."""
        await self._defined()
        if self.can_park():
            await self.park()
        else:
            await self.close_shutter()

    async def open(self) -> None:
        """Unparked where it parks, then its shutter opened where it has one."""
        await self._defined()
        if self.can_park():
            await self.unpark()
        if self.has_shutter():
            await self.open_shutter()

    async def park(self) -> None:
        """DOME_PARK.PARK, done when parked; a park under way is waited for, not asked
        again (`indiset.park_switch`)."""
        await park_switch(self.client, self.name, "DOME_PARK", "PARK", timeout=self.timeout)

    async def unpark(self) -> None:
        await park_switch(self.client, self.name, "DOME_PARK", "UNPARK", timeout=self.timeout)

    async def open_shutter(self) -> None:
        await self._shutter("SHUTTER_OPEN")

    async def close_shutter(self) -> None:
        await self._shutter("SHUTTER_CLOSE")

    async def _shutter(self, member: str) -> None:
        """DOME_SHUTTER's `member` set, done when Ok (or Idle) with the switch on."""
        await command(self.client, self.name, "DOME_SHUTTER", {member: "On"},
                      timeout=self.timeout, accept=(State.OK, State.IDLE))
        shutter = self._vector("DOME_SHUTTER")
        if shutter is None:
            raise DeviceLost(self.name, "DOME_SHUTTER is no longer defined")
        if shutter[member] != "On":
            raise DeviceRefused(self.name, f"DOME_SHUTTER went {shutter.state.value} "
                                           f"without {member} on")

