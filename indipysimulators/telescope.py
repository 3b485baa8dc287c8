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

Pointing error: SIM_POINTING_ERROR (RA_ERROR, DEC_ERROR, arcminutes of right ascension and
declination, 0 by default) is an offset of the axes, as an unaligned mount's: where the mount
truly points is where it reports (EQUATORIAL_EOD_COORD) plus that error, and it publishes the
true pointing as EQUATORIAL_PE (RA_PE hours, DEC_PE degrees, JNow: the name indilib's CCD
simulator snoops for the pointing it images; our camera does the same). A SYNC tells the mount
where it truly points, as a real mount's pointing model takes it: the reported coordinates
become the synced ones and the error what is left (none after a sync on a solved frame; a sync
on the wrong star leaves the difference). Tracking errors: SIM_PE (AMPLITUDE arcsec, PERIOD s:
the worm's periodic error in RA) and SIM_DRIFT (RA, DEC arcsec a minute: a polar axis off the
pole), 0 by default, move the true pointing too, and no sync takes them out
(`mountdrift`); guide pulses move it back. SIM_POLAR_ERROR (ALT, AZ, arcminutes) tilts the RA
axis off the pole (above it, east of it): the true pointing then drifts as the mount tracks,
and three frames turned in RA find the tilt (the Astrometry Agent's CALCULATE_PA_ERROR).
TELESCOPE_INFO says 430 mm (80 mm aperture), the
focal length our and indilib's CCD simulators image the sky at.

The hardware here is `SimulatedMount`: what you write for a real mount is the same few
coroutines talking to its controller instead of to `EquatorialMotion`
(docs/guides/mount_driver.rst walks through it).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime

from indipycore.astro import hour_angle
from indipycore.astro import hours_between
from indipycore.astro import wrap_hours
from indipycore.skyclock import SkyClock
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberVector
from indipydriver.rxevents import newNumberVector
from indipydriver.standard import EquatorialMotion
from indipydriver.standard import Mount
from indipydriver.standard import MountLimits
from indipydriver.standard.mounttypes import pier_side_for
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import Param
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build

from .mountdrift import DriftRole
from .mountdrift import TrackingError
from .serving import simulator_main
from .siderole import SideRole
from .skytime import sky_time

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
        #: The axes' offset from the sky (arcminutes of RA and Dec): truth = reported + error.
        self.error = (0.0, 0.0)
        #: The tracking error now (arcminutes of RA and Dec, `mountdrift.TrackingError`'s
        #: offset): added to `error`, the axes' wander that no sync takes out.
        self.wander: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0)
        #: The RA axis' altitude above the pole and azimuth east of it (arcminutes).
        self.polar = (0.0, 0.0)
        #: The site's latitude (degrees): the polar error turns about its horizon.
        self.latitude: Callable[[], float] = lambda: LATITUDE
        #: Told where the mount truly points each time its position is read.
        self.on_position: Callable[[float, float], Awaitable[None]] | None = None

    def true_pointing(self) -> tuple[float, float]:
        """Where the mount truly points, JNow (RA hours, Dec degrees): the axes' offset and
        the tracking error's wander, then the axis' tilt from the pole."""
        wander = self.wander()
        ra, dec = true_pointing(self.motion.ra, self.motion.dec,
                                (self.error[0] + wander[0], self.error[1] + wander[1]))
        return polar_tilted(ra, dec, self.lst(), self.latitude(), self.polar)

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
        if self.on_position is not None:
            await self.on_position(*self.true_pointing())
        return self.motion.ra, self.motion.dec

    async def abort(self) -> None:
        self._catch_up()
        self.motion.stop()

    async def sync(self, ra: float, dec: float) -> None:
        """The client says where the mount truly points: the reported coordinates become
        these, the error what is left between them and the truth."""
        self._catch_up()
        true_ra, true_dec = polar_tilted(*self.true_pointing(), self.lst(), self.latitude(),
                                         self.polar, undo=True)
        self.motion.sync(ra, dec)
        wander = self.wander()
        self.error = (hours_between(self.motion.ra, true_ra) * 15.0 * 60.0 - wander[0],
                      (true_dec - self.motion.dec) * 60.0 - wander[1])

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


def true_pointing(ra: float, dec: float, error: tuple[float, float]) -> tuple[float, float]:
    """Reported (`ra` hours, `dec` degrees) plus `error` (arcminutes of RA and Dec); a
    declination carried over a pole comes back on the other side, 12 hours round."""
    true_ra = ra + error[0] / 60.0 / 15.0
    true_dec = dec + error[1] / 60.0
    if true_dec > 90.0:
        true_dec, true_ra = 180.0 - true_dec, true_ra + 12.0
    elif true_dec < -90.0:
        true_dec, true_ra = -180.0 - true_dec, true_ra + 12.0
    return wrap_hours(true_ra), true_dec


