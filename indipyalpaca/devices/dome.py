"""An Alpaca Dome as an INDI dome: the standard `Dome` role on Alpaca calls.

ABS_DOME_POSITION -> ``slewtoazimuth``, then ``slewing`` until False (Busy meanwhile, the
azimuth polled at POLLING_PERIOD, Ok at the end); DOME_ABORT_MOTION -> ``abortslew``;
DOME_SHUTTER -> ``openshutter``/``closeshutter``, then ``shutterstatus`` until Open (0) or
Closed (1) (Error, 4, is an Alert); DOME_PARK -> ``park``, then ``atpark`` until True (an
Alpaca dome has no unpark: UNPARK only lets the role move it again, as the next slew leaves
the park there); DOME_PARK_OPTION's PARK_CURRENT -> ``setpark``; DOME_AUTOSYNC ->
``slaved`` (only where ``canslave``). The capabilities come from ``cansetshutter``,
``canpark``, ``cansetpark`` and ``canslave``; the dome keeps its park azimuth itself (no
DOME_PARK_POSITION). A dome without ``cansetazimuth`` (a roll-off roof) is not taken yet.
Alpaca domes have no free turning: DOME_MOTION's CW/CCW are refused with Alert. A shutter or
park changed by another client is shown at POLLING_PERIOD.
"""

from __future__ import annotations

from typing import Any

from indipydriver.standard import Dome

from .client import AlpacaClient
from .part import TurningPart

__all__ = ["AlpacaDome"]

#: Alpaca ShutterState numbers.
OPEN, CLOSED, OPENING, CLOSING, ERROR = range(5)


class AlpacaDome(TurningPart):
    """`DomeHardware` for one Alpaca dome, and its INDI device."""

    START, TARGET, MOVING, ANGLE, STOP = "slewtoazimuth", "Azimuth", "slewing", "azimuth", \
        "abortslew"

    def __init__(self, client: AlpacaClient, number: int, name: str, **facts: Any) -> None:
        super().__init__(client, "dome", number, name)
        # Unparked by a client here while the Alpaca dome still says AtPark (it has no
        # unpark: it leaves the park with its next slew): AtPark is not taken back meanwhile.
        self.unparked = False
        self.role = Dome(self, park_azimuth=None, **facts)
        self.device = self.make_device(self.role)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaDome:
        path = f"dome/{number}"

        async def can(member: str) -> bool:
            return await client.get(path, member) is True

        if not await can("cansetazimuth"):
            raise ValueError(f"{path} cannot slew in azimuth (a roll-off roof?): not "
                             "supported yet")
        has_shutter, can_park = await can("cansetshutter"), await can("canpark")
        return cls(client, number, name, azimuth=float(await client.get(path, "azimuth")),
                   has_shutter=has_shutter,
                   shutter_open=has_shutter and await client.get(path, "shutterstatus") == OPEN,
                   can_park=can_park, parked=can_park and await can("atpark"),
                   can_set_park=await can("cansetpark"), can_slave=await can("canslave"))

    async def connected_now(self) -> None:
        """The role starts from where the Alpaca dome is: parked or not, shutter, slaved."""
        await self._show_park()
        await self._show_shutter()
        if self.role.autosync is not None:
            slaved = await self.get("slaved") is True
            self.role.autosync["DOME_AUTOSYNC_ENABLE" if slaved else "DOME_AUTOSYNC_DISABLE"] \
                = "On"

    async def _show_park(self) -> bool:
        """Take the Alpaca AtPark into the role; whether it changed."""
        park = self.role.park
        if park is None or park.state == "Busy":
            return False
        parked = await self.get("atpark") is True
        if not parked:
            self.unparked = False  # it has left the park: AtPark is the truth again
        if parked == self.role.parked or (parked and self.unparked):
            return False
        self.role.parked = parked
        park["PARK" if parked else "UNPARK"] = "On"
        park.state = "Ok"
        return True

    async def _show_shutter(self) -> bool:
        """Take the Alpaca ShutterStatus into the role (unless a shutter request of ours is
        under way); whether it changed."""
        shutter = self.role.shutter
        if shutter is None or self.role.shutter_moving:
            return False
        status = int(await self.get("shutterstatus"))
        state = {OPEN: "Ok", CLOSED: "Ok", OPENING: "Busy", CLOSING: "Busy"}.get(status, "Alert")
        member = "SHUTTER_OPEN" if status in (OPEN, OPENING) else "SHUTTER_CLOSE"
        if shutter.state == state and (state == "Alert" or shutter[member] == "On"):
            return False
        if state != "Alert":
            shutter[member] = "On"
        shutter.state = state
        return True

    async def refresh(self) -> None:
        if await self._show_park() and self.role.park is not None:
            await self.role.park.send_setVector()
        if await self._show_shutter() and self.role.shutter is not None:
            await self.role.shutter.send_setVector()

    # DomeHardware

    async def move(self, direction: int) -> None:
        if direction:
            raise NotImplementedError("an Alpaca dome has no free turning: slew it with "
                                      "ABS_DOME_POSITION")

    async def shutter(self, open: bool) -> None:
        await self.put("openshutter" if open else "closeshutter")

        async def done() -> bool:
            status = int(await self.get("shutterstatus"))
            if status == ERROR:
                raise RuntimeError("the dome reports a shutter error")
            return status == (OPEN if open else CLOSED)

        await self.wait_until(done, "the shutter")

    async def park(self, azimuth: float | None) -> None:
        self.unparked = False
        await self.put("park")
        await self.wait_for_value("atpark", True, "the park")

    async def unpark(self) -> None:
        """Alpaca domes have no unpark: the next slew leaves the park position (until then
        AtPark stays True, and is not taken back as parked)."""
        self.unparked = True

    async def set_park(self, azimuth: float) -> None:
        await self.put("setpark")

    async def set_slaved(self, on: bool) -> None:
        await self.put("slaved", Slaved=on)
