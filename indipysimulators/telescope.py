"""A simulated equatorial mount: goto, sync, abort, park and tracking, its RA and Dec moving.

Installed as the executable ``indipy_simulator_telescope`` (``python
examples/mount_simulator.py`` runs the same)::

    indipy_simulator_telescope                              # serves on localhost:7624
    indipy_simulator_telescope --port 7625 --slew-rate 10
    indiserver -p 7624 indipy_simulator_telescope           # under indilib's server

What to expect: a goto sends EQUATORIAL_EOD_COORD Busy four times a second with the
coordinates on their way, then Ok at the target, tracking (the sky's RA stays put). A target
below the horizon (the site is Greenwich) is refused with Alert and a message.
TELESCOPE_ABORT_MOTION stops a slew where it is; TELESCOPE_PARK slews to the pole and stops
tracking, and a goto is refused until UNPARK. With tracking off (TELESCOPE_TRACK_STATE) the
mount stands still and its RA grows with sidereal time. Timed guide pulses
(TELESCOPE_TIMED_GUIDE_NS/WE, ms) move the pointing at GUIDE_RATE (0.5x sidereal). The pier
side is a German equatorial mount's: chosen at each goto from the target's hour angle
(PIER_WEST east of the meridian), kept while tracking past it, so a goto to the same target
once it has crossed flips the mount, as indilib's telescope simulator does.

The hardware here is `SimulatedMount`: what you write for a real mount is the same few
coroutines talking to its controller instead of to `EquatorialMotion`
(docs/guides/mount_driver.rst walks through it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from indipycore.astro import hour_angle
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import EquatorialMotion
from indipydriver.standard import Mount
from indipydriver.standard import MountLimits
from indipydriver.standard.mounttypes import pier_side_for

from .serving import simulator_main

DEVICE = "Python Mount"
EXEC = "indipy_simulator_telescope"

#: Greenwich: the default site (clients such as Ekos send their own).
LATITUDE, LONGITUDE = 51.4769, 0.0


class SimulatedMount:
    """`MountHardware` for a mount that exists only in `EquatorialMotion`, run against the
    wall clock: each call first lets the time since the last one pass."""

    def __init__(self, motion: EquatorialMotion, lst: Callable[[], float],
                 clock: Callable[[], float] = time.monotonic, step: float = 0.1) -> None:
        self.motion = motion
        self.lst = lst  # the site's local sidereal time, hours (the role knows the site)
        self.clock = clock
        self.step = step
        self._last = clock()
        self.side: str | None = None  # the pier side of the last goto or park (a GEM's)

    def _catch_up(self) -> None:
        now = self.clock()
        self.motion.advance(now - self._last, self.lst())
        self._last = now

    async def _until_still(self) -> None:
        while self.motion.slewing:
            await asyncio.sleep(self.step)
            self._catch_up()

    async def goto(self, ra: float, dec: float) -> None:
        self._catch_up()
        before = self.side if self.side is not None else pier_side_for(
            hour_angle(self.lst(), self.motion.ra))
        self.side = pier_side_for(hour_angle(self.lst(), ra))
        self.motion.slew_to(ra, dec, through_pole=self.side != before)
        await self._until_still()

    async def position(self) -> tuple[float, float]:
        self._catch_up()
        return self.motion.ra, self.motion.dec

    async def abort(self) -> None:
        self._catch_up()
        self.motion.stop()

    async def sync(self, ra: float, dec: float) -> None:
        self._catch_up()
        self.motion.sync(ra, dec)

    async def park(self, hour_angle: float, dec: float) -> None:
        self._catch_up()
        self.motion.tracking = False
        self.side = pier_side_for(hour_angle)
        self.motion.slew_to_hour_angle(hour_angle, dec)
        await self._until_still()

    async def unpark(self) -> None:
        self._catch_up()

    async def set_tracking(self, on: bool) -> None:
        self._catch_up()
        self.motion.tracking = on

    async def move(self, north_south: int, west_east: int, rate: float) -> None:
        self._catch_up()
        self.motion.move(north_south, west_east, rate)

    async def pulse(self, direction: str, ms: int, degrees_per_second: float) -> None:
        """`MountGuider`: a timed pulse, over once the motion has run it in full."""
        self._catch_up()
        ns = {"N": 1, "S": -1}.get(direction, 0)
        we = {"W": 1, "E": -1}.get(direction, 0)
        self.motion.guide(ns, we, degrees_per_second, ms / 1000)
        await asyncio.sleep(ms / 1000)
        self._catch_up()
        while self._axis_guiding(ns):
            await asyncio.sleep(min(self.step, 0.01))
            self._catch_up()

    def _axis_guiding(self, ns: int) -> bool:
        return self.motion.guiding_ns if ns else self.motion.guiding_we


def make_driver(slew_rate: float = 5.0) -> IPyDriver:
    """The mount simulator: one device, "Python Mount", slewing at `slew_rate` deg/s."""
    motion = EquatorialMotion(slew_rate=slew_rate)
    hardware = SimulatedMount(motion, lst=lambda: 0.0)
    mount = Mount(hardware, latitude=LATITUDE, longitude=LONGITUDE,
                  limits=MountLimits(min_altitude=0.0), park_position=(0.0, 90.0),
                  guider=hardware)
    hardware.lst = mount.local_sidereal_time
    # It starts at its park position (pointing at the pole), unparked, not tracking.
    motion.sync(mount.local_sidereal_time(), 90.0)
    device = Device(DEVICE, roles=[mount], driver_exec=EXEC)
    return IPyDriver(device)


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_telescope``: the mount served, or on stdin/stdout under an INDI
    server."""
    simulator_main(__doc__, argv, make_driver, ("--slew-rate", 5.0, "degrees per second"))
