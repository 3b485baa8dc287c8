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

Star size, as indilib's ``indi_simulator_focus`` and more: SEEING_SETTINGS (SIM_SEEING, the
seeing in arcseconds) and FWHM (SIM_FWHM, read-only, the stars' full width at half maximum in
arcseconds at the focuser's position, sent as it moves), and our own FOCUS_SIMULATION
(BEST_POSITION, where focus is best; STEPS_TO_DOUBLE, how far from there the stars are twice
as wide; STEPS_PER_DEGREE, how far the best position moves for a degree of temperature), so a
test can place the focus. Our CCD simulator snoops FWHM from the focuser its ACTIVE_DEVICES
names and draws its stars that wide (`indipysimulators.ccd`).

Temperature: FOCUS_TEMPERATURE (TEMPERATURE, read-only, C: indilib's focusers' name) is the
tube's temperature, which our SIM_TEMPERATURE (TEMPERATURE) sets; a change of t degrees moves
the best position by STEPS_PER_DEGREE x t steps (the tube shrinking as the night cools), and
FOCUS_SIMULATION and FWHM are sent again, so a focus made warm is soft once it has cooled.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import NumberVector
from indipydriver.rxevents import newNumberVector
from indipydriver.standard import FilterWheel
from indipydriver.standard import Focuser
from indipydriver.standard import LinearMotion
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import Param
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build

from .serving import simulator_main
from .siderole import SideRole

FOCUSER = "Python Focuser"
WHEEL = "Python Filter Wheel"
EXEC = "indipy_simulator_focus"
FILTERS = ("Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR", "Luminance")
#: Where the simulated focuser starts, its travel, and the default best focus (mid-travel).
START, MAX_POSITION = 50000, 100000
SEEING = 3.5  # arcseconds, indilib's default SIM_SEEING
STEPS_TO_DOUBLE = 30
#: The tube's temperature at start (C), and how far the best position moves a degree.
TEMPERATURE = 10.0
STEPS_PER_DEGREE = 20.0


@dataclass
class StarSize:
    """The stars' FWHM (arcseconds) at a focuser position.

    Model: FWHM = seeing * sqrt(1 + 3 (d / steps_to_double)^2), d the distance from the best
    position. The blur of a defocused telescope grows linearly with d and adds to the seeing
    in quadrature, so the curve is a hyperbola: the seeing at the best position, exactly twice
    it at `steps_to_double`, and straight lines (a V) far from focus, which is what focusing
    software fits. (indilib's simulator uses seeing + 0.5625 t^2, a parabola with no V.)
    """

    seeing: float = SEEING
    best_position: float = MAX_POSITION / 2
    steps_to_double: float = STEPS_TO_DOUBLE
    temperature: float = TEMPERATURE
    steps_per_degree: float = STEPS_PER_DEGREE

    def warm_to(self, celsius: float) -> None:
        """The tube is at `celsius` now: the best position moves `steps_per_degree` a degree."""
        self.best_position += self.steps_per_degree * (celsius - self.temperature)
        self.temperature = celsius

    def fwhm(self, position: float) -> float:
        d = (position - self.best_position) / self.steps_to_double
        return self.seeing * math.sqrt(1 + 3 * d * d)


#: The star-size vectors: indilib's focus simulator's two (names, members, units), then ours.
STAR_SIZE_VECTORS = (
    VectorSpec("SEEING_SETTINGS", "Seeing", "Settings", "rw", (
        NumberSpec("SIM_SEEING", "arcseconds", "%4.2f", 0, 60, 0, Param("seeing")),
    ), state="Ok", timeout=60),
    VectorSpec("FWHM", "FWHM", "Main Control", "ro", (
        NumberSpec("SIM_FWHM", "arcseconds", "%4.2f", 0, 1e6, 0, Param("fwhm")),
    ), state="Ok"),
    VectorSpec("FOCUS_SIMULATION", "Focus simulation", "Simulation", "rw", (
        NumberSpec("BEST_POSITION", "Best position", "%.f", 0, Param("max_position"), 1,
                   Param("best_position")),
        NumberSpec("STEPS_TO_DOUBLE", "Steps to double FWHM", "%.f", 1, Param("max_position"),
                   1, Param("steps_to_double")),
        NumberSpec("STEPS_PER_DEGREE", "Best position's steps per degree", "%.1f", -10000,
                   10000, 1, Param("steps_per_degree")),
    ), state="Ok", timeout=60),
    VectorSpec("FOCUS_TEMPERATURE", "Temperature", "Main Control", "ro", (
        NumberSpec("TEMPERATURE", "Celsius", "%6.2f", -50, 70, 0, Param("temperature")),
    ), state="Ok"),
    VectorSpec("SIM_TEMPERATURE", "Set temperature", "Simulation", "rw", (
        NumberSpec("TEMPERATURE", "Celsius", "%6.2f", -50, 70, 0.1, Param("temperature")),
    ), state="Ok", timeout=60),
)


class StarSizeRole(SideRole):
    """The focuser device's star-size vectors (a role beside `Focuser`, defined while
    connected as indilib defines SEEING_SETTINGS and FWHM): a client's new seeing or focus
    simulation is taken and FWHM sent again; `moved` sends FWHM for a new position."""

    def __init__(self, size: StarSize, position: float,
                 max_position: int = MAX_POSITION) -> None:
        self.size = size
        self.position = position
        made = build(STAR_SIZE_VECTORS, seeing=size.seeing, fwhm=size.fwhm(position),
                     max_position=max_position, best_position=size.best_position,
                     steps_to_double=size.steps_to_double,
                     steps_per_degree=size.steps_per_degree, temperature=size.temperature)
        super().__init__(made)
        self.seeing = made.vector("SEEING_SETTINGS", NumberVector)
        self.fwhm = made.vector("FWHM", NumberVector)
        self.simulation = made.vector("FOCUS_SIMULATION", NumberVector)
        self.temperature = made.vector("FOCUS_TEMPERATURE", NumberVector)
        self.set_temperature = made.vector("SIM_TEMPERATURE", NumberVector)

    async def connected(self) -> None:
        await self._send_fwhm()

    async def new_numbers(self, event: newNumberVector) -> None:
        if event.vectorname == "SEEING_SETTINGS":
            self.size.seeing = event.getfloatvalue("SIM_SEEING")
            self.seeing["SIM_SEEING"] = self.size.seeing
            await self.seeing.send_setVector(state="Ok")
        elif event.vectorname == "FOCUS_SIMULATION":
            if "BEST_POSITION" in event:
                self.size.best_position = event.getfloatvalue("BEST_POSITION")
            if "STEPS_TO_DOUBLE" in event:
                self.size.steps_to_double = event.getfloatvalue("STEPS_TO_DOUBLE")
            if "STEPS_PER_DEGREE" in event:
                self.size.steps_per_degree = event.getfloatvalue("STEPS_PER_DEGREE")
            await self._send_simulation()
        elif event.vectorname == "SIM_TEMPERATURE":
            self.size.warm_to(event.getfloatvalue("TEMPERATURE"))
            self.set_temperature["TEMPERATURE"] = self.size.temperature
            self.temperature["TEMPERATURE"] = self.size.temperature
            await self.set_temperature.send_setVector(state="Ok")
            await self.temperature.send_setVector(state="Ok")
            await self._send_simulation()
        await self._send_fwhm()

    async def _send_simulation(self) -> None:
        self.simulation["BEST_POSITION"] = self.size.best_position
        self.simulation["STEPS_TO_DOUBLE"] = self.size.steps_to_double
        self.simulation["STEPS_PER_DEGREE"] = self.size.steps_per_degree
        await self.simulation.send_setVector(state="Ok")

    async def moved(self, position: float) -> None:
        """The focuser is at `position` now: FWHM follows it."""
        self.position = position
        await self._send_fwhm()

    async def _send_fwhm(self) -> None:
        fwhm = round(self.size.fwhm(self.position), 2)
        if self.device is None or not self.device.is_connected:
            self.fwhm["SIM_FWHM"] = fwhm
            return
        if fwhm != self.fwhm.getfloatvalue("SIM_FWHM"):
            self.fwhm["SIM_FWHM"] = fwhm
            await self.fwhm.send_setVector(state="Ok")


class SimulatedFocuser:
    """`FocuserHardware` for a focuser that exists only in `LinearMotion`, run against the
    wall clock; `speed` (FOCUS_SPEED, 1..5) multiplies the base speed. `moved`, if given, is
    awaited with the position at each step of a move and at its end (before the move's Ok,
    so a camera snooping the star size has it before a client hears the focuser is there)."""

    def __init__(self, motion: LinearMotion, clock: Callable[[], float] = time.monotonic,
                 step: float = 0.05,
                 moved: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.motion = motion
        self.base_speed = motion.speed
        self.clock = clock
        self.step = step
        self.moved = moved
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
            if self.moved is not None:
                await self.moved(round(self.motion.position))

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
    """Two devices: "Python Focuser" (`speed` steps a second at FOCUS_SPEED 1, with the star
    size vectors) and "Python Filter Wheel" (eight filters)."""
    motion = LinearMotion(position=START, speed=speed, minimum=0, maximum=MAX_POSITION)
    stars = StarSizeRole(StarSize(), START)
    hardware = SimulatedFocuser(motion, moved=stars.moved)
    focuser = Focuser(hardware, max_position=MAX_POSITION, position=START, max_speed=5)
    wheel = FilterWheel(SimulatedWheel(len(FILTERS), seconds_per_slot), FILTERS)
    return IPyDriver(Device(FOCUSER, roles=[focuser, stars], driver_exec=EXEC),
                     Device(WHEEL, roles=[wheel], driver_exec=EXEC), star_size=stars)


def main(argv: list[str] | None = None) -> None:
    """``indipy_simulator_focus``: the focuser and the wheel served, or on stdin/stdout under
    an INDI server."""
    simulator_main(__doc__, argv, make_driver, ("--speed", 2000.0, "steps per second"))
