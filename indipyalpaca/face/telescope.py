"""Telescope (ITelescopeV4) on INDI's mount properties.

Coordinates are EQUATORIAL_EOD_COORD (JNow, so EquatorialSystem is 1, topocentric); a slew
sets ON_COORD_SET (TRACK when tracking, else SLEW) and then the coordinates, a sync SYNC and
back; Slewing is the coordinates Busy, a motion switch on or parking. The target is held here
(INDI's TARGET_EOD_COORD is the driver's own). Longitude is 0..360 east in INDI and
-180..180 in Alpaca. What INDI's base class has no property for -- refraction, settle time, finding home, a destination side of pier, setting the
side of pier or custom RA/Dec rates -- is not implemented (0x400), and the Can* say so.
MoveAxis moves at the TELESCOPE_SLEW_RATE speeds whose labels state a multiple of sidereal
(``slewrates``), where the mount has them.
"""

from __future__ import annotations

import math
import re
from datetime import UTC
from datetime import datetime
from typing import Any

from indipyalpaca.wire.devicetypes import DeviceType
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipyalpaca.wire.requests import Params
from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import altitude
from indipycore.astro import azimuth
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.protocol import State

from .common import AlpacaDevice
from .common import Offered
from .common import Press
from .common import Switch
from .common import table
from .slewrates import member_for
from .slewrates import stated_rates

EOD = "EQUATORIAL_EOD_COORD"
# MoveAxis's axes: the motion vector, the member of a positive rate, of a negative one.
MOTION = (("TELESCOPE_MOTION_WE", "MOTION_WEST", "MOTION_EAST"),
          ("TELESCOPE_MOTION_NS", "MOTION_NORTH", "MOTION_SOUTH"))
# Alpaca's DriveRates by INDI's TELESCOPE_TRACK_MODE member.
DRIVE_RATES = {"TRACK_SIDEREAL": 0, "TRACK_LUNAR": 1, "TRACK_SOLAR": 2}
_UTC = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z")
# The site members a client sets: Alpaca name -> (GEOGRAPHIC_COORD member, low, high).
SITE = {"SiteLatitude": ("LAT", -90.0, 90.0), "SiteLongitude": ("LONG", -180.0, 180.0),
        "SiteElevation": ("ELEV", -300.0, 10000.0)}
# A synchronous slew waits at most this long for Slewing to end.
SLEW_LIMIT = 600.0

MEMBERS = frozenset({
    "abortslew", "alignmentmode", "altitude", "aperturearea", "aperturediameter", "athome",
    "atpark", "axisrates", "azimuth", "canfindhome", "canmoveaxis", "canpark",
    "canpulseguide", "cansetdeclinationrate", "cansetguiderates", "cansetpark",
    "cansetpierside", "cansetrightascensionrate", "cansettracking", "canslew",
    "canslewaltaz", "canslewaltazasync", "canslewasync", "cansync", "cansyncaltaz",
    "canunpark", "declination", "declinationrate", "destinationsideofpier", "doesrefraction",
    "equatorialsystem", "findhome", "focallength", "guideratedeclination",
    "guideraterightascension", "ispulseguiding", "moveaxis", "park", "pulseguide",
    "rightascension", "rightascensionrate", "setpark", "sideofpier", "siderealtime",
    "siteelevation", "sitelatitude", "sitelongitude", "slewing", "slewsettletime",
    "slewtoaltaz", "slewtoaltazasync", "slewtocoordinates", "slewtocoordinatesasync",
    "slewtotarget", "slewtotargetasync", "synctoaltaz", "synctocoordinates", "synctotarget",
    "targetdeclination", "targetrightascension", "tracking", "trackingrate", "trackingrates",
    "unpark", "utcdate",
})


