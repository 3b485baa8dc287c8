"""A simulated focuser and filter wheel: absolute and relative moves, abort, a slot change.

Installed as the executable ``indipy_simulator_focus`` (``python examples/focuser_simulator.py``
runs the same)::

    indipy_simulator_focus                          # serves on localhost:7624
    indipy_simulator_focus --port 7625 --speed 5000
    indiserver -p 7624 indipy_simulator_focus       # under indilib's server

What to expect: ABS_FOCUS_POSITION goes Busy and counts towards the target at the focuser's
speed (FOCUS_SPEED multiplies it), then Ok there; FOCUS_MOTION + REL_FOCUS_POSITION move in
or out by a number of steps; FOCUS_ABORT_MOTION stops a move where it is; a position beyond
FOCUS_MAX is refused with Alert. The wheel (DRIVER_INTERFACE 16) turns half a second per slot:
FILTER_SLOT Busy with the old slot, then Ok with the new one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.standard import FilterWheel
from indipydriver.standard import Focuser
from indipydriver.standard import LinearMotion

from .serving import simulator_main

FOCUSER = "Python Focuser"
WHEEL = "Python Filter Wheel"
EXEC = "indipy_simulator_focus"
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
    return IPyDriver(Device(FOCUSER, roles=[focuser], driver_exec=EXEC),
                     Device(WHEEL, roles=[wheel], driver_exec=EXEC))


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_focus``: the focuser and the wheel served, or on stdin/stdout under
    an INDI server."""
    simulator_main(__doc__, argv, make_driver, ("--speed", 2000.0, "steps per second"))
