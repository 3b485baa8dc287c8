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

Whether a dome is open is `closed_reason`, pure: open only when it says so (unparked and not
moving, its shutter open and not moving); a dome that says neither is closed. `IndiGuardedDomes`
finds, read-only, the domes a watchdog on the server guards (ours and indilib's
``indi_watchdog`` name theirs in ACTIVE_DEVICES.ACTIVE_DOME), so a night that names no dome
still never images through one the watchdog closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indipyclient import Client
from indipycore.protocol import State

from .indiset import DEFINITION_WAIT
from .indiset import command
from .indiset import defined
from .indiset import park_switch
from .protocols import DeviceLost
from .protocols import DeviceRefused

__all__ = ["DOME_WAIT", "DomeReading", "IndiDome", "IndiGuardedDomes", "closed_reason"]

#: Seconds a dome's park, unpark or shutter move may take before the dome counts as lost.
DOME_WAIT = 180.0


@dataclass(frozen=True, slots=True)
class DomeReading:
    """A switch vector as last seen: its state and the member that is On ("" none)."""

    state: State
    on: str


def closed_reason(park: DomeReading | None, shutter: DomeReading | None) -> str | None:
    """Why a dome whose DOME_PARK is `park` and DOME_SHUTTER `shutter` (None: it has none)
    is closed to the sky, None when open. A move under way (Busy) is not open yet, and a
    dome with neither vector does not say: closed (safety fails closed)."""
    if park is None and shutter is None:
        return "it says neither DOME_PARK nor DOME_SHUTTER (is it connected?)"
    why = []
    if park is not None:
        if park.state is State.BUSY:
            why.append("parking" if park.on == "PARK" else "its park moving")
        elif park.on != "UNPARK":
            why.append("parked" if park.on == "PARK" else "neither parked nor unparked")
    if shutter is not None:
        if shutter.state is State.BUSY:
            why.append("its shutter moving")
        elif shutter.on != "SHUTTER_OPEN":
            why.append("its shutter closed" if shutter.on == "SHUTTER_CLOSE"
                       else "its shutter neither open nor closed")
    return ", ".join(why) or None


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
        self._absent: set[str] = set()  # DOME_PARK or DOME_SHUTTER waited for in vain

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

    def left_open(self) -> bool:
        """Whether the dome says, settled (not Busy), that it is not closed the way `close`
        closes it: DOME_PARK not PARK where it parks, else DOME_SHUTTER not SHUTTER_CLOSE.
        One the watchdog closes again while unsafe; False for a dome closed, moving, or
        that says neither (it cannot say)."""
        vector, member = "DOME_PARK", "PARK"
        found = self._vector(vector)
        if found is None:  # a roof: its shutter open is unparked
            vector, member = "DOME_SHUTTER", "SHUTTER_CLOSE"
            found = self._vector(vector)
        return found is not None and found.state != State.BUSY and found[member] != "On"

    def closed(self) -> str | None:
        """Why it is closed to the sky now (`closed_reason`), None when open."""
        return closed_reason(self._seen("DOME_PARK"), self._seen("DOME_SHUTTER"))

    def _seen(self, name: str) -> DomeReading | None:
        vector = self._vector(name)
        if vector is None:
            return None
        on = [member for member in vector if vector[member] == "On"]
        return DomeReading(vector.state, on[0] if len(on) == 1 else "")

    async def ready(self) -> None:
        """Wait until it defines DOME_PARK or DOME_SHUTTER: `DeviceRefused` (not a dome)
        when it does not within `appear` seconds."""
        try:
            await self._defined()
        except DeviceLost as lost:
            raise DeviceRefused(self.name, f"is not a dome: {lost.reason}") from None

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

    async def _both(self) -> None:
        """The other of DOME_PARK and DOME_SHUTTER waited for while it may be on its way
        (`OPTIONAL_WAIT`; one it lacks, once), before an opening: indilib's dome defines
        DOME_PARK well after DOME_SHUTTER, and a parked dome taken for one that cannot park
        would have its shutter opened and stay parked. Not before a closing: the watchdog's
        closes at once with what the dome has."""
        for name in ("DOME_PARK", "DOME_SHUTTER"):
            if (self._vector(name) is None and name not in self._absent
                    and not await defined(self.client, self.name, name)):
                self._absent.add(name)

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
        await self._both()
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



class IndiGuardedDomes:
    """The domes a watchdog on `client`'s server guards: each device that has WATCHDOG_SHUTDOWN
    (ours and indilib's ``indi_watchdog``) names its dome in ACTIVE_DEVICES.ACTIVE_DOME; a name
    the server does not hold is no dome (indilib's default names "Dome Simulator" everywhere).
    Read from the client's copy at each call: a watchdog set up mid-night counts at once."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def domes(self) -> list[IndiDome]:
        devices = self.client.devices
        found: list[IndiDome] = []
        for device in list(self.client):
            active = devices.vector(device, "ACTIVE_DEVICES")
            shutdown = devices.vector(device, "WATCHDOG_SHUTDOWN")
            if active is None or shutdown is None or "ACTIVE_DOME" not in active:
                continue
            name = str(active["ACTIVE_DOME"]).strip()
            if name and name in self.client and name not in (d.name for d in found):
                found.append(IndiDome(self.client, name))
        return found
