"""`TimedGuide`: indilib's timed guiding (the GUIDER bit) as a role, on an Alpaca PulseGuide.

An Alpaca telescope or camera whose CanPulseGuide is True guides by ``pulseguide``
(Direction 0 north, 1 south, 2 east, 3 west; Duration in ms) and says ``ispulseguiding``
until the pulse is over. indilib's mount and ST4 camera take the same thing as two number
vectors, TELESCOPE_TIMED_GUIDE_NS (TIMED_GUIDE_N, TIMED_GUIDE_S) and
TELESCOPE_TIMED_GUIDE_WE (TIMED_GUIDE_W, TIMED_GUIDE_E), in ms: a client sets one member
(PHD2, Ekos' guider), the vector is Busy while the pulse runs and Ok, back at 0, when it is
done (Alert with the Alpaca device's message if it failed). Busy is sent once the device has
taken the pulse, as indilib's GuiderInterface does: a client that sees Busy and asks the
device finds it guiding (sent before, a loaded machine let a client read IsPulseGuiding False
while the vector said Busy). Names, labels, format and range
are those of indilib's simulators; the group is the mount's Motion Control or the camera's
Guider Control. A new pulse on an axis replaces the one running there (the other axis
guides at the same time, as the two vectors are independent in indilib).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from indipycore.interface import Interface
from indipydriver.rxevents import ClientVectorEvent
from indipydriver.rxevents import newNumberVector
from indipydriver.standard.role import Operation
from indipydriver.standard.role import RoleDevice
from indipydriver.standard.vectortables import NumberSpec
from indipydriver.standard.vectortables import VectorSpec
from indipydriver.standard.vectortables import build
from indipydriver.vectors import NumberVector
from indipydriver.vectors import PropertyVector

from .client import AlpacaClient

__all__ = ["ALPACA_DIRECTIONS", "Pulse", "Started", "TimedGuide", "alpaca_pulse"]

#: INDI's member -> (direction letter, Alpaca GuideDirection).
_MEMBERS = {"TIMED_GUIDE_N": ("N", 0), "TIMED_GUIDE_S": ("S", 1),
            "TIMED_GUIDE_W": ("W", 3), "TIMED_GUIDE_E": ("E", 2)}
#: Alpaca's GuideDirection of each direction letter.
ALPACA_DIRECTIONS = {letter: number for letter, number in _MEMBERS.values()}


def _ms(name: str, label: str) -> NumberSpec:
    return NumberSpec(name, label, "%.f", 0, 60000, 100, 0)


def _table(group: str) -> tuple[VectorSpec, VectorSpec]:
    return (VectorSpec("TELESCOPE_TIMED_GUIDE_NS", "Guide N/S", group, "rw", (
                _ms("TIMED_GUIDE_N", "North (ms)"), _ms("TIMED_GUIDE_S", "South (ms)")),
                timeout=60),
            VectorSpec("TELESCOPE_TIMED_GUIDE_WE", "Guide E/W", group, "rw", (
                _ms("TIMED_GUIDE_W", "West (ms)"), _ms("TIMED_GUIDE_E", "East (ms)")),
                timeout=60))


#: Awaited by a `Pulse` once the device has taken the pulse (the role then says Busy).
Started = Callable[[], Awaitable[None]]
#: The hook: guide in `direction` ("N", "S", "E", "W") for `ms` milliseconds, awaiting
#: `started()` once the device runs the pulse and returning once it is over (raising says it
#: failed).
Pulse = Callable[[str, int, Started], Awaitable[None]]


async def alpaca_pulse(client: AlpacaClient, path: str, direction: str, ms: int,
                       started: Started) -> None:
    """A pulse on the Alpaca device at `path`: PulseGuide, `started()`, then IsPulseGuiding
    polled until False (bounded: the pulse's length and 10 s more)."""
    await client.put(path, "pulseguide", Direction=ALPACA_DIRECTIONS[direction], Duration=ms)
    await started()
    end = time.monotonic() + ms / 1000 + 10
    step = min(0.2, max(0.02, ms / 5000))
    while await client.get(path, "ispulseguiding") is True:
        if time.monotonic() > end:
            raise TimeoutError(f"{path}: IsPulseGuiding still True {ms / 1000 + 10:.0f} s "
                               "after a pulse")
        await asyncio.sleep(step)


class TimedGuide:
    """The timed-guide role (GUIDER bit): `pulse` is the hook, `group` the vectors' group."""

    interface = Interface.GUIDER
    config_names: tuple[str, ...] = ()

    def __init__(self, pulse: Pulse, group: str) -> None:
        self._pulse = pulse
        made = build(_table(group))
        self.north_south = made.vector("TELESCOPE_TIMED_GUIDE_NS", NumberVector)
        self.west_east = made.vector("TELESCOPE_TIMED_GUIDE_WE", NumberVector)
        self._axes = {vector.name: Operation(vector, f"Guide pulse {vector.label}")
                      for vector in (self.north_south, self.west_east)}

    def vectors(self) -> Sequence[PropertyVector]:
        return (self.north_south, self.west_east)

    def attach(self, device: RoleDevice) -> None:
        for operation in self._axes.values():
            operation.logger = device.logger

    async def connected(self) -> None:
        pass

    async def disconnected(self) -> None:
        for operation in self._axes.values():
            await operation.abort()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        if not isinstance(event, newNumberVector):
            return
        vector = event.vector
        operation = self._axes[vector.name]
        asked = [(name, round(event.getfloatvalue(name))) for name in event
                 if name in _MEMBERS and event.getfloatvalue(name) > 0]
        await operation.abort()  # a new pulse (or a zero) replaces the one running
        for name in vector:
            vector[name] = 0
        if not asked:
            await vector.send_setVector(state="Ok")
            return
        name, ms = asked[0]  # one direction of an axis at a time, as indilib takes it
        vector[name] = ms
        operation.start(self._run(vector, _MEMBERS[name][0], ms))

    async def _run(self, vector: NumberVector, direction: str, ms: int) -> None:
        async def started() -> None:
            await vector.send_setVector(state="Busy")

        await self._pulse(direction, ms, started)
        for name in vector:
            vector[name] = 0
        await vector.send_setVector(state="Ok")
