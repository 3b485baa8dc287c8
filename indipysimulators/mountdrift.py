"""The mount simulator's tracking errors: periodic error (SIM_PE) and drift (SIM_DRIFT).

A real mount does not hold a star: its worm wheel's periodic error swings the RA axis back and
forth (a sine of AMPLITUDE arcseconds over PERIOD seconds here, the shape PHD2's and INDIGO's
simulators use), and a polar axis that is not quite on the pole drifts the star steadily (RA
and DEC arcseconds a minute). Both move where the mount truly points (EQUATORIAL_PE), not what
it reports (EQUATORIAL_EOD_COORD): that is what a guider has to see on its camera and undo
with pulses. The offsets are of the axes (arcseconds of RA axis angle; on the sky an RA offset
shrinks by cos(Dec)), added to SIM_POINTING_ERROR's by `telescope.SimulatedMount`.

`TrackingError` is the arithmetic, pure, its clock passed in; `DriftRole` is the two vectors
beside the mount role, and while either is non-zero it sends EQUATORIAL_PE four times a second
(the mount's own poll sends it once a second), so a camera that snoops it images a star that
moves as smoothly as a real one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from indipydriver import NumberVector
from indipydriver.rxevents import newNumberVector
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.role import RoleTasks
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import Param
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build

from .siderole import SideRole

__all__ = ["DRIFT_VECTORS", "PE_SEND_SECONDS", "DriftRole", "TrackingError"]

#: How often EQUATORIAL_PE is sent while the mount wanders (seconds).
PE_SEND_SECONDS = 0.25


@dataclass
class TrackingError:
    """Periodic error and drift at a time on its owner's clock (the simulator gives it the sky
    clock's seconds): `offset(now)` in arcminutes of the RA and Dec axes
    (SIM_POINTING_ERROR's unit). Changing a rate keeps the drift gathered so
    far (`set_drift`), so the truth never jumps."""

    amplitude: float = 0.0  # arcsec of RA axis, the sine's half swing
    period: float = 480.0  # seconds
    ra_rate: float = 0.0  # arcsec a minute
    dec_rate: float = 0.0  # arcsec a minute
    origin: float = 0.0  # when the drift's current rates started (monotonic seconds)
    gathered: tuple[float, float] = (0.0, 0.0)  # arcsec of drift before `origin`
    phase_origin: float = field(default_factory=time.monotonic)

    @property
    def active(self) -> bool:
        return bool(self.amplitude or self.ra_rate or self.dec_rate)

    def drift(self, now: float) -> tuple[float, float]:
        """The drift gathered by `now`, arcseconds of RA and Dec."""
        minutes = (now - self.origin) / 60.0
        return (self.gathered[0] + self.ra_rate * minutes,
                self.gathered[1] + self.dec_rate * minutes)

    def periodic(self, now: float) -> float:
        """The periodic error at `now`, arcseconds of RA."""
        if not self.period > 0:
            return 0.0
        return self.amplitude * math.sin(2 * math.pi * (now - self.phase_origin) / self.period)

    def offset(self, now: float) -> tuple[float, float]:
        ra, dec = self.drift(now)
        return (ra + self.periodic(now)) / 60.0, dec / 60.0

    def set_drift(self, ra_rate: float, dec_rate: float, now: float) -> None:
        self.gathered = self.drift(now)
        self.origin = now
        self.ra_rate, self.dec_rate = ra_rate, dec_rate


#: Our simulation's periodic error and drift (defaults 0: the mount tracks perfectly).
DRIFT_VECTORS = (
    VectorSpec("SIM_PE", "Periodic error", "Simulation", "rw", (
        NumberSpec("AMPLITUDE", "Amplitude (arcsec)", "%.2f", 0, 600, 1, Param("amplitude")),
        NumberSpec("PERIOD", "Period (s)", "%.1f", 1, 3600, 1, Param("period")),
    ), state="Ok", timeout=60),
    VectorSpec("SIM_DRIFT", "Drift", "Simulation", "rw", (
        NumberSpec("RA", "RA (arcsec/min)", "%.2f", -600, 600, 0.1, Param("ra_rate")),
        NumberSpec("DEC", "Dec (arcsec/min)", "%.2f", -600, 600, 0.1, Param("dec_rate")),
    ), state="Ok", timeout=60),
)

#: Each member's range, checked before anything changes.
_RANGES = {"AMPLITUDE": (0.0, 600.0), "PERIOD": (1.0, 3600.0), "RA": (-600.0, 600.0),
           "DEC": (-600.0, 600.0)}


class DriftRole(SideRole):
    """SIM_PE and SIM_DRIFT beside the mount role: the client's values taken into
    `error`, and EQUATORIAL_PE sent through `send_pointing` while the mount wanders."""

    def __init__(self, error: TrackingError, send_pointing: Callable[[], Awaitable[None]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.error = error
        self.send_pointing = send_pointing
        self.clock = clock
        made = build(DRIFT_VECTORS, amplitude=error.amplitude, period=error.period,
                     ra_rate=error.ra_rate, dec_rate=error.dec_rate)
        super().__init__(made)
        self.pe = made.vector("SIM_PE", NumberVector)
        self.drift = made.vector("SIM_DRIFT", NumberVector)
        self._tasks = RoleTasks()

    def attach(self, device: RoleDevice) -> None:
        super().attach(device)
        self._tasks.attach(device)

    async def connected(self) -> None:
        self._tasks.start(self._wander(), "Mount tracking error")

    async def disconnected(self) -> None:
        await self._tasks.stop()

    async def _wander(self) -> None:
        while True:
            if self.error.active:
                await self.send_pointing()
            await asyncio.sleep(PE_SEND_SECONDS)

    async def new_numbers(self, event: newNumberVector) -> None:
        vector = self.pe if event.vectorname == "SIM_PE" else self.drift
        values = {name: vector.getfloatvalue(name) for name in vector}
        for name in values:
            if name in event:
                values[name] = event.getfloatvalue(name)
        for name, value in values.items():
            low, high = _RANGES[name]
            if not low <= value <= high:
                await vector.send_setVector(
                    message=f"{name} {value:g} is outside {low:g}..{high:g}", state="Alert")
                return
        if vector is self.pe:
            self.error.amplitude, self.error.period = values["AMPLITUDE"], values["PERIOD"]
        else:
            self.error.set_drift(values["RA"], values["DEC"], self.clock())
        for name, value in values.items():
            vector[name] = value
        await vector.send_setVector(state="Ok")
        await self.send_pointing()
