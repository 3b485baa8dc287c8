"""An Alpaca Telescope as an INDI mount: the standard `Mount` role on Alpaca calls.

EQUATORIAL_EOD_COORD (ON_COORD_SET TRACK or SLEW) -> ``slewtocoordinatesasync``, then
``slewing`` until False (Busy meanwhile); SYNC -> ``synctocoordinates``;
TELESCOPE_ABORT_MOTION -> ``abortslew``; TELESCOPE_PARK -> ``park`` / ``unpark`` (``atpark``
until it is parked); TELESCOPE_TRACK_STATE -> ``tracking``; TELESCOPE_MOTION_* ->
``moveaxis`` (axis 0 west positive, axis 1 north positive). GEOGRAPHIC_COORD starts at the
Alpaca site (longitude 0..360 east). The Alpaca device keeps its own limits, so the role's
horizon check is off. Coordinates are taken as JNow: a mount that reports J2000
(EquatorialSystem 2) is logged, not converted. RA is wrapped into 0..24 h
(alpaca-simulators parks at RA 180).
"""

from __future__ import annotations

import logging

from indipydriver import Device
from indipydriver.standard import Mount
from indipydriver.standard import MountLimits
from indipydriver.standard.mount import MountStatus

from .client import AlpacaClient
from .part import DRIVER_EXEC
from .part import AlpacaPart

__all__ = ["AlpacaTelescope"]

logger = logging.getLogger(__name__)


class AlpacaTelescope(AlpacaPart):
    """`MountHardware` for one Alpaca telescope, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str, *, latitude: float,
                 longitude: float, elevation: float, can_sync: bool, can_park: bool,
                 parked: bool) -> None:
        super().__init__(client, "telescope", number, name)
        self.role = Mount(self, latitude=latitude, longitude=longitude, elevation=elevation,
                          limits=MountLimits(min_altitude=None), can_sync=can_sync,
                          can_park=can_park, parked=parked)
        self.device = Device(name, roles=[self.role], connect=self.connect,
                             disconnect=self.disconnect, driver_exec=DRIVER_EXEC)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaTelescope:
        path = f"telescope/{number}"
        if await client.get(path, "canslewasync") is not True:
            raise ValueError(f"{path} cannot slew asynchronously: not supported")
        system = await client.get(path, "equatorialsystem")
        if system == 2:
            logger.warning("%s reports J2000 coordinates: they are shown as JNow, unconverted",
                           path)
        can_park = await client.get(path, "canpark") is True
        return cls(client, number, name,
                   latitude=float(await client.get(path, "sitelatitude")),
                   longitude=float(await client.get(path, "sitelongitude")),
                   elevation=float(await client.get(path, "siteelevation")),
                   can_sync=await client.get(path, "cansync") is True, can_park=can_park,
                   parked=can_park and await client.get(path, "atpark") is True)

    async def connected_now(self) -> None:
        """The role starts from where the Alpaca mount is: parked or not, tracking or not."""
        parked = self.role.can_park and await self.get("atpark") is True
        tracking = await self.get("tracking") is True
        self.role.track_state["TRACK_ON" if tracking else "TRACK_OFF"] = "On"
        if parked:
            self.role.status = MountStatus.PARKED
            self.role.park["PARK"] = "On"
            self.role.park.state = "Ok"
        else:
            self.role.status = MountStatus.TRACKING if tracking else MountStatus.IDLE
            self.role.park["UNPARK"] = "On"
            self.role.park.state = "Idle"

    # MountHardware

    async def goto(self, ra: float, dec: float) -> None:
        await self.put("slewtocoordinatesasync", RightAscension=ra, Declination=dec)
        await self.wait_until(self._still, "the slew")

    async def _still(self) -> bool:
        return await self.get("slewing") is False

    async def position(self) -> tuple[float, float]:
        ra = float(await self.get("rightascension")) % 24.0
        return ra, float(await self.get("declination"))

    async def abort(self) -> None:
        await self.put("abortslew")

    async def sync(self, ra: float, dec: float) -> None:
        await self.put("synctocoordinates", RightAscension=ra, Declination=dec)

    async def park(self, hour_angle: float, dec: float) -> None:
        """The Alpaca mount parks where it keeps its park position (the role's is unused)."""
        await self.put("park")
        await self.wait_until(self._parked, "the park")

    async def _parked(self) -> bool:
        return await self.get("atpark") is True

    async def unpark(self) -> None:
        await self.put("unpark")

    async def set_tracking(self, on: bool) -> None:
        await self.put("tracking", Tracking=on)

    async def move(self, north_south: int, west_east: int, rate: float) -> None:
        await self.put("moveaxis", Axis=0, Rate=west_east * rate)
        await self.put("moveaxis", Axis=1, Rate=north_south * rate)