def _turned(v: tuple[float, float, float], axis: tuple[float, float, float],
            degrees: float) -> tuple[float, float, float]:
    """`v` turned by `degrees` about the unit `axis` (right hand, Rodrigues' formula)."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    kx, ky, kz = axis
    x, y, z = v
    cross = (ky * z - kz * y, kz * x - kx * z, kx * y - ky * x)
    dot = (kx * x + ky * y + kz * z) * (1 - c)
    return (x * c + cross[0] * s + kx * dot, y * c + cross[1] * s + ky * dot,
            z * c + cross[2] * s + kz * dot)


def polar_tilted(ra: float, dec: float, lst: float, latitude: float,
                 polar: tuple[float, float], *, undo: bool = False) -> tuple[float, float]:
    """Where a direction (`ra` hours, `dec` degrees) of a mount whose RA axis is `polar`
    (arcminutes above the pole, east of it) off the pole truly points, at sidereal time
    `lst` (`undo`: the other way). The altitude error turns the sky about the east point of
    the horizon (the pole towards the zenith), the azimuth error about the zenith (north
    towards east). Frame: x hour angle 0 on the equator, y east, z the pole."""
    if polar == (0.0, 0.0):
        return ra, dec
    h, d, phi = math.radians((lst - ra) * 15.0), math.radians(dec), math.radians(latitude)
    v = (math.cos(d) * math.cos(h), -math.cos(d) * math.sin(h), math.sin(d))
    east = (0.0, 1.0, 0.0)
    down = (-math.cos(phi), 0.0, -math.sin(phi))  # the nadir: north turns towards east
    alt, az = polar[0] / 60.0, polar[1] / 60.0
    if undo:
        v = _turned(_turned(v, down, -az), east, -alt)
    else:
        v = _turned(_turned(v, east, alt), down, az)
    true_h = math.atan2(-v[1], v[0])
    true_dec = math.degrees(math.asin(max(-1.0, min(1.0, v[2]))))
    return wrap_hours(lst - math.degrees(true_h) / 15.0), true_dec


#: Our simulation's pointing error, and indilib's name for the pointing a camera images.
POINTING_VECTORS = (
    VectorSpec("SIM_POINTING_ERROR", "Pointing error", "Simulation", "rw", (
        NumberSpec("RA_ERROR", "RA error (arcmin)", "%.2f", -600, 600, 0, Param("ra_error")),
        NumberSpec("DEC_ERROR", "Dec error (arcmin)", "%.2f", -600, 600, 0, Param("dec_error")),
    ), state="Ok", timeout=60),
    VectorSpec("SIM_POLAR_ERROR", "Polar error", "Simulation", "rw", (
        NumberSpec("ALT", "Axis above the pole (arcmin)", "%.2f", -600, 600, 0, Param("alt")),
        NumberSpec("AZ", "Axis east of the pole (arcmin)", "%.2f", -600, 600, 0, Param("az")),
    ), state="Ok", timeout=60),
    VectorSpec("EQUATORIAL_PE", "True pointing", "Simulation", "ro", (
        NumberSpec("RA_PE", "RA (hh:mm:ss)", "%010.6m", 0, 24, 0, Param("ra")),
        NumberSpec("DEC_PE", "DEC (dd:mm:ss)", "%010.6m", -90, 90, 0, Param("dec")),
    ), state="Ok"),
)


class PointingErrorRole(SideRole):
    """SIM_POINTING_ERROR and EQUATORIAL_PE beside the mount role: a client's error taken,
    the true pointing sent as the mount's position is read."""

    def __init__(self, hardware: SimulatedMount) -> None:
        self.hardware = hardware
        ra, dec = hardware.true_pointing()
        made = build(POINTING_VECTORS, ra_error=0.0, dec_error=0.0, ra=ra, dec=dec, alt=0.0,
                     az=0.0)
        super().__init__(made)
        self.error = made.vector("SIM_POINTING_ERROR", NumberVector)
        self.polar = made.vector("SIM_POLAR_ERROR", NumberVector)
        self.pe = made.vector("EQUATORIAL_PE", NumberVector)
        hardware.on_position = self.pointed

    async def connected(self) -> None:
        await self._send_error()

    async def new_numbers(self, event: newNumberVector) -> None:
        if event.vectorname == "SIM_POLAR_ERROR":
            alt, az = self.hardware.polar
            alt = event.getfloatvalue("ALT") if "ALT" in event else alt
            az = event.getfloatvalue("AZ") if "AZ" in event else az
            if not (abs(alt) <= 600 and abs(az) <= 600):
                await self.polar.send_setVector(
                    message="a polar error is at most 600 arcminutes", state="Alert")
                return
            self.hardware.polar = (alt, az)
            self.polar["ALT"], self.polar["AZ"] = alt, az
            await self.polar.send_setVector(state="Ok")
            await self.pointed(*self.hardware.true_pointing())
            return
        ra_error, dec_error = self.hardware.error
        if "RA_ERROR" in event:
            ra_error = event.getfloatvalue("RA_ERROR")
        if "DEC_ERROR" in event:
            dec_error = event.getfloatvalue("DEC_ERROR")
        if not (abs(ra_error) <= 600 and abs(dec_error) <= 600):
            await self.error.send_setVector(
                message="a pointing error is at most 600 arcminutes", state="Alert")
            return
        self.hardware.error = (ra_error, dec_error)
        await self._send_error()
        await self.pointed(*self.hardware.true_pointing())

    async def _send_error(self) -> None:
        self.error["RA_ERROR"], self.error["DEC_ERROR"] = self.hardware.error
        if self.device is not None and self.device.is_connected:
            await self.error.send_setVector(state="Ok")

    async def pointed(self, ra: float, dec: float) -> None:
        """The mount truly points at (`ra`, `dec`) JNow: EQUATORIAL_PE says so when it
        moved, and SIM_POINTING_ERROR when a sync changed the error."""
        if self.device is None or not self.device.is_connected:
            return
        if (self.error.getfloatvalue("RA_ERROR"), self.error.getfloatvalue("DEC_ERROR")) \
                != self.hardware.error:
            await self._send_error()
        if (ra, dec) != (self.pe.getfloatvalue("RA_PE"), self.pe.getfloatvalue("DEC_PE")):
            self.pe["RA_PE"], self.pe["DEC_PE"] = ra, dec
            await self.pe.send_setVector(state="Ok")


