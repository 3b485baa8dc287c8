"""`TimedGuide`: indilib's timed guiding (the GUIDER bit) as a role, on a pulse hook.

indilib's mount and ST4 camera take a guide pulse as two number vectors,
TELESCOPE_TIMED_GUIDE_NS (TIMED_GUIDE_N, TIMED_GUIDE_S) and TELESCOPE_TIMED_GUIDE_WE
(TIMED_GUIDE_W, TIMED_GUIDE_E), in ms: a client sets one member (PHD2, Ekos' guider), the
vector is Busy while the pulse runs and Ok, back at 0, when it is done (Alert with the hook's
error if it failed). Busy is sent once the device has taken the pulse (the hook awaits
`started()`), as indilib's GuiderInterface does: a client that sees Busy and asks the device
finds it guiding. Names, labels, format and range are those of indilib's simulators; the group
is the mount's Motion Control or the camera's Guider Control. A new pulse on an axis replaces
the one running there (the other axis guides at the same time, as the two vectors are
independent in indilib).

The hook is the hardware's: the mount role's simulator moves its pointing
(`mount.Mount`'s ``guider``), an Alpaca device calls PulseGuide (``indipyalpaca.devices``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from indipycore.interface import Interface

from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from .role import Operation
from .role import RoleDevice
from .vectortables import NumberSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["DIRECTIONS", "Pulse", "Started", "TimedGuide"]

#: INDI's member -> direction letter.
DIRECTIONS = {"TIMED_GUIDE_N": "N", "TIMED_GUIDE_S": "S",
              "TIMED_GUIDE_W": "W", "TIMED_GUIDE_E": "E"}


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
            operation.attach(device)

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
                 if name in DIRECTIONS and event.getfloatvalue(name) > 0]
        await operation.abort()  # a new pulse (or a zero) replaces the one running
        for name in vector:
            vector[name] = 0
        if not asked:
            await vector.send_setVector(state="Ok")
            return
        name, ms = asked[0]  # one direction of an axis at a time, as indilib takes it
        vector[name] = ms
        operation.start(self._run(vector, DIRECTIONS[name], ms))

    async def _run(self, vector: NumberVector, direction: str, ms: int) -> None:
        async def started() -> None:
            await vector.send_setVector(state="Busy")

        await self._pulse(direction, ms, started)
        for name in vector:
            vector[name] = 0
        await vector.send_setVector(state="Ok")
