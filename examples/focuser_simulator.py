#!/usr/bin/env python3
"""A simulated focuser and filter wheel: absolute and relative moves, abort, a slot change.

Run it (no hardware needed)::

    python examples/focuser_simulator.py            # serves on localhost:7624
    python examples/focuser_simulator.py --port 7625 --speed 5000

or as an executable driver under any INDI server (INDI on stdin/stdout when stdin is not a
terminal, or with ``--stdio``), indilib's too::

    indiserver -p 7624 ./examples/focuser_simulator.py
    indiserver -p 7624 ./examples/exdrivers/indi_py_focuser     # its settings from INDIPY_FOCUS_SPEED

Then, in another terminal::

    indi_getprop -p 7624 "Python Focuser.DRIVER_INFO.DRIVER_INTERFACE"   # 8: a focuser
    indi_setprop -p 7624 "Python Focuser.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Focuser.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=42000"
    indi_setprop -p 7624 "Python Filter Wheel.CONNECTION.CONNECT=On"
    indi_setprop -p 7624 "Python Filter Wheel.FILTER_SLOT.FILTER_SLOT_VALUE=3"

What to expect: ABS_FOCUS_POSITION goes Busy and counts towards the target at the focuser's
speed (FOCUS_SPEED multiplies it), then Ok there; FOCUS_MOTION + REL_FOCUS_POSITION move in
or out by a number of steps; FOCUS_ABORT_MOTION stops a move where it is; a position beyond
FOCUS_MAX is refused with Alert. The wheel (DRIVER_INTERFACE 16) turns half a second per slot:
FILTER_SLOT Busy with the old slot, then Ok with the new one. In Ekos: "Python Focuser" as the
focuser and "Python Filter Wheel" as the filter wheel; the Focus tab's In/Out and Go to move it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Callable

from indipydriver import Device, IPyDriver
from indipydriver.standard import FilterWheel, Focuser, LinearMotion

FOCUSER = "Python Focuser"
WHEEL = "Python Filter Wheel"
FILTERS = ("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR", "Luminance")


class SimulatedFocuser:
    """`FocuserHardware` for a focuser that exists only in `LinearMotion`, run against the
    wall clock; `speed` (FOCUS_SPEED, 1..5) multiplies the base speed."""

    def __init__(self, motion: LinearMotion, clock: Callable[[], float] = time.monotonic,
                 step: float = 0.05) -> None:
        self.motion = motion
        self.base_speed = motion.speed
        self.clock = clock
        self.step = step
        self._last = clock()

    def _catch_up(self) -> None:
        now = self.clock()
        self.motion.advance(now - self._last)
        self._last = now

    async def move_to(self, steps: int) -> None:
        self._catch_up()
        self.motion.move_to(steps)
        while self.motion.moving:
            await asyncio.sleep(self.step)
            self._catch_up()

    async def position(self) -> int:
        self._catch_up()
        return round(self.motion.position)

    async def abort(self) -> None:
        self._catch_up()
        self.motion.stop()

    async def set_speed(self, speed: int) -> None:
        self._catch_up()
        self.motion.speed = self.base_speed * speed


class SimulatedWheel:
    """`FilterWheelHardware`: turning takes `seconds_per_slot` per slot, the short way."""

    def __init__(self, slots: int, seconds_per_slot: float = 0.5) -> None:
        self.slots = slots
        self.seconds_per_slot = seconds_per_slot
        self.slot = 1

    async def select(self, slot: int) -> None:
        distance = abs(slot - self.slot)
        distance = min(distance, self.slots - distance)
        await asyncio.sleep(distance * self.seconds_per_slot)
        self.slot = slot


def make_driver(speed: float = 2000.0, seconds_per_slot: float = 0.5) -> IPyDriver:
    """Two devices: "Python Focuser" (`speed` steps a second at FOCUS_SPEED 1) and "Python
    Filter Wheel" (eight filters)."""
    motion = LinearMotion(position=50000, speed=speed, minimum=0, maximum=100000)
    focuser = Focuser(SimulatedFocuser(motion), max_position=100000, position=50000,
                      max_speed=5)
    wheel = FilterWheel(SimulatedWheel(len(FILTERS), seconds_per_slot), FILTERS)
    return IPyDriver(Device(FOCUSER, roles=[focuser], driver_exec="indi_py_focuser"),
                     Device(WHEEL, roles=[wheel], driver_exec="indi_py_focuser"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="serve on this interface (default localhost)")
    parser.add_argument("--port", type=int, default=None, help="serve on this port (default 7624)")
    parser.add_argument("--stdio", action="store_true",
                        help="speak INDI on stdin/stdout (what indiserver expects)")
    parser.add_argument("--speed", type=float, default=2000.0, help="steps per second")
    args = parser.parse_args()
    # As examples/ccd_simulator.py: serve on a port when asked to or run from a terminal; under
    # an INDI server (stdin not a terminal) speak INDI on stdin/stdout.
    serve = not args.stdio and (args.port is not None or args.host is not None
                                or sys.stdin.isatty())
    driver = make_driver(args.speed)
    if not serve:
        # stdout carries INDI: logs go to stderr (the server's log).
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        asyncio.run(driver.asyncrun())
        return
    from indipyserver import IPyServer

    host, port = args.host or "localhost", args.port or 7624
    logging.basicConfig(level=logging.INFO)
    print(f"{FOCUSER} and {WHEEL} served on {host}:{port}; Ctrl-C to stop")
    try:
        IPyServer(driver, host=host, port=port).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
