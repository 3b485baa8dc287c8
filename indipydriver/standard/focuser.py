"""`Focuser`: the focuser role (FOCUSER bit), indilib's ``INDI::FocuserInterface`` properties.

The user writes a `FocuserHardware`: ``move_to(steps)`` (returns once there), ``position``,
``abort`` and ``set_speed``. The role defines FOCUS_MOTION, REL_FOCUS_POSITION,
ABS_FOCUS_POSITION, FOCUS_MAX, FOCUS_ABORT_MOTION and (with `max_speed`) FOCUS_SPEED, with the
names, labels, formats and ranges of indilib 1.9.9's focuser simulator, and runs the moves:
ABS_FOCUS_POSITION Busy with the position as it changes, then Ok at the target; a relative
move goes the way FOCUS_MOTION says (inward = smaller positions) and ends with both position
vectors Ok; a target outside 0..FOCUS_MAX is refused with Alert; abort leaves them Idle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from ..members import NumberMember
from ..rxevents import ClientVectorEvent
from ..rxevents import newNumberVector
from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from .groups import MAIN_CONTROL_TAB
from .role import Operation
from .role import RoleDevice
from .role import RoleTasks
from .role import accept_values
from .vectortables import NumberSpec
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["Focuser", "FocuserHardware"]

logger = logging.getLogger(__name__)


#: The focuser's vectors, in the order they are defined (indilib 1.9.9's focuser simulator);
#: FOCUS_SPEED only for a focuser with speeds.
FOCUSER_VECTORS = (
    VectorSpec("FOCUS_MOTION", "Direction", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("FOCUS_INWARD", "Focus In", "On"),
        SwitchSpec("FOCUS_OUTWARD", "Focus Out"),
    ), rule="OneOfMany", state="Ok", timeout=60),
    VectorSpec("FOCUS_SPEED", "Speed", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("FOCUS_SPEED_VALUE", "Focus Speed", "%3.0f", 1, Param("max_speed"), 1, 1),
    ), state="Ok", timeout=60, when="has_speed"),
    VectorSpec("REL_FOCUS_POSITION", "Relative Position", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("FOCUS_RELATIVE_POSITION", "Steps", "%.f", 0, Param("max_position"), 1000, 0),
    ), state="Ok", timeout=60),
    VectorSpec("ABS_FOCUS_POSITION", "Absolute Position", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("FOCUS_ABSOLUTE_POSITION", "Steps", "%.f", 0, Param("max_position"), 1000,
                   Param("position")),
    ), state="Ok", timeout=60),
    VectorSpec("FOCUS_MAX", "Max. Position", MAIN_CONTROL_TAB, "rw", (
        NumberSpec("FOCUS_MAX_VALUE", "Steps", "%.f", 1000, 1000000, 10000,
                   Param("max_position")),
    ), state="Ok", timeout=60),
    VectorSpec("FOCUS_ABORT_MOTION", "Abort Motion", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("ABORT", "Abort"),
    ), rule="AtMostOne", timeout=60),
)


class FocuserHardware(Protocol):
    """What the user writes for a focuser; positions are absolute steps."""

    async def move_to(self, steps: int) -> None:
        """Move to `steps`; return once there (the role reads `position` meanwhile). Cancelled
        when the client aborts (then `abort` is called) or asks for another position."""

    async def position(self) -> int:
        """The position now, in steps."""
        ...

    async def abort(self) -> None:
        """Stop now."""

    async def set_speed(self, speed: int) -> None:
        """Use speed `speed` (1..max_speed); called only for a focuser made with `max_speed`."""


def _number(event: ClientVectorEvent[Any], name: str) -> float:
    if not isinstance(event, newNumberVector):
        raise TypeError(f"{event.vectorname}: a number vector expected")
    return event.getfloatvalue(name)


class Focuser:
    """The focuser role: give it your `FocuserHardware`, put it in a standard `Device`::

        device = Device("Focuser", roles=[Focuser(MyFocuser(), max_position=60000)])

    `max_position` starts FOCUS_MAX (clients may change it); `position` is where the
    focuser is when first shown (the role reads the hardware once connected); `max_speed`
    adds FOCUS_SPEED (1..max_speed); `poll_interval` is how often the position is read during
    a move.
    """

    def __init__(self, hardware: FocuserHardware, *, max_position: int = 100000,
                 position: int = 0, max_speed: int | None = None,
                 poll_interval: float = 0.25) -> None:
        self.hardware = hardware
        #: How often the position is read during a move (`poll_interval`); the device's
        #: POLLING_PERIOD sets it (`PollingRole`).
        self.polling_seconds = poll_interval
        self.logger = logger
        self._tasks = RoleTasks()
        made = build(FOCUSER_VECTORS, has_speed=max_speed is not None, max_speed=max_speed,
                     max_position=max_position, position=position)
        self.motion = made.vector("FOCUS_MOTION", SwitchVector)
        self.speed = made.optional("FOCUS_SPEED", NumberVector)
        self.relative = made.vector("REL_FOCUS_POSITION", NumberVector)
        self.absolute = made.vector("ABS_FOCUS_POSITION", NumberVector)
        self.maximum = made.vector("FOCUS_MAX", NumberVector)
        self.abort_motion = made.vector("FOCUS_ABORT_MOTION", SwitchVector)
        self._vectors = tuple(made.values())
        self._move = Operation(self.absolute, "Focuser move")

    # ---------------------------------------------------------------- Role

    #: Saved by CONFIG_SAVE (indilib's FocuserInterface::saveConfigItems, of what it has).
    config_names = ("FOCUS_MAX",)
    #: Nothing of its own is taken from the saved file at start (indilib's Focuser loads only
    #: DefaultDevice's POLLING_PERIOD then).
    startup_names: tuple[str, ...] = ()

    @property
    def interface(self) -> Interface:
        return Interface.FOCUSER

    def vectors(self) -> Sequence[PropertyVector]:
        return self._vectors

    def attach(self, device: RoleDevice) -> None:
        self.logger = device.logger
        self._move.attach(device)
        self._tasks.attach(device)

    async def connected(self) -> None:
        self._tasks.start(self._first_read(), "Focuser position")

    async def disconnected(self) -> None:
        if await self._move.abort():
            await self._stop_hardware()
        await self._tasks.stop()

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None:
        name = event.vectorname
        if name == "ABS_FOCUS_POSITION":
            await self._start(round(_number(event, "FOCUS_ABSOLUTE_POSITION")), relative=False)
        elif name == "REL_FOCUS_POSITION":
            steps = round(_number(event, "FOCUS_RELATIVE_POSITION"))
            self.relative["FOCUS_RELATIVE_POSITION"] = steps
            inward = self.motion["FOCUS_INWARD"] == "On"
            here = round(self.absolute.getfloatvalue("FOCUS_ABSOLUTE_POSITION"))
            await self._start(here - steps if inward else here + steps, relative=True)
        elif name == "FOCUS_MAX":
            await self._new_max(round(_number(event, "FOCUS_MAX_VALUE")))
        elif name == "FOCUS_ABORT_MOTION":
            await self._abort()
        elif name in ("FOCUS_MOTION", "FOCUS_SPEED"):
            await self._new_setting(event)

    # ---------------------------------------------------------------- moves

    @property
    def max_position(self) -> int:
        return round(self.maximum.getfloatvalue("FOCUS_MAX_VALUE"))

    async def _first_read(self) -> None:
        await self._read()
        await self.absolute.send_setVector()

    async def _read(self) -> int:
        steps = await self.hardware.position()
        self.absolute["FOCUS_ABSOLUTE_POSITION"] = steps
        return steps

    async def _start(self, target: int, *, relative: bool) -> None:
        vector = self.relative if relative else self.absolute
        if not 0 <= target <= self.max_position:
            text = (f"Focuser move refused: position {target} is outside 0..{self.max_position}")
            # Logged here only: the vector's message carries it to clients.
            logger.warning("%s: %s", self.absolute.devicename, text)
            await vector.send_setVector(state="Alert", message=text)
            return
        await self._move.abort()  # a new target replaces a move under way
        if relative:
            await self.relative.send_setVector(state="Busy")
        await self.absolute.send_setVector(state="Busy")
        self.logger.info("Moving focuser to %d", target)
        self._move.start(self._run(target, relative))

    async def _run(self, target: int, relative: bool) -> None:
        mover = asyncio.get_running_loop().create_task(self.hardware.move_to(target))
        try:
            while not mover.done():
                await asyncio.wait({mover}, timeout=self.polling_seconds)
                if not mover.done():
                    before = self.absolute["FOCUS_ABSOLUTE_POSITION"]
                    await self._read()
                    if self.absolute["FOCUS_ABSOLUTE_POSITION"] != before:
                        await self.absolute.send_setVector(state="Busy")
            mover.result()  # its error, if any: Alert (Operation)
        except asyncio.CancelledError:
            # Aborted or replaced by a new target: the abort (or the new move) says what next.
            mover.cancel()
            await asyncio.gather(mover, return_exceptions=True)
            raise
        except Exception:
            if relative:
                await self.relative.send_setVector(state="Alert")
            raise
        await self._read()
        if relative:
            await self.relative.send_setVector(state="Ok")
        await self.absolute.send_setVector(state="Ok")

    async def _stop_hardware(self) -> None:
        try:
            await self.hardware.abort()
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Stopping the focuser failed: %s: %s", type(exc).__name__, exc)

    async def _abort(self) -> None:
        moving = await self._move.abort()
        await self._stop_hardware()
        try:
            await self._read()
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Reading the focuser failed: %s: %s", type(exc).__name__, exc)
        self.abort_motion["ABORT"] = "Off"
        await self.abort_motion.send_setVector(state="Ok", message="Focuser motion aborted")
        if moving:
            await self.relative.send_setVector(state="Idle")
            await self.absolute.send_setVector(state="Idle")

    async def _new_max(self, maximum: int) -> None:
        here = round(self.absolute.getfloatvalue("FOCUS_ABSOLUTE_POSITION"))
        if maximum < here:
            text = f"FOCUS_MAX {maximum} refused: the focuser is at {here}, beyond it"
            await self.maximum.send_setVector(state="Alert", message=text)
            return
        self.maximum["FOCUS_MAX_VALUE"] = maximum
        for vector, member in ((self.absolute, "FOCUS_ABSOLUTE_POSITION"),
                               (self.relative, "FOCUS_RELATIVE_POSITION")):
            vector._member(member, NumberMember).max = maximum
            # Clients learn a new range only from a new definition.
            await vector.send_defVector()
        await self.maximum.send_setVector(state="Ok")

    async def _new_setting(self, event: ClientVectorEvent[Any]) -> None:
        vector: PropertyVector = event.vector
        if vector is self.speed and self.speed is not None:
            speed = round(_number(event, "FOCUS_SPEED_VALUE"))
            try:
                await self.hardware.set_speed(speed)
            except Exception as exc:  # noqa: BLE001
                await vector.send_setVector(state="Alert", message=f"Speed {speed} failed: "
                                            f"{type(exc).__name__}: {exc}")
                return
        await accept_values(event)
