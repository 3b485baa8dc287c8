"""An Alpaca Telescope as an INDI mount: the standard `Mount` role on Alpaca calls.

EQUATORIAL_EOD_COORD (ON_COORD_SET TRACK or SLEW) -> ``slewtocoordinatesasync``, then
``slewing`` until False (Busy meanwhile); SYNC -> ``synctocoordinates``;
TELESCOPE_ABORT_MOTION -> ``abortslew``; TELESCOPE_PARK -> ``park`` / ``unpark`` (``atpark``
until it is parked); TELESCOPE_TRACK_STATE -> ``tracking``; TELESCOPE_MOTION_* ->
``moveaxis`` (axis 0 west positive, axis 1 north positive). GEOGRAPHIC_COORD starts at the
Alpaca site (longitude 0..360 east). The Alpaca device keeps its own limits, so the role's
horizon check is off. EQUATORIAL_EOD_COORD is JNow: a mount that reports J2000
(EquatorialSystem 2) has its coordinates precessed both ways (``astro``); Other (0), as
alpaca-simulators says, is taken as JNow. RA is wrapped into 0..24 h (alpaca-simulators parks
at RA 180). A client's GEOGRAPHIC_COORD is sent to the Alpaca site (longitude -180..180) and
shown once the mount took it; an Alpaca refusal is Alert with its message. TIME_UTC starts
at the mount's UTCDate on connect (INDI's text has no ``Z``) and a client's TIME_UTC is sent
to UTCDate first (OFFSET stays INDI's: Alpaca's date is UTC). A mount that can PulseGuide
has TELESCOPE_TIMED_GUIDE_NS/_WE in Motion Control and the GUIDER bit (guide.py).
"""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime
from typing import Any

from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.protocol.timestamps import parse_timestamp
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newNumberVector
from indipydriver.rxevents import newTextVector
from indipydriver.standard import Mount
from indipydriver.standard import MountLimits
from indipydriver.standard.groups import MOTION_TAB
from indipydriver.standard.mount import MountStatus
from indipydriver.standard.role import Role

from .client import AlpacaClient
from .client import AlpacaError
from .guide import Started
from .guide import TimedGuide
from .guide import alpaca_pulse
from .part import AlpacaPart

__all__ = ["AlpacaTelescope"]

logger = logging.getLogger(__name__)

#: Alpaca EquatorialSystem 2: the mount works in J2000 coordinates.
J2000 = 2


def indi_utc(alpaca_date: str) -> str:
    """An Alpaca UTCDate (ISO 8601, ``Z`` or ``+00:00``) as TIME_UTC's UTC text
    (``YYYY-MM-DDTHH:MM:SS``); ValueError for anything else."""
    text = alpaca_date.strip()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return parse_timestamp(text).strftime("%Y-%m-%dT%H:%M:%S")


def alpaca_utc(indi_text: str) -> str:
    """TIME_UTC's UTC text as an Alpaca UTCDate (milliseconds, ``Z``); ValueError if it is
    no date."""
    when = parse_timestamp(indi_text)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class AlpacaMount(Mount):
    """The Mount role, with a client's GEOGRAPHIC_COORD sent to the Alpaca mount first."""

    def __init__(self, telescope: AlpacaTelescope, **options: Any) -> None:
        super().__init__(telescope, **options)
        self.telescope = telescope

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if event.vectorname == "GEOGRAPHIC_COORD" and isinstance(event, newNumberVector):
            try:
                await self.telescope.set_site(event)
            except Exception as exc:  # noqa: BLE001  # the Alpaca mount refused: say why
                await self.site.send_setVector(state="Alert",
                                               message=f"Site refused: {exc}"[:250])
                return
        if event.vectorname == "TIME_UTC" and isinstance(event, newTextVector) \
                and "UTC" in event:
            try:
                await self.telescope.put("utcdate", UTCDate=alpaca_utc(event["UTC"]))
            except Exception as exc:  # noqa: BLE001  # not a date, or the mount refused
                await self.time_utc.send_setVector(state="Alert",
                                                   message=f"UTC refused: {exc}"[:250])
                return
        await super().new_vector(event)


class AlpacaTelescope(AlpacaPart):
    """`MountHardware` for one Alpaca telescope, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str, *, latitude: float,
                 longitude: float, elevation: float, can_sync: bool, can_park: bool,
                 parked: bool, j2000: bool = False, guided: bool = False) -> None:
        super().__init__(client, "telescope", number, name)
        self.j2000 = j2000
        self.role = AlpacaMount(self, latitude=latitude, longitude=longitude, elevation=elevation,
                          limits=MountLimits(min_altitude=None), can_sync=can_sync,
                          can_park=can_park, parked=parked)
        guide: list[Role] = [TimedGuide(self.pulse, MOTION_TAB)] if guided else []
        self.device = self.make_device(self.role, *guide)

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str) -> AlpacaTelescope:
        path = f"telescope/{number}"
        if await client.get(path, "canslewasync") is not True:
            raise ValueError(f"{path} cannot slew asynchronously: not supported")
        j2000 = await client.get(path, "equatorialsystem") == J2000
        can_park = await client.get(path, "canpark") is True
        return cls(client, number, name,
                   latitude=float(await client.get(path, "sitelatitude")),
                   longitude=float(await client.get(path, "sitelongitude")),
                   elevation=float(await client.get(path, "siteelevation")),
                   can_sync=await client.get(path, "cansync") is True, can_park=can_park,
                   parked=can_park and await client.get(path, "atpark") is True, j2000=j2000,
                   guided=await client.get(path, "canpulseguide") is True)

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
        try:
            self.role.time_utc["UTC"] = indi_utc(str(await self.get("utcdate")))
        except (AlpacaError, ValueError) as exc:  # the mount's clock is not known: INDI's stays
            self.logger.warning("UTCDate not read: %s", exc)

    async def pulse(self, direction: str, ms: int, started: Started) -> None:
        """A guide pulse (`TimedGuide`'s hook)."""
        await alpaca_pulse(self.client, self.path, direction, ms, started)

    # MountHardware

    def _to_mount(self, ra: float, dec: float) -> tuple[float, float]:
        """JNow (INDI) to the mount's equatorial system."""
        return precess_to_j2000(ra, dec, datetime.now(UTC)) if self.j2000 else (ra, dec)

    async def set_site(self, event: newNumberVector) -> None:
        """A client's new site, sent to the Alpaca mount (members left out keep theirs)."""
        if "LAT" in event:
            await self.put("sitelatitude", SiteLatitude=event.getfloatvalue("LAT"))
        if "LONG" in event:
            east = event.getfloatvalue("LONG") % 360
            await self.put("sitelongitude", SiteLongitude=east - 360 if east > 180 else east)
        if "ELEV" in event:
            await self.put("siteelevation", SiteElevation=event.getfloatvalue("ELEV"))

    async def goto(self, ra: float, dec: float) -> None:
        ra, dec = self._to_mount(ra, dec)
        await self.put("slewtocoordinatesasync", RightAscension=ra, Declination=dec)
        await self.wait_until(self._still, "the slew")

    async def _still(self) -> bool:
        return await self.get("slewing") is False

    async def position(self) -> tuple[float, float]:
        ra = float(await self.get("rightascension")) % 24.0
        dec = float(await self.get("declination"))
        if self.j2000:
            ra, dec = precess_from_j2000(ra, dec, datetime.now(UTC))
        return ra % 24.0, dec

    async def abort(self) -> None:
        await self.put("abortslew")

    async def sync(self, ra: float, dec: float) -> None:
        ra, dec = self._to_mount(ra, dec)
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