def sky_seconds_of(now: Callable[[], datetime]) -> Callable[[], float]:
    """Seconds on the clock `now` (a sky clock's, or the wall's), for `TrackingError`."""
    return lambda: now().timestamp()


def make_driver(slew_rate: float = 5.0, device_name: str = DEVICE,
                sky_clock: SkyClock | None = None) -> IPyDriver:
    """The mount simulator: one device, `device_name` ("Python Mount"), slewing at
    `slew_rate` deg/s; another name makes a second mount beside the first on one server
    (as `ccd.make_driver`'s name makes a second camera). Its sidereal time, meridian and
    pier side follow `sky_clock`, else ``INDIPY_AGENT_SKY_CLOCK``, else the wall clock."""
    motion = EquatorialMotion(slew_rate=slew_rate)
    hardware = SimulatedMount(motion, lst=lambda: 0.0)
    sky_now = sky_time(sky_clock)
    mount = Mount(hardware, latitude=LATITUDE, longitude=LONGITUDE,
                  limits=MountLimits(min_altitude=0.0), park_position=(0.0, 90.0),
                  guider=hardware, aperture=80.0, focal_length=430.0,
                  clock=sky_now)
    hardware.lst = mount.local_sidereal_time
    hardware.latitude = lambda: mount.site.getfloatvalue("LAT")
    # It starts at its park position (pointing at the pole), unparked, not tracking; the
    # motion is told the sidereal time now, so the sky turns under it from here.
    motion.sync(mount.local_sidereal_time(), 90.0)
    motion.advance(0.0, mount.local_sidereal_time())
    pointing = PointingErrorRole(hardware)
    # Periodic error and drift run on the sky's seconds (issue 90): a rehearsal at x60
    # sees a night's worm cycles and drift, as it sees a night's sky.
    sky_seconds = sky_seconds_of(sky_now)
    tracking = TrackingError(phase_origin=sky_seconds())
    hardware.wander = lambda: tracking.offset(sky_seconds())

    async def send_pointing() -> None:
        await pointing.pointed(*hardware.true_pointing())

    drift = DriftRole(tracking, send_pointing, clock=sky_seconds)
    device = Device(device_name, roles=[mount, pointing, drift], driver_exec=EXEC)
    return IPyDriver(device)


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_telescope``: the mount served, or on stdin/stdout under an INDI
    server."""
    simulator_main(__doc__, argv, make_driver, ("--slew-rate", 5.0, "degrees per second"))
