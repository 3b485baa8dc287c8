"""`Positioner`: what the dome and the rotator roles share, a hardware that turns to an angle.

Both show where the hardware points in one number (ABS_DOME_POSITION's azimuth,
ABS_ROTATOR_ANGLE's angle, degrees 0..360), read every `polling_seconds` while connected and
sent when it changed (so a move made elsewhere, a dome slaved to its mount, is seen), run one
move at a time (Busy, then Ok at the target, Alert with the error), stop the hardware on
abort and on disconnect, and answer the quick requests (sync, reverse, slaving) with
`attempt`: Ok when the hardware took it, Alert with its reason when it raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from ..vectors import NumberVector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from .role import Operation
from .role import RepeatedRead
from .role import RoleDevice
from .role import RoleTasks
from .vectortables import BuiltVectors

__all__ = ["Positioner", "TurningHardware", "attempt", "choose"]

logger = logging.getLogger(__name__)


class TurningHardware(Protocol):
    """The part of a dome's or a rotator's hardware the shared machinery calls."""

    async def move_to(self, degrees: float) -> None:
        """Turn to `degrees` (0..360); return once there. Cancelled on abort (then `abort`)."""

    async def position(self) -> float:
        """Where it points now, in degrees."""
        ...

    async def abort(self) -> None:
        """Stop now."""


async def attempt(vector: PropertyVector, what: str, call: Awaitable[Any]) -> bool:
    """Await `call`, a quick request to the hardware; if it raises, `vector` goes Alert with
    the reason (False is returned, and the caller sends nothing more)."""
    try:
        await call
    except Exception as exc:  # noqa: BLE001  # the user's hardware refused: say why
        text = f"{what} failed: {type(exc).__name__}: {exc}"
        logger.warning("%s: %s", vector.devicename, text)
        await vector.send_setVector(state="Alert", message=text[:250])
        return False
    return True


async def choose(vector: SwitchVector, member: str, what: str, call: Awaitable[Any]) -> None:
    """A two-way setting (slaving, reverse) the hardware takes with `call`: `member` On and
    the vector Ok, or Alert with the reason."""
    if await attempt(vector, what, call):
        vector[member] = "On"
        await vector.send_setVector(state="Ok")


class Positioner:
    """The shared part of a role whose `hardware` turns to an angle shown in `member` of
    vector `name`, one of the role's vectors `made`; `what` names it in messages ("Dome",
    "Rotator")."""

    def __init__(self, hardware: TurningHardware, made: BuiltVectors, name: str, member: str,
                 what: str, poll_interval: float) -> None:
        vector = made.vector(name, NumberVector)
        self._vectors = tuple(made.values())
        self.hardware = hardware
        self.what = what
        self.logger = logger
        self._period = poll_interval
        self._vector, self._member = vector, member
        self._tasks = RoleTasks()
        self._wake = asyncio.Event()
        # Held while the angle is read and sent, and across a move's end: a poll that read
        # the angle before the move ended must not send it after the move's Ok.
        self._lock = asyncio.Lock()
        self._move = Operation(vector, f"{what} move")

    def _new_period(self, seconds: float) -> None:
        self._period = seconds
        self._wake.set()  # the next read starts the new period now

    #: How often the angle is read (POLLING_PERIOD sets it, `PollingRole`).
    polling_seconds = property(lambda self: self._period, _new_period)

    @property
    def angle(self) -> float:
        """The last angle read."""
        return self._vector.getfloatvalue(self._member)

    def vectors(self) -> Sequence[PropertyVector]:
        return self._vectors

    def operations(self) -> list[Operation]:
        """The role's long actions (a subclass adds its own: a dome's park, its shutter)."""
        return [self._move]

    def attach(self, device: RoleDevice) -> None:
        self.logger = device.logger
        self._tasks.attach(device)
        for operation in self.operations():
            operation.attach(device)

    async def connected(self) -> None:
        self._wake = asyncio.Event()  # for the event loop serving now
        self._tasks.start(self._poll(), f"{self.what} position")

    async def disconnected(self) -> None:
        stopped = [await operation.abort() for operation in self.operations()]
        if any(stopped):
            await self.stop_hardware()
        await self._tasks.stop()
        for vector in self._vectors:  # nothing moves now: not Busy when defined again
            if vector.state == "Busy":
                vector.state = "Idle"

    # ---------------------------------------------------------------- reading

    async def read(self) -> float:
        """Read the hardware's angle into the vector (not sent)."""
        self._vector[self._member] = (await self.hardware.position()) % 360.0
        return self.angle

    async def _look(self) -> None:
        async with self._lock:
            before = self._vector[self._member]
            await self.read()
            if self._vector[self._member] != before:
                await self._vector.send_setVector()  # its state stays: Busy while moving

    async def _poll(self) -> None:
        reading = RepeatedRead(self.logger, f"Reading the {self.what.lower()}'s position")
        while True:
            self._wake.clear()
            try:
                await self._look()
            except Exception as exc:  # noqa: BLE001  # said once; the polling goes on
                reading.failed(exc)
            else:
                reading.worked()
            try:
                async with asyncio.timeout(self._period):
                    await self._wake.wait()  # (wait_for can lose a cancellation)
            except TimeoutError:
                pass

    # ---------------------------------------------------------------- moves

    async def refuse(self, vector: PropertyVector, text: str) -> None:
        """Alert on `vector` with `text` (logged here; the message carries it to clients)."""
        logger.warning("%s: %s", vector.devicename, text)
        await vector.send_setVector(state="Alert", message=text)

    async def start_move(self, target: float) -> None:
        """Start the move to `target` (a move under way is replaced): the vector Busy, then
        Ok at the target (`moved` runs first), Alert with the error."""
        await self._move.abort()
        self.logger.info("%s moving to %.2f degrees", self.what, target)
        await self._vector.send_setVector(state="Busy")
        self._move.start(self._run(target))

    async def _run(self, target: float) -> None:
        try:
            await self.hardware.move_to(target % 360.0)
        except Exception:
            await self.moved(ok=False)
            raise
        async with self._lock:
            await self.read()
            await self.moved(ok=True)
            await self._vector.send_setVector(state="Ok")

    async def moved(self, ok: bool) -> None:
        """A move ended (`ok` False: it failed); what else the role shows then."""

    async def stop_hardware(self) -> None:
        try:
            await self.hardware.abort()
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Stopping the %s failed: %s: %s", self.what.lower(),
                              type(exc).__name__, exc)

    async def abort_all(self, abort_vector: PropertyVector) -> list[bool]:
        """Abort every operation, stop the hardware, read where it stopped, and answer
        `abort_vector` Ok; which operations were running, in `operations()` order."""
        running = [await operation.abort() for operation in self.operations()]
        await self.stop_hardware()
        try:
            async with self._lock:
                await self.read()
        except Exception as exc:  # noqa: BLE001
            self.logger.error("Reading the %s failed: %s: %s", self.what.lower(),
                              type(exc).__name__, exc)
        abort_vector["ABORT"] = "Off"
        await abort_vector.send_setVector(state="Ok", message=f"{self.what} motion aborted")
        return running
