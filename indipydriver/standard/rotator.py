"""`Rotator`: the rotator role (ROTATOR bit), indilib's ``INDI::RotatorInterface`` properties.

The user writes a `RotatorHardware`: ``move_to(angle)`` (returns once there), ``position``,
``abort``, ``sync`` and ``set_reverse``. The role defines ABS_ROTATOR_ANGLE,
ROTATOR_ABORT_MOTION, SYNC_ROTATOR_ANGLE (`can_sync`) and ROTATOR_REVERSE (`can_reverse`)
with indilib's names, labels, group and formats, and runs its sequences: a move is
ABS_ROTATOR_ANGLE Busy (the angle sent as it changes), then Ok at the target (a target equal
to the angle now is Ok at once); abort answers Ok and, as indilib does, leaves the angle Ok
where the rotator stopped; a sync tells the rotator its angle is that one (nothing moves)
and shows it; ROTATOR_REVERSE turns the direction. The angle is read every POLLING_PERIOD
while connected.
"""

from __future__ import annotations

import logging
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import SwitchVector
from .groups import MAIN_CONTROL_TAB
from .positioner import Positioner
from .positioner import TurningHardware
from .positioner import attempt
from .positioner import choose
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import VectorSpec
from .vectortables import abort_spec
from .vectortables import build

__all__ = ["ROTATOR_VECTORS", "Rotator", "RotatorHardware"]

logger = logging.getLogger(__name__)

#: The rotator's vectors, in the order indilib's RotatorInterface::updateProperties defines
#: them (home, backlash and limits are not offered).
ROTATOR_VECTORS = (
    VectorSpec("ABS_ROTATOR_ANGLE", "Goto", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("ANGLE", "Angle", "%.2f", 0, 360, 10, Param("angle")),
    )),
    abort_spec("ROTATOR_ABORT_MOTION"),
    VectorSpec("SYNC_ROTATOR_ANGLE", "Sync", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("ANGLE", "Angle", "%.2f", 0, 360, 10, Param("angle")),
    ), when="can_sync"),
    VectorSpec("ROTATOR_REVERSE", "Reverse", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("INDI_ENABLED", "Enabled", Param("reversed")),
        SwitchSpec("INDI_DISABLED", "Disabled", Param("forward")),
    ), rule="OneOfMany", when="can_reverse"),
)


class RotatorHardware(TurningHardware, Protocol):
    """What the user writes for a rotator; angles in degrees, 0..360.

    ``move_to(angle)``, ``position()`` (the angle now) and ``abort()`` are the
    `TurningHardware` ones. Each coroutine may raise to say it failed: the vector concerned
    goes Alert with the error as its message."""

    async def sync(self, angle: float) -> None:
        """The rotator is at `angle` (a plate solve said so): take it, do not move."""

    async def set_reverse(self, on: bool) -> None:
        """Turn the other way for increasing angles (or not)."""


class Rotator(Positioner):
    """The rotator role::

        device = Device("Rotator", roles=[Rotator(MyRotator())])

    `angle` is where it starts (read from the hardware once connected); `can_sync` and
    `can_reverse` leave out SYNC_ROTATOR_ANGLE and ROTATOR_REVERSE for a rotator without
    them; `reversed` is ROTATOR_REVERSE's first state; `poll_interval` is how often the
    angle is read (POLLING_PERIOD sets it).
    """

    #: Saved by CONFIG_SAVE (indilib's RotatorInterface::saveConfigItems, of what it has).
    config_names = ("ROTATOR_REVERSE",)
    #: Nothing of its own is taken from the saved file at start.
    startup_names: tuple[str, ...] = ()

    def __init__(self, hardware: RotatorHardware, *, angle: float = 0.0,
                 can_sync: bool = True, can_reverse: bool = True, reversed: bool = False,
                 poll_interval: float = 1.0) -> None:
        made = build(ROTATOR_VECTORS, angle=angle % 360.0, can_sync=can_sync,
                     can_reverse=can_reverse, reversed="On" if reversed else "Off",
                     forward="Off" if reversed else "On")
        super().__init__(hardware, made, "ABS_ROTATOR_ANGLE", "ANGLE", "Rotator", poll_interval)
        self.goto = made.vector("ABS_ROTATOR_ANGLE", NumberVector)
        self.rotator = hardware
        self.abort_motion = made.vector("ROTATOR_ABORT_MOTION", SwitchVector)
        self.sync = made.optional("SYNC_ROTATOR_ANGLE", NumberVector)
        self.reverse = made.optional("ROTATOR_REVERSE", SwitchVector)

    # ---------------------------------------------------------------- Role

    @property
    def interface(self) -> Interface:
        return Interface.ROTATOR

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        if name == "ABS_ROTATOR_ANGLE" and isinstance(event, newNumberVector):
            await self._goto(event.getfloatvalue("ANGLE"))
        elif name == "ROTATOR_ABORT_MOTION":
            await self.abort_all(self.abort_motion)
            await self.goto.send_setVector(state="Ok")
        elif name == "SYNC_ROTATOR_ANGLE" and isinstance(event, newNumberVector):
            await self._sync(event.getfloatvalue("ANGLE"))
        elif name == "ROTATOR_REVERSE":
            await self._reverse(event.get("INDI_ENABLED") == "On"
                                or event.get("INDI_DISABLED") == "Off")

    async def _goto(self, angle: float) -> None:
        if not 0.0 <= angle <= 360.0:
            await self.refuse(self.goto, f"Angle {angle:.2f} is outside 0..360")
            return
        if angle % 360.0 == self.angle and not self._move.running:
            await self.goto.send_setVector(state="Ok")  # there already
            return
        await self.start_move(angle)

    async def _sync(self, angle: float) -> None:
        assert self.sync is not None  # only its own requests come here
        if not await attempt(self.sync, "Sync", self.rotator.sync(angle % 360.0)):
            return
        self.sync["ANGLE"] = angle % 360.0
        await self.sync.send_setVector(state="Ok")
        async with self._lock:
            await self.read()
            await self.goto.send_setVector()

    async def _reverse(self, on: bool) -> None:
        assert self.reverse is not None
        self.logger.info("Rotator direction to be %s", "reversed" if on else "normal")
        await choose(self.reverse, "INDI_ENABLED" if on else "INDI_DISABLED", "Reversing",
                     self.rotator.set_reverse(on))
