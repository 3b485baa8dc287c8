"""`Role`: what a role helper (a camera, a mount, a focuser...) is to the device that has it.

A role is an object a standard `Device` composes (``Device(name, roles=[camera])``), never a
base class. The device defines the role's vectors when a client connects it and deletes them
when it disconnects (as indilib does; a few, such as the camera's ACTIVE_DEVICES, exist from
the start), hands the role every client request for those vectors,
and tells it when it is connected and disconnected. The role runs its own work (an exposure,
a slew, a cooler's ramp) with the two small pieces here: `RoleTasks`, the tasks it runs while
connected, `Operation`, one long action at a time that ends Ok, Alert or aborted, and
`RepeatedRead`, a reading done over and over whose failure is said once. A role that polls is
a `PollingRole` (its device then has POLLING_PERIOD); `saved_names` are the vectors of a role
its device's saved configuration holds, `startup_names` those of them it takes from the saved
file when the driver starts (before any connect), `always_names` those defined from the start
and kept while disconnected (the camera's ACTIVE_DEVICES). `accept_values`
answers a request for a setting the role only keeps, `run_chosen` one for switches that each
start an action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from typing import Any
from typing import Protocol
from typing import runtime_checkable

from indipycore.interface import Interface

from ..rxevents import ClientVectorEvent
from ..vectors import PropertyVector

__all__ = [
    "Operation",
    "PollingRole",
    "RepeatedRead",
    "Role",
    "RoleDevice",
    "RoleTasks",
    "Stoppable",
    "accept_values",
    "always_names",
    "run_chosen",
    "saved_names",
    "startup_names",
]

logger = logging.getLogger(__name__)


async def accept_values(event: ClientVectorEvent[Any]) -> None:
    """A request for a setting the role only keeps (a camera's frame type, a mount's site, a
    wheel's filter names...): the vector takes the client's values and answers Ok."""
    vector = event.vector
    for name, value in event.items():
        vector[name] = value
    await vector.send_setVector(state="Ok")


async def run_chosen(event: ClientVectorEvent[Any],
                     actions: dict[str, Callable[[], Awaitable[None]]]) -> None:
    """A request on switches that each start an action (CONNECT / DISCONNECT, PARK / UNPARK):
    the action of the first switch the client turned On runs; with none On nothing was asked,
    and the vector is sent back to say where things stand."""
    for switch, action in actions.items():
        if event.get(switch) == "On":
            await action()
            return
    await event.vector.send_setVector()


class RoleDevice(Protocol):
    """What a role sees of its device (a standard `Device`)."""

    devicename: str

    @property
    def logger(self) -> logging.Logger:
        """The device's logger: its records reach clients as INDI messages (`MessageHandler`)."""
        ...

    @property
    def is_connected(self) -> bool:
        """Whether a client connected the device (CONNECTION's CONNECT is On)."""
        ...

    async def snoop(self, devicename: str, vectorname: str | None = None) -> None:
        """Snoop on another device's vector; the traffic reaches the role's ``snooped``
        coroutine method, if it has one (``snooped(event)``, called with every snooped
        def/set/delProperty/message, whoever asked for it)."""
        ...

    def keep_tasks(self, tasks: Stoppable) -> None:
        """Have `tasks` stopped when the driver serving the device ends (`RoleTasks.attach`
        and `Operation.attach` call it): a device still connected then is never told
        `disconnected`."""
        ...


class Stoppable(Protocol):
    """What a role runs tasks with (`RoleTasks`, `Operation`), as its device sees it: the
    device stops it when its driver's run ends (`RoleDevice.keep_tasks`)."""

    async def stop(self) -> None:
        """Cancel what is running and wait for it to end."""
        ...


class Role(Protocol):
    """A role helper, as its device uses it.

    `vectors()` is called once, when the device is made: the same vector objects are defined
    on every connect and deleted on every disconnect (their values persist in between), but
    for those in ``always_names``, defined from the start and never deleted.
    `new_vector` receives the client's checked requests (`newNumberVector`...) for those
    vectors only, one at a time, in order: start anything long as a task (`RoleTasks`,
    `Operation`) so the device keeps answering. `connected` runs after the vectors are
    defined, `disconnected` before they are deleted: it must stop the role's tasks.
    A role may also have ``async def snooped(self, event)``: it then receives the traffic of
    the devices its driver snoops (`RoleDevice.snoop` asks for it), as the camera's
    ACTIVE_DEVICES does (snooped.py).

    Optional: ``config_names``, the names of its vectors its device's CONFIG_SAVE writes
    (`saved_names`); ``startup_names``, those of them the device takes from the saved file
    when it is made, silently, as indilib's base classes do in initProperties (`startup_names`);
    ``always_names``, its vectors defined from the start and kept while disconnected, which
    then receive requests while disconnected too (`always_names`); ``polling_seconds`` for a
    role that polls (`PollingRole`); and ``async def started(self)``, run once the driver
    serves the device (its link is up) and before any client request: where a role starts
    what indilib's drivers start in initProperties, such as the camera's snoop requests.
    """

    @property
    def interface(self) -> Interface:
        """The DRIVER_INTERFACE bits this role adds to its device."""
        ...

    def vectors(self) -> Sequence[PropertyVector]: ...

    def attach(self, device: RoleDevice) -> None:
        """Called once by the device that composes the role (a role belongs to one device)."""
        ...

    async def new_vector(self, event: ClientVectorEvent[Any]) -> None: ...

    async def connected(self) -> None: ...

    async def disconnected(self) -> None: ...


@runtime_checkable
class PollingRole(Protocol):
    """A role that reads its hardware periodically (a camera's cooler, a mount's position, a
    focuser during a move). Its device defines POLLING_PERIOD, first showing this role's
    `polling_seconds`, and sets `polling_seconds` when a client (or the saved configuration)
    changes it; the role uses the new period from its next wait on."""

    polling_seconds: float


def saved_names(role: Role) -> list[str]:
    """The names of the role's vectors its device saves with CONFIG_SAVE: the role's
    ``config_names`` (indilib's saveConfigItems of its base class) when it has them, else its
    read-write number, switch and text vectors."""
    names = [vector.name for vector in role.vectors()]
    chosen: Sequence[str] | None = getattr(role, "config_names", None)
    if chosen is not None:
        return [name for name in chosen if name in names]
    return [vector.name for vector in role.vectors()
            if vector.kind in ("Number", "Switch", "Text")
            and getattr(vector, "perm", "") == "rw"]


def _declared(role: Role, attribute: str) -> list[str]:
    """The role's optional list `attribute`, kept to the names of its own vectors."""
    names = [vector.name for vector in role.vectors()]
    chosen: Sequence[str] = getattr(role, attribute, ())
    return [name for name in chosen if name in names]


def startup_names(role: Role) -> list[str]:
    """The names of the role's vectors its device takes from the saved file when it is made
    (the role's ``startup_names``, indilib's base class's loads in initProperties, of the
    vectors the role has), none by default."""
    return _declared(role, "startup_names")


def always_names(role: Role) -> list[str]:
    """The names of the role's vectors defined from the start and kept while disconnected
    (the role's ``always_names``, none by default: a role's vectors exist while connected)."""
    return _declared(role, "always_names")


class RoleTasks:
    """The tasks a role runs while its device is connected (polling, countdowns, ramps).

    `start` runs a coroutine as a task; `stop` cancels every task still running and waits for
    them (a role's `disconnected` calls it). A role's `attach` calls `attach(device)`: a task
    that fails is then logged on the device's logger (clients see an ``[ERROR]`` message), and
    the device stops the tasks when its driver's run ends while it is still connected, so none
    outlives the driver that started it.
    """

    def __init__(self) -> None:
        self.logger: logging.Logger = logger
        self._tasks: set[asyncio.Task[Any]] = set()

    def attach(self, device: RoleDevice) -> None:
        """Log on `device`'s logger, and be stopped by it when its driver ends."""
        self.logger = device.logger
        device.keep_tasks(self)

    def start(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._guard(coro, what), name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _task: coro.close())  # cancelled before it ran: see Operation
        return task

    async def _guard(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        try:
            await coro
        except Exception as exc:
            self.logger.error("%s failed: %s: %s", what, type(exc).__name__, exc)
            logger.debug("%s failed", what, exc_info=True)

    async def stop(self) -> None:
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)


class RepeatedRead:
    """A reading a role repeats (a mount's position, a weather station): a failure is logged
    once, not at every try, and the recovery once too (clients see ``[ERROR]`` then
    ``[INFO]``). `failing` says where it stands.
    """

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.failing = False

    def failed(self, exc: Exception) -> None:
        if not self.failing:
            self.logger.error("%s failed: %s: %s", self.what, type(exc).__name__, exc)
            self.failing = True

    def worked(self) -> None:
        if self.failing:
            self.logger.info("%s works again", self.what)
            self.failing = False


class Operation:
    """One long action of a role at a time (an exposure, a slew, a focuser move).

    `start(work)` runs the coroutine `work` as a task, or refuses (returns False, `work`
    closed) while one is running. `work` sets the vector's states as it goes (Busy, then Ok).
    If it raises, the vector is sent with state Alert and the error as its message, and the
    error is logged on `logger` (clients see ``[ERROR]``). `abort()` cancels the running work
    and waits for it to end; it returns whether there was one to abort. What the vectors say
    after an abort is the role's to send (indilib: the action's vector Idle). A role's
    `attach` calls `attach(device)`: errors go to the device's logger, and the work still
    running when the driver's run ends is aborted (`stop`) with the role's other tasks.
    """

    def __init__(self, vector: PropertyVector, what: str) -> None:
        self.vector = vector
        self.what = what
        self.logger: logging.Logger = logger
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def attach(self, device: RoleDevice) -> None:
        """Log on `device`'s logger, and be stopped by it when its driver ends."""
        self.logger = device.logger
        device.keep_tasks(self)

    async def stop(self) -> None:
        """The driver's run ended: the work still running is aborted (as `abort`)."""
        await self.abort()

    def start(self, work: Coroutine[Any, Any, None]) -> bool:
        if self.running:
            work.close()
            return False
        self._task = asyncio.get_running_loop().create_task(self._run(work), name=self.what)
        # A task cancelled before its first step never starts `_run`, so `work` would never
        # be awaited (a RuntimeWarning at garbage collection): closing it when the task ends
        # is a no-op once it has run.
        self._task.add_done_callback(lambda _task: work.close())
        return True

    async def _run(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:
            text = f"{self.what} failed: {type(exc).__name__}: {exc}"
            self.logger.error("%s", text)
            logger.debug("%s", text, exc_info=True)
            try:
                await self.vector.send_setVector(state="Alert", message=text[:250])
            except Exception:  # the link is gone: the log line says it all
                logger.debug("could not send the Alert", exc_info=True)

    async def abort(self) -> bool:
        task = self._task
        if task is None or task.done():
            return False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def wait(self) -> None:
        """Wait for the running work (if any) to end, however it ends."""
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
