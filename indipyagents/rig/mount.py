"""`IndiMount`: the rig's `Mount` on a device's standard Telescope properties, through
`indiset.command` (so a refusal is `DeviceRefused` and silence `DeviceLost`, as for every
instrument of the rig).

The plan speaks J2000, INDI's EQUATORIAL_EOD_COORD is JNow: a slew precesses the target to
the date (`indipycore.astro`), `pointing` precesses back. A slew sets ON_COORD_SET TRACK first
(the mount tracks where it arrives), unparks a parked mount first (logged), and waits for the
coordinates to leave Busy: a slew can take minutes, so its bound is `slew_timeout`. A guide
pulse goes through the rig's one guide port (`guideport.GuidePort`, the guider's too).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from indipyclient import Client
from indipyclient.model import events as ev
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipycore.protocol import State

from ..plan.model import Site
from .guideport import GuidePort
from .indiset import ANSWER_WAIT
from .indiset import command
from .indiset import defined
from .indiset import park_switch
from .indiset import require
from .protocols import DeviceLost
from .protocols import DeviceRefused

logger = logging.getLogger(__name__)

#: Seconds a slew (or a park) may take before the mount counts as lost.
SLEW_WAIT = 300.0
#: GUIDE_RATE's default (x sidereal) where the mount has none: indilib's simulator's.
DEFAULT_GUIDE_RATE = 0.5


def _now() -> datetime:
    return datetime.now(UTC)


class IndiMount:
    """The INDI mount `device` on `client`'s server, as the sequencer's `Mount`.
    `clock` gives the time the precession uses (a test may fix it)."""

    def __init__(self, client: Client, device: str, *, slew_timeout: float = SLEW_WAIT,
                 park_timeout: float = SLEW_WAIT,
                 clock: Callable[[], datetime] = _now) -> None:
        self.client = client
        self.name = device
        self.slew_timeout = slew_timeout
        self.park_timeout = park_timeout
        self.clock = clock
        self._cannot_park = False  # TELESCOPE_PARK waited for in vain

    def _vector(self, name: str) -> Any:
        """The vector as the client holds it, None when the device has not (or no longer)
        defined it."""
        found = self.client.devices.vector(self.name, name)
        return found if found is not None and found.enable else None

    async def _command(self, vector: str, values: dict[str, Any],
                       timeout: float = ANSWER_WAIT,
                       accept: tuple[State, ...] = (State.OK,)) -> None:
        await command(self.client, self.name, vector, values, timeout=timeout, accept=accept)

    # ------------------------------------------------------------------ pointing

    def parked(self) -> bool:
        """Whether TELESCOPE_PARK says PARK (False for a mount that cannot park)."""
        park = self._vector("TELESCOPE_PARK")
        return park is not None and park["PARK"] == "On"

    def left_unparked(self) -> bool:
        """Whether TELESCOPE_PARK says, settled (not Busy), that the mount is not parked:
        one the watchdog parks again while unsafe. False for a mount parked, moving, or
        without TELESCOPE_PARK (it cannot say)."""
        park = self._vector("TELESCOPE_PARK")
        return park is not None and park.state != State.BUSY and park["PARK"] != "On"

    async def _park_known(self) -> None:
        """TELESCOPE_PARK waited for (`OPTIONAL_WAIT`, once) while it may be on its way:
        indilib's telescope defines it well after EQUATORIAL_EOD_COORD, and a parked mount
        taken for an unparked one (just connected, or its driver restarted) refuses the slew."""
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        if self._vector("TELESCOPE_PARK") is None and not self._cannot_park:
            self._cannot_park = not await defined(self.client, self.name, "TELESCOPE_PARK")

    async def slew_to(self, ra: float, dec: float) -> None:
        if not (0.0 <= ra < 24.0 and -90.0 <= dec <= 90.0):
            raise ValueError(f"RA {ra!r} h, Dec {dec!r} deg: not a position on the sky")
        await self._park_known()
        if self.parked():
            logger.info("%s is parked: unparking it before the slew", self.name)
            await self.unpark()
        on_set = self._vector("ON_COORD_SET")
        if on_set is not None and on_set["TRACK"] != "On":
            await self._command("ON_COORD_SET", {"TRACK": "On"})
        ra_now, dec_now = precess_from_j2000(ra, dec, self.clock())
        logger.info("%s: slewing to RA %.5f h, Dec %.4f deg (J2000)", self.name, ra, dec)
        await self._goto(ra_now, dec_now)

    async def _goto(self, ra: float, dec: float) -> None:
        """EQUATORIAL_EOD_COORD set, then its end awaited: the first set in another state
        after a Busy one. The first answer alone is not enough: a mount that is not tracking
        sends its position Idle as the sky turns, and one such set may be on its way when
        the goto is sent."""
        ended: list[State] = []

        def watch(event: ev.Event) -> bool:
            if (isinstance(event, ev.setVector) and event.devicename == self.name
                    and event.vectorname == "EQUATORIAL_EOD_COORD" and event.state is not None):
                if event.state == State.BUSY:
                    ended.append(State.BUSY)
                elif ended:
                    ended.append(event.state)
                    return True
            return False

        started = time.monotonic()
        with self.client.waiters.watching(watch) as done:
            # Busy accepted too: a stale Idle answers the set, and when the goto's Busy is
            # read with it the answer says Busy (set-and-wait reports the burst's last
            # state); the end is the watch's either way.
            await self._command("EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec},
                                timeout=self.slew_timeout,
                                accept=(State.OK, State.IDLE, State.BUSY))
            left = self.slew_timeout - (time.monotonic() - started)
            try:
                async with asyncio.timeout(max(left, 0.0)):
                    await done
            except TimeoutError:
                raise DeviceLost(self.name, "the slew did not end within "
                                            f"{self.slew_timeout:g} s") from None
        if ended[-1] != State.OK:
            raise DeviceRefused(self.name, f"the slew ended {ended[-1].value}, not tracking")

    async def pointing(self) -> tuple[float, float]:
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        coord = self._vector("EQUATORIAL_EOD_COORD")
        if coord is None:  # deleted since: the device went away
            raise DeviceLost(self.name, "EQUATORIAL_EOD_COORD is no longer defined")
        return precess_to_j2000(coord.getfloatvalue("RA"), coord.getfloatvalue("DEC"),
                                self.clock())

    async def sync(self, ra: float, dec: float) -> None:
        """Tell the mount it points at J2000 `ra`, `dec` (a solved frame's centre):
        ON_COORD_SET SYNC, EQUATORIAL_EOD_COORD at the date, then TRACK again. A refusal is
        `DeviceRefused` saying "refused the SYNC" and the mount's reason."""
        if not (0.0 <= ra < 24.0 and -90.0 <= dec <= 90.0):
            raise ValueError(f"RA {ra!r} h, Dec {dec!r} deg: not a position on the sky")
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        if self._vector("ON_COORD_SET") is None or "SYNC" not in self._vector("ON_COORD_SET"):
            raise DeviceRefused(self.name, "refused the SYNC: it has no ON_COORD_SET.SYNC")
        await self._park_known()
        if self.parked():  # as indilib's and ours refuse it; and a parked mount's position,
            # reported as the sky turns, can read the very position told (parked where it
            # points) and pass for the SYNC's answer before the refusal comes
            raise DeviceRefused(self.name, "refused the SYNC: the mount is parked: unpark it "
                                           "first")
        ra_now, dec_now = precess_from_j2000(ra, dec, self.clock())
        try:
            await self._command("ON_COORD_SET", {"SYNC": "On"})
            await self._sync_answered(ra_now, dec_now)
        except DeviceRefused as exc:
            raise DeviceRefused(self.name, f"refused the SYNC: {exc.reason}") from None
        finally:
            on_set = self._vector("ON_COORD_SET")
            if on_set is not None and on_set["TRACK"] != "On" and self.client.connected:
                await self._command("ON_COORD_SET", {"TRACK": "On"})
        logger.info("%s: synced on RA %.5f h, Dec %.4f deg (J2000)", self.name, ra, dec)

    async def _sync_answered(self, ra: float, dec: float) -> None:
        """EQUATORIAL_EOD_COORD set (ON_COORD_SET SYNC), then its answer awaited: Alert (a
        refusal, `DeviceRefused`) or the mount reading the position it was told (within
        `SYNC_MATCH`). The first set after the request is not enough: a parked mount sends
        its position Idle as the sky turns, and one such set on its way was taken for the
        SYNC's answer while the mount refused it (a fresh-clone run, 2026-11-29)."""
        answer: list[tuple[State, str]] = []

        def watch(event: ev.Event) -> bool:
            if not (isinstance(event, ev.setVector) and event.devicename == self.name
                    and event.vectorname == "EQUATORIAL_EOD_COORD"):
                return False
            state = event.state if event.state is not None else event.vector.state
            coord = self._vector("EQUATORIAL_EOD_COORD")  # as this set left it
            if state == State.ALERT or (state in (State.OK, State.IDLE) and coord is not None
                                        and _near(coord.getfloatvalue("RA"),
                                                  coord.getfloatvalue("DEC"), ra, dec)):
                answer.append((state, event.message or ""))
                return True
            return False

        with self.client.waiters.watching(watch) as done:
            await self._command("EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec},
                                accept=(State.OK, State.IDLE))
            try:
                async with asyncio.timeout(ANSWER_WAIT):
                    await done
            except TimeoutError:
                coord = self._vector("EQUATORIAL_EOD_COORD")
                reads = "" if coord is None else (f": it reads RA {coord.getfloatvalue('RA'):.5f}"
                                                  f" h, Dec {coord.getfloatvalue('DEC'):.4f} deg")
                raise DeviceRefused(self.name, f"the position was not taken{reads}") from None
        state, message = answer[-1]
        if state == State.ALERT:
            raise DeviceRefused(self.name, message or "EQUATORIAL_EOD_COORD went Alert")

    async def pier_side(self) -> str | None:
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        side = self._vector("TELESCOPE_PIER_SIDE")
        if side is None or side.state == State.IDLE:
            return None
        if side["PIER_EAST"] == "On":
            return "EAST"
        if side["PIER_WEST"] == "On":
            return "WEST"
        return None

    async def site(self) -> Site | None:
        """GEOGRAPHIC_COORD, its longitude (INDI: 0..360 east) as -180..180 east, which
        `indipycore.astro.local_sidereal_time` takes as it takes INDI's."""
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        where = self._vector("GEOGRAPHIC_COORD")
        if where is None:
            return None
        longitude = where.getfloatvalue("LONG") % 360.0
        if longitude > 180.0:
            longitude -= 360.0
        elevation = where.getfloatvalue("ELEV") if "ELEV" in where else 0.0
        return Site(where.getfloatvalue("LAT"), longitude, elevation)

    # ------------------------------------------------------------------ guiding

    def can_pulse(self) -> bool:
        return GuidePort(self.client, self.name).present()

    def guide_rates(self) -> tuple[float, float]:
        """GUIDE_RATE's (north/south, west/east) in multiples of the sidereal rate;
        `DEFAULT_GUIDE_RATE` for a mount without it."""
        rates = self._vector("GUIDE_RATE")
        if rates is None:
            return DEFAULT_GUIDE_RATE, DEFAULT_GUIDE_RATE
        return rates.getfloatvalue("GUIDE_RATE_NS"), rates.getfloatvalue("GUIDE_RATE_WE")

    def focal_length(self) -> float | None:
        """TELESCOPE_INFO's focal length (mm; indilib 1.9's), None where not said."""
        info = self._vector("TELESCOPE_INFO")
        if info is None or "TELESCOPE_FOCAL_LENGTH" not in info:
            return None
        value = info.getfloatvalue("TELESCOPE_FOCAL_LENGTH")
        return value if value > 0 else None

    async def pulse(self, north_ms: float, west_ms: float) -> None:
        """Through the rig's one guide port (`GuidePort`): both axes at once, each length
        clipped to the mount's range; `DeviceRefused` for a mount without timed guiding."""
        await require(self.client, self.name, "EQUATORIAL_EOD_COORD")
        await GuidePort(self.client, self.name).pulse(north_ms, west_ms)

    # ------------------------------------------------------------------ parking

    async def park(self) -> None:
        """TELESCOPE_PARK.PARK, done when parked; a park already under way (the watchdog's,
        or an earlier try's) is waited for, not asked again (`indiset.park_switch`): indilib's
        telescope simulator would take the second PARK as "abort"."""
        await park_switch(self.client, self.name, "TELESCOPE_PARK", "PARK",
                          timeout=self.park_timeout)

    async def unpark(self) -> None:
        """A parked mount unparked; one that is not parked (or cannot park: no
        TELESCOPE_PARK) is left alone, as indilib answers an UNPARK of an unparked mount
        Idle ("already unparked"), which a command expecting Ok would take for a refusal."""
        await self._park_known()
        if not self.parked():
            return
        await park_switch(self.client, self.name, "TELESCOPE_PARK", "UNPARK",
                          timeout=ANSWER_WAIT)


#: How near (degrees) a mount's position must read to the one a SYNC told it.
SYNC_MATCH = 0.05


def _near(ra: float, dec: float, ra_told: float, dec_told: float) -> bool:
    """Whether (ra, dec) (hours, degrees) is within `SYNC_MATCH` of the position told."""
    d_ra = (ra - ra_told + 12.0) % 24.0 - 12.0
    return abs(dec - dec_told) <= SYNC_MATCH and \
        abs(d_ra * 15.0 * math.cos(math.radians(dec_told))) <= SYNC_MATCH
