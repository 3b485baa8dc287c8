#!/usr/bin/env python3
"""A simulated equatorial mount: goto, sync, abort, park and tracking, its RA and Dec moving.

Run it (no hardware needed)::

    python examples/mount_simulator.py              # serves on localhost:7624
    python examples/mount_simulator.py --port 7625 --slew-rate 10

or as an executable driver under any INDI server (INDI on stdin/stdout when stdin is not a
terminal, or with ``--stdio``), indilib's too::

    indiserver -p 7624 ./examples/mount_simulator.py
    indiserver -p 7624 ./examples/exdrivers/indi_py_mount     # its settings from INDIPY_SLEW_RATE

Then, in another terminal::

    indi_getprop -p 7624 "Python Mount.DRIVER_INFO.*"        # DRIVER_INTERFACE 1: a mount
    indi_setprop -p 7624 "Python Mount.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Mount.EQUATORIAL_EOD_COORD.RA;DEC=5.5;40"
    indi_getprop -p 7624 "Python Mount.EQUATORIAL_EOD_COORD.*"   # Busy, moving; then Ok

What to expect: a goto sends EQUATORIAL_EOD_COORD Busy four times a second with the
coordinates on their way, then Ok at the target, tracking (the sky's RA stays put). A target
below the horizon (the site is Greenwich) is refused with Alert and a message.
TELESCOPE_ABORT_MOTION stops a slew where it is; TELESCOPE_PARK slews to the pole and stops
tracking, and a goto is refused until UNPARK. With tracking off (TELESCOPE_TRACK_STATE) the
mount stands still and its RA grows with sidereal time. In Ekos: a profile with "Python Mount"
as the mount (remote host), then the Mount tab's Slew, Stop and Park.

The hardware here is `SimulatedMount`: what you write for a real mount is the same few
coroutines talking to its controller instead of to `EquatorialMotion`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable

from indipydriver import Device, IPyDriver
from indipydriver.standard import EquatorialMotion, Mount, MountLimits

DEVICE = "Python Mount"

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
        self.motion.slew_to(ra, dec)
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


def make_driver(slew_rate: float = 5.0) -> IPyDriver:
    """The mount simulator: one device, "Python Mount", slewing at `slew_rate` deg/s."""
    motion = EquatorialMotion(slew_rate=slew_rate)
    hardware = SimulatedMount(motion, lst=lambda: 0.0)
    mount = Mount(hardware, latitude=LATITUDE, longitude=LONGITUDE,
                  limits=MountLimits(min_altitude=0.0), park_position=(0.0, 90.0))
    hardware.lst = mount.local_sidereal_time
    # It starts at its park position (pointing at the pole), unparked, not tracking.
    motion.sync(mount.local_sidereal_time(), 90.0)
    device = Device(DEVICE, roles=[mount], driver_exec="indi_py_mount")
    return IPyDriver(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="serve on this interface (default localhost)")
    parser.add_argument("--port", type=int, default=None, help="serve on this port (default 7624)")
    parser.add_argument("--stdio", action="store_true",
                        help="speak INDI on stdin/stdout (what indiserver expects)")
    parser.add_argument("--slew-rate", type=float, default=5.0, help="degrees per second")
    args = parser.parse_args()
    # As examples/ccd_simulator.py: serve on a port when asked to or run from a terminal; under
    # an INDI server (stdin not a terminal) speak INDI on stdin/stdout.
    serve = not args.stdio and (args.port is not None or args.host is not None
                                or sys.stdin.isatty())
    driver = make_driver(args.slew_rate)
    if not serve:
        # stdout carries INDI: logs go to stderr (the server's log).
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        asyncio.run(driver.asyncrun())
        return
    from indipyserver import IPyServer

    host, port = args.host or "localhost", args.port or 7624
    logging.basicConfig(level=logging.INFO)
    print(f"{DEVICE} served on {host}:{port}; Ctrl-C to stop")
    try:
        IPyServer(driver, host=host, port=port).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
