"""`Mount`: the telescope role (TELESCOPE bit), indilib's ``INDI::Telescope`` properties.

The user writes the hardware part, a `MountHardware`: ``goto`` (returns once there),
``position``, ``abort``, ``sync``, ``park``/``unpark``, ``set_tracking`` and ``move``. The role
defines the standard properties (names, labels, groups, formats as indilib 1.9.9's telescope
simulator has them), checks a goto against the limits, runs the states clients follow (the
coordinates Busy while slewing and sent as they change, Ok when tracking, Idle when stopped,
Alert with a message when refused or failed), aborts, parks, and keeps reading the position.

The sequences are indilib's (``standard-properties`` in the docs): ON_COORD_SET says what a
new EQUATORIAL_EOD_COORD does (TRACK: go there and track; SLEW: go there; SYNC: the mount is
told it points there); TELESCOPE_ABORT_MOTION stops; TELESCOPE_PARK parks at
TELESCOPE_PARK_POSITION (hour angle and Dec) and refuses gotos until unparked.

TELESCOPE_PIER_SIDE is a German equatorial mount's: the side is chosen when a goto (or park)
starts, from the target's hour angle (`pier_side_for`), and kept while the mount tracks past
the meridian, so the next goto to the same target flips it (indilib's telescope simulator
does the same). A mount given a `MountGuider` also has indilib's timed guiding:
TELESCOPE_TIMED_GUIDE_NS/WE (`guide.TimedGuide`, the GUIDER bit) at GUIDE_RATE.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from typing import Any

from indipycore.astro import SIDEREAL_DEG_PER_S
from indipycore.astro import hour_angle
from indipycore.astro import local_sidereal_time
from indipycore.astro import wrap_hours
from indipycore.interface import Interface
from indipycore.protocol.timestamps import parse_timestamp

from ..members import SwitchMember
from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from ..vectors import TextVector
from .groups import MOTION_TAB
from .guide import Started
from .guide import TimedGuide
from .mounttypes import MountGuider
from .mounttypes import MountHardware
from .mounttypes import MountLimits
from .mounttypes import MountStatus
from .mounttypes import SlewRate
from .mounttypes import pier_side_for
from .mountvectors import MOUNT_VECTORS
from .role import Operation
from .role import RepeatedRead
from .role import RoleDevice
from .role import RoleTasks
from .role import accept_values
from .role import run_chosen
from .vectortables import build

__all__ = ["DEFAULT_SLEW_RATES", "Mount", "MountGuider", "MountHardware", "MountLimits",
           "MountStatus", "SlewRate"]

logger = logging.getLogger(__name__)

#: The telescope simulator's four rates (its names, its labels with the speed added, which
#: Alpaca's MoveAxis reads); the speeds are this role's.
DEFAULT_SLEW_RATES = (
    SlewRate("1x", "Guide (0.5x)", 0.5 * SIDEREAL_DEG_PER_S),
    SlewRate("2x", "Centering (16x)", 16 * SIDEREAL_DEG_PER_S),
    SlewRate("3x", "Find (64x)", 64 * SIDEREAL_DEG_PER_S),
    SlewRate("4x", "Max (3°/s)", 3.0),
)


def _numbers(event: ClientVectorEvent[Any]) -> newNumberVector:
    if not isinstance(event, newNumberVector):
        raise TypeError(f"{event.vectorname}: a number vector expected, not {type(event).__name__}")
    return event


def _utc_text(when: datetime) -> str:
    """TIME_UTC's UTC text (``YYYY-MM-DDTHH:MM:SS``, no zone); a naive `when` is UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