class Telescope(AlpacaDevice):
    device_type = DeviceType.TELESCOPE
    MEMBERS = MEMBERS
    STATE = ("Altitude", "AtHome", "AtPark", "Azimuth", "Declination", "IsPulseGuiding",
             "RightAscension", "SideOfPier", "SiderealTime", "Slewing", "Tracking", "UTCDate")
    TABLE = table(Tracking=Switch("TELESCOPE_TRACK_STATE", "TRACK_ON"),
                  CanSetPark=Offered("TELESCOPE_PARK_OPTION", "PARK_CURRENT"),
                  SetPark=Press("TELESCOPE_PARK_OPTION", "PARK_CURRENT"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target_ra: float | None = None
        self.target_dec: float | None = None

    # -- helpers -----------------------------------------------------------------------

    def _coord(self, member: str) -> float:
        value = self.indi.number(self.name, EOD, member)
        if value is None:
            raise AlpacaError.not_implemented(f"{member} (no {EOD})")
        return value

    def _rw(self, vector: str) -> bool:
        found = self.indi.vector(self.name, vector)
        return found is not None and found.perm != "ro"

    def _parked(self) -> bool:
        park = self.indi.vector(self.name, "TELESCOPE_PARK")
        return park is not None and str(park.get("PARK")) == "On" and park.state != State.BUSY

    def _not_parked(self, what: str) -> None:
        if self._parked():
            raise AlpacaError(ErrorNumber.INVALID_WHILE_PARKED, f"{what}: the mount is parked")

    def _site(self) -> tuple[float, float]:
        lat = self.indi.number(self.name, "GEOGRAPHIC_COORD", "LAT")
        lon = self.indi.number(self.name, "GEOGRAPHIC_COORD", "LONG")
        if lat is None or lon is None:
            raise AlpacaError.not_implemented("the site (no GEOGRAPHIC_COORD)")
        return lat, lon

    def _lst(self) -> float:
        return local_sidereal_time(datetime.now(UTC), self._site()[1])

    @staticmethod
    def _check_radec(ra: float, dec: float) -> None:
        if not 0.0 <= ra <= 24.0:
            raise AlpacaError.invalid_value(f"RightAscension {ra} is outside 0..24 hours")
        if not -90.0 <= dec <= 90.0:
            raise AlpacaError.invalid_value(f"Declination {dec} is outside -90..90 degrees")

    async def _goto(self, ra: float, dec: float, mode: str) -> None:
        """ON_COORD_SET then the coordinates, in this order on the one INDI connection."""
        self.indi.require(self.name, EOD, "slewing")
        if self.indi.vector(self.name, "ON_COORD_SET") is not None:
            await self.indi.send(self.name, "ON_COORD_SET", {mode: "On"})
        await self.indi.send(self.name, EOD, {"RA": ra % 24.0, "DEC": dec})

    async def _wait_slewed(self) -> None:
        """Until Slewing is False (the mount's events watched), at most SLEW_LIMIT."""
        if not await self.indi.wait_until(self.name, lambda: not self.slewing(), SLEW_LIMIT):
            raise AlpacaError(ErrorNumber.UNSPECIFIED, "the slew did not end in time")
        self.check_not_alert(EOD)

    # -- position ----------------------------------------------------------------------

    async def get_rightascension(self, params: Params) -> float:
        return self._coord("RA") % 24.0

    async def get_declination(self, params: Params) -> float:
        return self._coord("DEC")

    async def get_equatorialsystem(self, params: Params) -> int:
        return 1  # EQUATORIAL_EOD_COORD is JNow: topocentric

    async def _altaz(self) -> tuple[float, float]:
        alt = self.indi.number(self.name, "HORIZONTAL_COORD", "ALT")
        az = self.indi.number(self.name, "HORIZONTAL_COORD", "AZ")
        if alt is not None and az is not None:
            return alt, az
        latitude = self._site()[0]
        ha, dec = hour_angle(self._lst(), self._coord("RA")), self._coord("DEC")
        return altitude(ha, dec, latitude), azimuth(ha, dec, latitude)

    async def get_altitude(self, params: Params) -> float:
        return (await self._altaz())[0]

    async def get_azimuth(self, params: Params) -> float:
        return (await self._altaz())[1]

    async def get_siderealtime(self, params: Params) -> float:
        return self._lst()

    async def get_slewing(self, params: Params) -> bool:
        return self.slewing()

    def slewing(self) -> bool:
        """The coordinates Busy, a motion switch On or the mount parking."""
        eod = self.indi.vector(self.name, EOD)
        if eod is not None and eod.state == State.BUSY:
            return True
        for motion in ("TELESCOPE_MOTION_NS", "TELESCOPE_MOTION_WE"):
            vector = self.indi.vector(self.name, motion)
            if vector is not None and any(str(vector[m]) == "On" for m in vector):
                return True
        park = self.indi.vector(self.name, "TELESCOPE_PARK")
        return park is not None and park.state == State.BUSY

    async def get_sideofpier(self, params: Params) -> int:
        vector = self.indi.require(self.name, "TELESCOPE_PIER_SIDE", "SideOfPier")
        if str(vector.get("PIER_EAST")) == "On":
            return 0
        if str(vector.get("PIER_WEST")) == "On":
            return 1
        return -1

    # -- capabilities ------------------------------------------------------------------

    async def get_canslew(self, params: Params) -> bool:
        return self._rw(EOD)

    get_canslewasync = get_canslew

    async def get_cansync(self, params: Params) -> bool:
        return self.can_sync()

    def can_sync(self) -> bool:
        """EQUATORIAL_EOD_COORD writable and ON_COORD_SET with SYNC."""
        on_set = self.indi.vector(self.name, "ON_COORD_SET")
        return self._rw(EOD) and on_set is not None and "SYNC" in on_set

    async def get_canpark(self, params: Params) -> bool:
        return self._rw("TELESCOPE_PARK")

    get_canunpark = get_canpark

    async def get_cansettracking(self, params: Params) -> bool:
        return self._rw("TELESCOPE_TRACK_STATE")

    async def get_canpulseguide(self, params: Params) -> bool:
        return self.can_pulse_guide()

    def can_pulse_guide(self) -> bool:
        """Both timed-guide vectors writable."""
        return self._rw("TELESCOPE_TIMED_GUIDE_NS") and self._rw("TELESCOPE_TIMED_GUIDE_WE")

    async def get_cansetguiderates(self, params: Params) -> bool:
        return self._rw("GUIDE_RATE")

    async def _false(self, params: Params) -> bool:
        return False

    get_canfindhome = get_cansetpierside = get_canslewaltaz = get_canslewaltazasync = _false
    get_cansyncaltaz = get_cansetdeclinationrate = get_cansetrightascensionrate = _false
    get_athome = _false

    # -- moving an axis at a rate (MoveAxis) --------------------------------------------

    def _axis_rates(self, axis: int) -> dict[str, float]:
        """Member -> degrees per second of TELESCOPE_SLEW_RATE for `axis` (0 RA, 1 Dec; none
        for the third or a mount without motion or stated speeds: ``slewrates``)."""
        rate = self.indi.vector(self.name, "TELESCOPE_SLEW_RATE")
        if axis > 1 or rate is None or not self._rw(MOTION[axis][0]):
            return {}
        return stated_rates({m: str(rate.member(m).label or "") for m in rate})

    async def get_canmoveaxis(self, params: Params) -> bool:
        return bool(self._axis_rates(params.as_int("Axis", 0, 2)))

    async def get_axisrates(self, params: Params) -> list[dict[str, float]]:
        rates = self._axis_rates(params.as_int("Axis", 0, 2))
        return [{"Minimum": r, "Maximum": r} for r in sorted(set(rates.values()))]

    async def put_moveaxis(self, params: Params) -> None:
        """A positive rate moves RA west (TELESCOPE_MOTION_WE.MOTION_WEST) or Dec north; 0
        stops that axis; the speed is the TELESCOPE_SLEW_RATE whose label states it."""
        axis = params.as_int("Axis", 0, 2)
        wanted = params.as_float("Rate")
        rates = self._axis_rates(axis)
        if not rates:
            raise AlpacaError.not_implemented(
                f"MoveAxis on axis {axis} (no TELESCOPE_MOTION_* with speeds stated in "
                "TELESCOPE_SLEW_RATE's labels)")
        vector, forward, backward = MOTION[axis]
        if wanted == 0:
            await self.indi.send_and_see(self.name, vector, {forward: "Off", backward: "Off"})
            return
        self._not_parked("MoveAxis")
        member = member_for(rates, abs(wanted))
        if member is None:
            raise AlpacaError.invalid_value(
                f"Rate {wanted} is not one of the mount's speeds (AxisRates: "
                f"{', '.join(f'{r:.6g}' for r in sorted(set(rates.values())))} degrees/s)")
        await self.indi.send_and_see(self.name, "TELESCOPE_SLEW_RATE", {member: "On"})
        await self.indi.send_and_see(self.name, vector, {
            forward: "On" if wanted > 0 else "Off", backward: "Off" if wanted > 0 else "On"})

    async def get_declinationrate(self, params: Params) -> float:
        return 0.0  # not settable: the offset from the tracking rate is none

    get_rightascensionrate = get_declinationrate

    # -- slewing and syncing -----------------------------------------------------------

    async def _slew(self, what: str, ra: float, dec: float) -> None:
        """Start a slew (`what` is the Alpaca member, for the parked error): tracking there
        unless tracking is off."""
        self._not_parked(what)
        tracking = self.indi.switch_on(self.name, "TELESCOPE_TRACK_STATE", "TRACK_ON")
        await self._goto(ra, dec, "SLEW" if tracking is False else "TRACK")

    async def _slew_to_coordinates(self, what: str, params: Params) -> None:
        """The request's RightAscension and Declination checked, made the target (unless
        the mount is parked), and slewed to."""
        ra, dec = params.as_float("RightAscension"), params.as_float("Declination")
        self._check_radec(ra, dec)
        self._not_parked(what)
        self.target_ra, self.target_dec = ra, dec
        await self._slew(what, ra, dec)

    async def put_slewtocoordinatesasync(self, params: Params) -> None:
        await self._slew_to_coordinates("SlewToCoordinatesAsync", params)

    async def put_slewtocoordinates(self, params: Params) -> None:
        await self._slew_to_coordinates("SlewToCoordinates", params)
        await self._wait_slewed()

    def _target(self) -> tuple[float, float]:
        if self.target_ra is None or self.target_dec is None:
            raise AlpacaError(ErrorNumber.VALUE_NOT_SET, "the target has not been set")
        return self.target_ra, self.target_dec

    async def put_slewtotargetasync(self, params: Params) -> None:
        await self._slew("SlewToTargetAsync", *self._target())

    async def put_slewtotarget(self, params: Params) -> None:
        await self._slew("SlewToTarget", *self._target())
        await self._wait_slewed()

    async def _sync(self, ra: float, dec: float) -> None:
        self._not_parked("Sync")
        if not self.can_sync():
            raise AlpacaError.not_implemented("Sync (no ON_COORD_SET.SYNC)")
        await self.indi.send(self.name, "ON_COORD_SET", {"SYNC": "On"})
        try:
            await self.indi.send_and_see(self.name, EOD, {"RA": ra % 24.0, "DEC": dec})
        finally:
            await self.indi.send(self.name, "ON_COORD_SET", {"TRACK": "On"})

    async def put_synctocoordinates(self, params: Params) -> None:
        ra, dec = params.as_float("RightAscension"), params.as_float("Declination")
        self._check_radec(ra, dec)
        self.target_ra, self.target_dec = ra, dec
        await self._sync(ra, dec)

    async def put_synctotarget(self, params: Params) -> None:
        await self._sync(*self._target())

    async def get_targetrightascension(self, params: Params) -> float:
        return self._target()[0]

    async def get_targetdeclination(self, params: Params) -> float:
        return self._target()[1]

    async def put_targetrightascension(self, params: Params) -> None:
        ra = params.as_float("TargetRightAscension")
        self._check_radec(ra, 0.0)
        self.target_ra = ra

    async def put_targetdeclination(self, params: Params) -> None:
        dec = params.as_float("TargetDeclination")
        self._check_radec(0.0, dec)
        self.target_dec = dec

    async def put_abortslew(self, params: Params) -> None:
        self._not_parked("AbortSlew")
        self.indi.require(self.name, "TELESCOPE_ABORT_MOTION", "AbortSlew")
        await self.indi.send(self.name, "TELESCOPE_ABORT_MOTION", {"ABORT": "On"})

    # -- parking and tracking ----------------------------------------------------------

    async def get_atpark(self, params: Params) -> bool:
        return self._parked()

    async def put_park(self, params: Params) -> None:
        if self._parked():
            return
        self.indi.require(self.name, "TELESCOPE_PARK", "Park")
        await self.indi.send(self.name, "TELESCOPE_PARK", {"PARK": "On"})

    async def put_unpark(self, params: Params) -> None:
        park = self.indi.require(self.name, "TELESCOPE_PARK", "Unpark")
        if str(park.get("UNPARK")) == "On" and park.state != State.BUSY:
            return
        await self.indi.send_and_see(self.name, "TELESCOPE_PARK", {"UNPARK": "On"})

    async def put_tracking(self, params: Params) -> None:
        wanted = params.as_bool("Tracking")
        if not self._rw("TELESCOPE_TRACK_STATE"):
            raise AlpacaError.not_implemented("setting Tracking")
        if wanted:
            self._not_parked("Tracking")
        member = "TRACK_ON" if wanted else "TRACK_OFF"
        await self.indi.send_and_see(self.name, "TELESCOPE_TRACK_STATE", {member: "On"})

    async def get_trackingrates(self, params: Params) -> list[int]:
        mode = self.indi.vector(self.name, "TELESCOPE_TRACK_MODE")
        if mode is None:
            return [0]  # a mount without modes tracks at the sidereal rate
        return sorted(DRIVE_RATES[m] for m in mode if m in DRIVE_RATES)

    async def get_trackingrate(self, params: Params) -> int:
        mode = self.indi.vector(self.name, "TELESCOPE_TRACK_MODE")
        if mode is None:
            return 0
        for member, rate in DRIVE_RATES.items():
            if member in mode and str(mode[member]) == "On":
                return rate
        raise AlpacaError(ErrorNumber.INVALID_OPERATION,
                          "the mount tracks at a custom rate, which Alpaca cannot name")

    async def put_trackingrate(self, params: Params) -> None:
        rate = params.as_int("TrackingRate")
        mode = self.indi.vector(self.name, "TELESCOPE_TRACK_MODE")
        members = {r: m for m, r in DRIVE_RATES.items() if mode is not None and m in mode}
        if mode is None and rate == 0:
            return
        if rate not in members:
            raise AlpacaError.invalid_value(f"TrackingRate {rate} is not one of "
                                            f"{sorted(members) or [0]}")
        await self.indi.send_and_see(self.name, "TELESCOPE_TRACK_MODE", {members[rate]: "On"})

    # -- guiding -----------------------------------------------------------------------

    async def put_pulseguide(self, params: Params) -> None:
        direction = params.as_int("Direction")
        duration = params.as_int("Duration")
        if not self.can_pulse_guide():
            raise AlpacaError.not_implemented("PulseGuide (no TELESCOPE_TIMED_GUIDE_*)")
        if direction not in (0, 1, 2, 3):
            raise AlpacaError.invalid_value(f"Direction {direction} is not 0..3")
        if duration < 0:
            raise AlpacaError.invalid_value(f"Duration {duration} ms is negative")
        self._not_parked("PulseGuide")
        await self.timed_guide(direction, duration)

    async def get_ispulseguiding(self, params: Params) -> bool:
        if not self.can_pulse_guide():
            raise AlpacaError.not_implemented("IsPulseGuiding (CanPulseGuide is False)")
        return self.timed_guiding()

    async def _guide_rate(self, member: str) -> float:
        value = self.indi.number(self.name, "GUIDE_RATE", member)
        if value is None:
            raise AlpacaError.not_implemented("guide rates (no GUIDE_RATE)")
        return value * SIDEREAL_DEG_PER_S

    async def get_guideratedeclination(self, params: Params) -> float:
        return await self._guide_rate("GUIDE_RATE_NS")

    async def get_guideraterightascension(self, params: Params) -> float:
        return await self._guide_rate("GUIDE_RATE_WE")

    async def _set_guide_rate(self, member: str, degrees: float) -> None:
        if not self._rw("GUIDE_RATE"):
            raise AlpacaError.not_implemented("setting guide rates")
        if degrees < 0:
            raise AlpacaError.invalid_value(f"guide rate {degrees} is negative")
        await self.indi.send_and_see(self.name, "GUIDE_RATE",
                                     {member: degrees / SIDEREAL_DEG_PER_S})

    async def put_guideratedeclination(self, params: Params) -> None:
        await self._set_guide_rate("GUIDE_RATE_NS", params.as_float("GuideRateDeclination"))

    async def put_guideraterightascension(self, params: Params) -> None:
        await self._set_guide_rate("GUIDE_RATE_WE",
                                   params.as_float("GuideRateRightAscension"))

    # -- site and time -----------------------------------------------------------------

    async def get_sitelatitude(self, params: Params) -> float:
        return self._site()[0]

    async def get_sitelongitude(self, params: Params) -> float:
        longitude = self._site()[1] % 360.0
        return longitude - 360.0 if longitude > 180.0 else longitude

    async def get_siteelevation(self, params: Params) -> float:
        value = self.indi.number(self.name, "GEOGRAPHIC_COORD", "ELEV")
        if value is None:
            raise AlpacaError.not_implemented("SiteElevation (no GEOGRAPHIC_COORD.ELEV)")
        return value

    async def _put_site(self, params: Params, name: str) -> None:
        """PUT one GEOGRAPHIC_COORD member of `SITE`, within its range, sent with the other
        members' current values: indilib's drivers read every member of a new
        GEOGRAPHIC_COORD, and its telescope simulator takes garbage for those left out."""
        member, low, high = SITE[name]
        value = params.as_float(name)
        if not low <= value <= high:
            raise AlpacaError.invalid_value(f"{name} {value} is outside {low:g}..{high:g}")
        if not self._rw("GEOGRAPHIC_COORD"):
            raise AlpacaError.not_implemented("setting the site")
        if member == "LONG":
            value %= 360.0  # -180..180 east in Alpaca, 0..360 in INDI
        site = self.indi.require(self.name, "GEOGRAPHIC_COORD", name)
        values: dict[str, Any] = {m: site[m] for m in site}
        values[member] = value
        await self.indi.send_and_see(self.name, "GEOGRAPHIC_COORD", values)

    async def put_sitelatitude(self, params: Params) -> None:
        await self._put_site(params, "SiteLatitude")

    async def put_sitelongitude(self, params: Params) -> None:
        await self._put_site(params, "SiteLongitude")

    async def put_siteelevation(self, params: Params) -> None:
        await self._put_site(params, "SiteElevation")

    async def get_utcdate(self, params: Params) -> str:
        text = self.indi.text(self.name, "TIME_UTC", "UTC")
        if not text:
            raise AlpacaError.not_implemented("UTCDate (no TIME_UTC)")
        return text.rstrip("Z") + "Z"

    async def put_utcdate(self, params: Params) -> None:
        text = params.required("UTCDate")
        match = _UTC.fullmatch(text.strip())
        if match is None:
            raise AlpacaError.invalid_value(f"UTCDate {text!r} is not ISO 8601 UTC ending in Z")
        try:
            datetime.fromisoformat(match.group(1))
        except ValueError:
            raise AlpacaError.invalid_value(f"UTCDate {text!r} is not a date") from None
        if not self._rw("TIME_UTC"):
            raise AlpacaError.not_implemented("setting UTCDate")
        await self.indi.send_and_wait(self.name, "TIME_UTC", {"UTC": match.group(1)}, 4.0)

    # -- optics ------------------------------------------------------------------------

    def _info(self, member: str) -> float:
        value = self.indi.number(self.name, "TELESCOPE_INFO", member)
        if not value:
            raise AlpacaError.not_implemented(f"{member} (no TELESCOPE_INFO)")
        return value / 1000.0  # mm -> m

    async def get_aperturediameter(self, params: Params) -> float:
        return self._info("TELESCOPE_APERTURE")

    async def get_aperturearea(self, params: Params) -> float:
        return math.pi * (self._info("TELESCOPE_APERTURE") / 2.0) ** 2

    async def get_focallength(self, params: Params) -> float:
        return self._info("TELESCOPE_FOCAL_LENGTH")