class Mount:
    """The telescope role: give it your `MountHardware`, put it in a standard `Device`::

        mount = Mount(MyMount(), latitude=51.48, longitude=0.0)
        device = Device("Telescope", roles=[mount])

    `latitude`/`longitude` (degrees, east positive, 0..360)/`elevation` start
    GEOGRAPHIC_COORD (a client may set its own); `park_position` is (hour angle, Dec);
    `limits` checks gotos; `poll_interval` is how often `position` is read while the mount is
    still (four times as often while it slews). `can_sync`/`can_park` leave out SYNC and the
    park properties for mounts that cannot; `parked` says the mount starts parked. A `guider`
    gives it timed guide pulses at `guide_rate` (a fraction of sidereal, GUIDE_RATE's start).
    `clock` (aware UTC, the wall's by default) is the mount's sky time: a simulator's
    rehearsal sky (``indipycore.skyclock``) turns its sidereal time, meridian and pier side.
    """

    def __init__(
        self,
        hardware: MountHardware,
        *,
        latitude: float = 0.0,
        longitude: float = 0.0,
        elevation: float = 0.0,
        park_position: tuple[float, float] = (0.0, 90.0),
        limits: MountLimits | None = None,
        slew_rates: Sequence[SlewRate] = DEFAULT_SLEW_RATES,
        slew_rate: str | None = None,
        poll_interval: float = 1.0,
        can_sync: bool = True,
        can_park: bool = True,
        parked: bool = False,
        aperture: float = 120.0,
        focal_length: float = 900.0,
        guider: MountGuider | None = None,
        guide_rate: float = 0.5,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not slew_rates:
            raise ValueError("a mount needs at least one slew rate")
        self.hardware = hardware
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.limits = limits or MountLimits()
        self.poll_interval = poll_interval
        self.can_sync = can_sync
        self.can_park = can_park
        self.status = MountStatus.PARKED if parked and can_park else MountStatus.IDLE
        self.logger = logger
        self._device: RoleDevice | None = None
        self._tasks = RoleTasks()
        self._wake = asyncio.Event()
        # Held while the position is read and sent, and across an abort or a slew's end: a
        # poll that read the position before the motion stopped must not send it after.
        self._position_lock = asyncio.Lock()
        self._rates = {rate.name: rate for rate in slew_rates}
        chosen = slew_rate or slew_rates[len(slew_rates) // 2].name
        if chosen not in self._rates:
            raise ValueError(f"slew_rate {chosen!r} is not one of {list(self._rates)}")
        self._coord_alert = ""  # a refusal or failure shown until the next change of state
        self._sent: tuple[float, float, str] | None = None
        self._ns = self._we = 0
        self._pier: str | None = None  # the side the last goto or park chose (a GEM's)
        self.guider = guider

        made = build(
            MOUNT_VECTORS, can_sync=can_sync, slew_rates=[
                SwitchMember(rate.name, rate.label, "On" if rate.name == chosen else "Off")
                for rate in slew_rates],
            utc=_utc_text(self.clock()), latitude=latitude, longitude=longitude % 360,
            elevation=elevation, park_state="Ok" if self.status is MountStatus.PARKED else "Idle",
            park="On" if parked else "Off", unpark="Off" if parked else "On",
            park_ha=park_position[0], park_dec=park_position[1], aperture=aperture,
            focal_length=focal_length, can_guide=guider is not None, guide_rate=guide_rate)
        self.on_coord_set = made.vector("ON_COORD_SET", SwitchVector)
        self.coord = made.vector("EQUATORIAL_EOD_COORD", NumberVector)
        self.abort_motion = made.vector("TELESCOPE_ABORT_MOTION", SwitchVector)
        self.track_state = made.vector("TELESCOPE_TRACK_STATE", SwitchVector)
        self.motion_ns = made.vector("TELESCOPE_MOTION_NS", SwitchVector)
        self.motion_we = made.vector("TELESCOPE_MOTION_WE", SwitchVector)
        self.slew_rate = made.vector("TELESCOPE_SLEW_RATE", SwitchVector)
        self.target = made.vector("TARGET_EOD_COORD", NumberVector)
        self.time_utc = made.vector("TIME_UTC", TextVector)
        self.site = made.vector("GEOGRAPHIC_COORD", NumberVector)
        self.park = made.vector("TELESCOPE_PARK", SwitchVector)
        self.park_position = made.vector("TELESCOPE_PARK_POSITION", NumberVector)
        self.pier_side = made.vector("TELESCOPE_PIER_SIDE", SwitchVector)
        self.info = made.vector("TELESCOPE_INFO", NumberVector)
        self.guide_rate = made.optional("GUIDE_RATE", NumberVector)
        self.guide = None if guider is None else TimedGuide(self._pulse, MOTION_TAB)
        self._goto = Operation(self.coord, "Goto")
        self._parking = Operation(self.park, "Park")

    # ---------------------------------------------------------------- Role

    #: Saved by CONFIG_SAVE (indilib's Telescope::saveConfigItems, of what this role has).
    config_names = ("ACTIVE_DEVICES", "GEOGRAPHIC_COORD", "TELESCOPE_INFO",
                    "TELESCOPE_SLEW_RATE", "GUIDE_RATE")
    #: Taken from the saved file when the driver starts (indilib's Telescope: ACTIVE_DEVICES
    #: and GEOGRAPHIC_COORD in initProperties, DOME_POLICY in ISGetProperties), of what this
    #: role has: the site.
    startup_names = ("ACTIVE_DEVICES", "GEOGRAPHIC_COORD", "DOME_POLICY")

    @property
    def interface(self) -> Interface:
        return Interface.TELESCOPE if self.guide is None \
            else Interface.TELESCOPE | Interface.GUIDER

    @property
    def polling_seconds(self) -> float:
        """`poll_interval`, which the device's POLLING_PERIOD sets (`PollingRole`); a new one
        starts the next wait at once."""
        return self.poll_interval

    @polling_seconds.setter
    def polling_seconds(self, seconds: float) -> None:
        self.poll_interval = seconds
        self._wake.set()

    def vectors(self) -> Sequence[PropertyVector]:
        vectors: list[PropertyVector] = [
            self.on_coord_set, self.coord, self.abort_motion, self.track_state, self.motion_ns,
            self.motion_we, self.slew_rate, self.target, self.time_utc, self.site]
        if self.can_park:
            vectors += [self.park, self.park_position]
        vectors += [self.pier_side, self.info]
        if self.guide is not None and self.guide_rate is not None:
            vectors += [*self.guide.vectors(), self.guide_rate]
        return vectors

    def attach(self, device: RoleDevice) -> None:
        self._device = device
        self.logger = device.logger
        self._tasks.attach(device)
        self._goto.attach(device)
        self._parking.attach(device)
        if self.guide is not None:
            self.guide.attach(device)

    async def connected(self) -> None:
        # New ones for the event loop serving now (a driver may be served again under another).
        self._wake = asyncio.Event()
        self._position_lock = asyncio.Lock()
        self._sent = None
        self._tasks.start(self._poll(), "Mount position")

    async def disconnected(self) -> None:
        if self.guide is not None:
            await self.guide.disconnected()
        await self._goto.abort()
        await self._parking.abort()
        if self.status in (MountStatus.SLEWING, MountStatus.PARKING):
            await self._stop_hardware()
            self.status = MountStatus.IDLE
        await self._tasks.stop()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        handlers = {
            "EQUATORIAL_EOD_COORD": self._new_coord,
            "ON_COORD_SET": accept_values,
            "TELESCOPE_ABORT_MOTION": self._new_abort,
            "TELESCOPE_TRACK_STATE": self._new_track_state,
            "TELESCOPE_MOTION_NS": self._new_motion,
            "TELESCOPE_MOTION_WE": self._new_motion,
            "TELESCOPE_SLEW_RATE": accept_values,
            "TIME_UTC": self._new_time,
            "GEOGRAPHIC_COORD": accept_values,
            "TELESCOPE_PARK": self._new_park,
            "TELESCOPE_PARK_POSITION": accept_values,
            "TELESCOPE_INFO": accept_values,
            "GUIDE_RATE": accept_values,
        }
        if self.guide is not None:
            handlers["TELESCOPE_TIMED_GUIDE_NS"] = self.guide.new_vector
            handlers["TELESCOPE_TIMED_GUIDE_WE"] = self.guide.new_vector
        handler = handlers.get(event.vectorname or "")
        if handler is None:
            # A read-only vector: the framework refuses writes to it before this.
            return
        await handler(event)

    # ---------------------------------------------------------------- state

    @property
    def tracking(self) -> bool:
        return bool(self.track_state["TRACK_ON"] == "On")

    def _set_status(self, status: MountStatus) -> None:
        """A new status; it ends any Alert a refusal or failure left on the coordinates."""
        self.status = status
        self._coord_alert = ""

    def _coord_state(self) -> str:
        if self.status in (MountStatus.SLEWING, MountStatus.PARKING):
            return "Busy"
        if self._coord_alert:
            return "Alert"
        return "Ok" if self.status is MountStatus.TRACKING else "Idle"

    def local_sidereal_time(self, when: datetime | None = None) -> float:
        """The site's local sidereal time (hours) now, or at `when`."""
        return local_sidereal_time(when or self.clock(), self.site.getfloatvalue("LONG"))

    async def _send_coord(self, message: str = "", force: bool = False) -> None:
        state = self._coord_state()
        # Sent when it moved by more than 0.004 s of RA or 0.04" of Dec (a guide pulse's
        # few arcseconds reach clients, which the formatted seconds would hide).
        key = (round(self.coord.getfloatvalue("RA"), 6), round(self.coord.getfloatvalue("DEC"), 5),
               state)
        if force or message or key != self._sent:
            self._sent = key
            await self.coord.send_setVector(state=state, message=message)

    async def _read_position(self) -> None:
        ra, dec = await self.hardware.position()
        self.coord["RA"] = wrap_hours(ra)
        self.coord["DEC"] = max(-90.0, min(90.0, dec))
        if self._pier is None:  # no goto yet: the side it stands on now, kept from here
            self._pier = pier_side_for(hour_angle(self.local_sidereal_time(), wrap_hours(ra)))
        await self._send_pier_side()

    async def _send_pier_side(self) -> None:
        if self._pier is not None and self.pier_side[self._pier] != "On":
            self.pier_side[self._pier] = "On"
            await self.pier_side.send_setVector(state="Ok")

    async def _choose_pier_side(self, ha: float) -> None:
        """A goto or park to hour angle `ha` starts: a German equatorial mount takes the side
        that points there, and keeps it until the next one."""
        self._pier = pier_side_for(ha)
        await self._send_pier_side()

    async def _poll(self) -> None:
        """Read the position and send it when it (or the state) changed, every
        `poll_interval`, four times as often while slewing."""
        reading = RepeatedRead(self.logger, "Reading the mount's position")
        while True:
            async with self._position_lock:
                try:
                    await self._read_position()
                except Exception as exc:  # noqa: BLE001  # say so once, keep polling
                    reading.failed(exc)
                else:
                    reading.worked()
                    await self._send_coord()
            busy = self.status in (MountStatus.SLEWING, MountStatus.PARKING)
            self._wake.clear()
            try:
                async with asyncio.timeout(self.poll_interval / 4 if busy
                                           else self.poll_interval):
                    await self._wake.wait()  # (wait_for can lose a cancellation)
            except TimeoutError:
                pass

    async def _refuse(self, vector: PropertyVector, text: str, log: bool = True) -> None:
        if log:
            # Logged here only: the vector's message carries it to clients.
            logger.warning("%s: %s", self.coord.devicename, text)
        if vector is self.coord:
            # Alert now, even while a park goes on (the next update says Busy again).
            self._coord_alert = text
            self._sent = None
            await self.coord.send_setVector(state="Alert", message=text)
        else:
            await vector.send_setVector(state="Alert", message=text)

    def _busy_elsewhere(self) -> str | None:
        if self.status is MountStatus.PARKED:
            return "The mount is parked: unpark it first"
        if self.status is MountStatus.PARKING:
            return "The mount is parking: wait, or abort the park"
        return None

    async def _stop_hardware(self) -> None:
        try:
            await self.hardware.abort()
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Stopping the mount failed: %s: %s", type(exc).__name__, exc)

    # ---------------------------------------------------------------- requests

    async def _new_coord(self, event: ClientVectorEvent[Any]) -> None:
        numbers = _numbers(event)
        ra = numbers.getfloatvalue("RA") if "RA" in numbers else self.coord.getfloatvalue("RA")
        dec = numbers.getfloatvalue("DEC") if "DEC" in numbers \
            else self.coord.getfloatvalue("DEC")
        ra = wrap_hours(ra)
        if (why := self._busy_elsewhere()) is not None:
            await self._refuse(self.coord, f"Goto refused: {why}")
            return
        if self.on_coord_set.get("SYNC") == "On":
            await self._sync(ra, dec)
            return
        why = self.limits.refusal(ra, dec, lst=self.local_sidereal_time(),
                                  latitude=self.site.getfloatvalue("LAT"))
        if why is not None:
            await self._refuse(self.coord, why)
            return
        track = self.on_coord_set["TRACK"] == "On"
        await self._goto.abort()  # a new goto replaces one under way
        self._coord_alert = ""
        self.target["RA"], self.target["DEC"] = ra, dec
        await self.target.send_setVector(state="Busy")
        self._set_status(MountStatus.SLEWING)
        self.logger.info("Slewing to RA %s DEC %s", self.target.getformattedvalue("RA").strip(),
                         self.target.getformattedvalue("DEC").strip())
        await self._send_coord(force=True)
        await self._choose_pier_side(hour_angle(self.local_sidereal_time(), ra))
        self._goto.start(self._run_goto(ra, dec, track))
        self._wake.set()

    async def _run_goto(self, ra: float, dec: float, track: bool) -> None:
        try:
            await self.hardware.goto(ra, dec)
            if track and not self.tracking:
                await self.hardware.set_tracking(True)
                await self._send_tracking(True)
        except Exception as exc:  # noqa: BLE001  # the user's goto failed: say so
            self._set_status(MountStatus.IDLE)
            text = f"Goto failed: {type(exc).__name__}: {exc}"
            self.logger.error("%s", text)
            await self.target.send_setVector(state="Alert")
            # Alert with the error until the next change of state.
            await self._refuse(self.coord, text[:250], log=False)
            return
        async with self._position_lock:
            self._set_status(MountStatus.TRACKING if self.tracking else MountStatus.IDLE)
            await self._read_position()
            await self.target.send_setVector(state="Ok")
            self.logger.info("Slew complete")
            await self._send_coord(force=True)

    async def _sync(self, ra: float, dec: float) -> None:
        if not self.can_sync:
            await self._refuse(self.coord, "This mount cannot sync")
            return
        try:
            await self.hardware.sync(ra, dec)
        except Exception as exc:  # noqa: BLE001
            await self._refuse(self.coord, f"Sync failed: {type(exc).__name__}: {exc}")
            return
        self._coord_alert = ""
        async with self._position_lock:
            await self._read_position()
            self.logger.info("Synced to RA %s DEC %s",
                             self.coord.getformattedvalue("RA").strip(),
                             self.coord.getformattedvalue("DEC").strip())
            self._sent = None
            await self.coord.send_setVector(state="Ok")

    async def _new_abort(self, event: ClientVectorEvent[Any]) -> None:
        async with self._position_lock:
            await self._abort()

    async def _abort(self) -> None:
        was = self.status
        await self._goto.abort()
        await self._parking.abort()
        await self._stop_hardware()
        for vector in (self.motion_ns, self.motion_we):
            if vector.state == "Busy":
                for name in vector:
                    vector[name] = "Off"
                await vector.send_setVector(state="Idle")
        self._ns = self._we = 0
        if was is MountStatus.PARKING:
            self.park["UNPARK"] = "On"
            await self.park.send_setVector(state="Idle", message="Park aborted")
        if was in (MountStatus.SLEWING, MountStatus.PARKING):
            self._set_status(MountStatus.TRACKING if self.tracking else MountStatus.IDLE)
            await self.target.send_setVector(state="Idle")
        self.abort_motion["ABORT"] = "Off"
        await self.abort_motion.send_setVector(state="Ok", message="Telescope motion aborted")
        self.logger.info("Motion aborted")
        try:
            await self._read_position()  # where it stopped, not where the last poll saw it
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Reading the mount's position failed: %s: %s",
                              type(exc).__name__, exc)
        await self._send_coord(force=True)

    async def _send_tracking(self, on: bool) -> None:
        self.track_state["TRACK_ON" if on else "TRACK_OFF"] = "On"
        await self.track_state.send_setVector(state="Busy" if on else "Idle")

    async def _new_track_state(self, event: ClientVectorEvent[Any]) -> None:
        on = event.get("TRACK_ON") == "On" or event.get("TRACK_OFF") == "Off"
        if on and (why := self._busy_elsewhere()) is not None:
            await self._refuse(self.track_state, f"Tracking refused: {why}")
            return
        try:
            await self.hardware.set_tracking(on)
        except Exception as exc:  # noqa: BLE001
            await self._refuse(self.track_state,
                               f"Tracking {'on' if on else 'off'} failed: {type(exc).__name__}: "
                               f"{exc}")
            return
        await self._send_tracking(on)
        if self.status in (MountStatus.IDLE, MountStatus.TRACKING):
            self._set_status(MountStatus.TRACKING if on else MountStatus.IDLE)
            self._coord_alert = ""
        await self._send_coord(force=True)

    async def _new_motion(self, event: ClientVectorEvent[Any]) -> None:
        vector = event.vector
        if (why := self._busy_elsewhere()) is not None:
            await self._refuse(vector, f"Motion refused: {why}")
            return
        for name, value in event.items():
            vector[name] = value
        if vector is self.motion_ns:
            self._ns = 1 if vector["MOTION_NORTH"] == "On" else -1 \
                if vector["MOTION_SOUTH"] == "On" else 0
            moving = self._ns
        else:
            self._we = 1 if vector["MOTION_WEST"] == "On" else -1 \
                if vector["MOTION_EAST"] == "On" else 0
            moving = self._we
        if moving and self.status is MountStatus.SLEWING:
            await self._goto.abort()
            self._set_status(MountStatus.TRACKING if self.tracking else MountStatus.IDLE)
        rate = next((r for r in self._rates.values() if self.slew_rate[r.name] == "On"),
                    next(iter(self._rates.values())))
        try:
            await self.hardware.move(self._ns, self._we, rate.degrees_per_second)
        except Exception as exc:  # noqa: BLE001
            for name in vector:
                vector[name] = "Off"
            await self._refuse(vector, f"Motion failed: {type(exc).__name__}: {exc}")
            return
        await vector.send_setVector(state="Busy" if moving else "Idle")
        self._wake.set()

    async def _new_time(self, event: ClientVectorEvent[Any]) -> None:
        utc = event.get("UTC", self.time_utc["UTC"])
        offset = event.get("OFFSET", self.time_utc["OFFSET"])
        try:
            when = parse_timestamp(utc)
            hours = float(offset)
        except ValueError as exc:
            await self._refuse(self.time_utc, f"TIME_UTC not understood: {exc}")
            return
        self.time_utc["UTC"] = _utc_text(when)
        self.time_utc["OFFSET"] = f"{hours:.2f}"
        await self.time_utc.send_setVector(state="Ok")

    async def _new_park(self, event: ClientVectorEvent[Any]) -> None:
        await run_chosen(event, {"PARK": self._start_park, "UNPARK": self._unpark})

    async def _start_park(self) -> None:
        if self.status is MountStatus.PARKED:
            await self.park.send_setVector(state="Ok", message="The mount is already parked")
            return
        if self.status is MountStatus.PARKING:
            await self.park.send_setVector(state="Busy")
            return
        await self._goto.abort()
        self._coord_alert = ""
        self._set_status(MountStatus.PARKING)
        self.park["PARK"] = "On"
        await self.park.send_setVector(state="Busy", message="Parking")
        await self._send_coord(force=True)
        ha = self.park_position.getfloatvalue("PARK_HA")
        dec = self.park_position.getfloatvalue("PARK_DEC")
        await self._choose_pier_side(ha)
        self._parking.start(self._run_park(ha, dec))
        self._wake.set()

    async def _run_park(self, ha: float, dec: float) -> None:
        try:
            if self.tracking:
                await self.hardware.set_tracking(False)
                await self._send_tracking(False)
            await self.hardware.park(ha, dec)
        except Exception as exc:  # noqa: BLE001  # the user's park failed: say so
            self._set_status(MountStatus.IDLE)
            text = f"Park failed: {type(exc).__name__}: {exc}"
            self.logger.error("%s", text)
            self.park["UNPARK"] = "On"
            await self.park.send_setVector(state="Alert", message=text[:250])
            await self._send_coord(force=True)
            return
        async with self._position_lock:
            self._set_status(MountStatus.PARKED)
            await self._read_position()
            await self.park.send_setVector(state="Ok", message="Mount parked")
            self.logger.info("Mount parked")
            await self._send_coord(force=True)

    async def _unpark(self) -> None:
        if self.status is MountStatus.PARKING:
            await self._refuse(self.park, "Unpark refused: the mount is parking (abort first)")
            return
        if self.status is MountStatus.PARKED:
            try:
                await self.hardware.unpark()
            except Exception as exc:  # noqa: BLE001
                self.park["PARK"] = "On"
                await self._refuse(self.park, f"Unpark failed: {type(exc).__name__}: {exc}")
                return
            self._set_status(MountStatus.IDLE)
            self.logger.info("Mount unparked")
        self.park["UNPARK"] = "On"
        await self.park.send_setVector(state="Ok")
        await self._send_coord(force=True)

    # ---------------------------------------------------------------- guiding

    async def _pulse(self, direction: str, ms: int, started: Started) -> None:
        """`TimedGuide`'s hook: the pulse at GUIDE_RATE's speed for its axis, refused while
        parked or parking (the vector's Alert says why)."""
        if (why := self._busy_elsewhere()) is not None:
            raise RuntimeError(f"Guide pulse refused: {why}")
        assert self.guider is not None and self.guide_rate is not None
        member = "GUIDE_RATE_NS" if direction in ("N", "S") else "GUIDE_RATE_WE"
        speed = self.guide_rate.getfloatvalue(member) * SIDEREAL_DEG_PER_S
        await started()
        try:
            await self.guider.pulse(direction, ms, speed)
        finally:
            self._wake.set()  # the pointing moved: the poll sends it now
