"""A Device: a named mapping of vector name -> vector (indipydriver 3.x `Device`)."""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from indipycore.byname import ByName
from indipycore.interface import Interface
from indipycore.protocol.events import DelProperty
from indipycore.protocol.events import Message

from .compat3x import Device3x
from .naming import add_named
from .naming import checked_string
from .naming import no_such_name
from .ports import DriverPort
from .standard.deviceprops import DeviceProps
from .standard.deviceprops import Hook
from .standard.messages import MessageHandler
from .vectors import PropertyVector
from .wire import timestamp_text
from .wire import write_element

if TYPE_CHECKING:
    from .rxevents import RxEvent
    from .standard.role import Role
    from .standard.role import Stoppable

__all__ = ["Device"]

logger = logging.getLogger(__name__)

_V = TypeVar("_V", bound=PropertyVector)


class Device(Device3x, ByName[PropertyVector]):
    """One instrument: its vectors, `devicedata` for your hardware objects, and `enable`.

    Setting `enable` False (done by `send_delProperty`) stops traffic to and from the device
    until it is set True again and the vectors are re-defined. `stop` turns True when the
    driver stops (see `Device3x`).

    Every device has indilib's CONNECTION, DRIVER_INFO, DEBUG and CONFIG_PROCESS (and, with
    a role that polls, POLLING_PERIOD) (`standard.deviceprops`), first among its vectors, unless it defines one of them itself (then it keeps its own,
    and its ``rxevent`` receives the requests for it) or is made with ``standard=False``
    (none at all, as indipydriver 3.x). Its roles' vectors follow yours and are defined only
    while a client has it connected (but for those a role names in ``always_names``, as the
    camera's ACTIVE_DEVICES: defined from the start, and kept); a device with no role and no connect/disconnect hook
    starts connected, since its vectors are always live, and a client's DISCONNECT only
    flips the switch. Its `logger`'s records reach clients as INDI messages
    (``docs/migrating.rst``). CONFIG_SAVE writes `config_names` (by default DEBUG,
    POLLING_PERIOD, DEBUG_LEVEL and its roles' settings) to ``<config_dir>/<name>_config.xml``,
    ``~/.indi`` by default (`standard.config`); when the device is made it takes DEBUG,
    DEBUG_LEVEL, POLLING_PERIOD and its roles' ``startup_names`` from that file.
    """

    def __init__(self, devicename: str, properties: Iterable[PropertyVector] = (), *,
                 roles: Iterable[Role] = (), interface: Interface | None = None,
                 connect: Hook | None = None, disconnect: Hook | None = None,
                 driver_exec: str | None = None, driver_version: str = "1.0",
                 standard: bool = True, config_names: Iterable[str] | None = None,
                 config_dir: str | Path | None = None, **devicedata: Any) -> None:
        self.devicename = checked_string(devicename, "name", "Device")
        self.devicedata = devicedata
        self.enable = True
        self.driver: DriverPort | None = None
        self._stop = False
        self._background: list[Coroutine[Any, Any, Any]] = []
        self._kept: list[Stoppable] = []  # its roles' tasks and operations: `_ended`
        self.data: dict[str, PropertyVector] = {}
        self._by_name = self.data  # the mapping of vectors (ByName)
        roles = list(roles)
        properties = list(properties)
        self.standard: DeviceProps | None = None
        self._logger: logging.Logger | None = None
        self.message_handler: MessageHandler | None = None
        if standard:
            self.message_handler = MessageHandler(self)
            self.standard = DeviceProps(
                devicename, roles, interface=interface, connect=connect,
                disconnect=disconnect, driver_exec=driver_exec, driver_version=driver_version,
                handler=self.message_handler, logger=self.logger,
                own={vector.name for vector in properties
                     if isinstance(vector, PropertyVector)},
                config_names=None if config_names is None else list(config_names),
                config_dir=None if config_dir is None else Path(config_dir))
            properties = [*self.standard.vectors, *properties, *self.standard.always_vectors,
                          *self.standard.role_vectors]
            for vector in self.standard.role_vectors:
                vector.enable = False  # defined when a client connects the device
        elif roles:
            raise ValueError(f"device {devicename!r}: roles need a standard device "
                             "(not standard=False)")
        for vector in properties:
            if not isinstance(vector, PropertyVector):
                raise TypeError(f"device {devicename!r}: {vector!r} is not a property vector")
            add_named(self.data, vector.name, vector, f"device {devicename!r}", "vector")
            vector.devicename = devicename
            vector.device = self
        if self.standard is not None:
            for role in self.standard.roles:
                role.attach(self)
            self.standard.bind(self, self._loaded_event)

    async def _loaded_event(self, event: RxEvent) -> None:
        """A saved setting of one of this device's own vectors (named in `config_names`),
        loaded by CONFIG_LOAD: the driver's `rxevent` gets it as a client's request."""
        rxevent = getattr(self.driver, "rxevent", None)
        if rxevent is not None:
            await rxevent(event)

    @property
    def logger(self) -> logging.Logger:
        """This device's own logger: on a standard device its records also reach clients as
        INDI messages (`standard.messages.MessageHandler`), DEBUG ones only while the DEBUG
        property is enabled. One per Device object (two drivers may each have a device of the
        same name), named ``indipydriver.devices.<name>`` and passing its records on to
        that logger (so to the program's handlers too)."""
        if self._logger is None:
            name = self.devicename.replace(".", "_")
            self._logger = logging.Logger(f"indipydriver.devices.{name}")  # noqa: LOG001
            self._logger.parent = logging.getLogger("indipydriver.devices")
            if self.message_handler is not None:
                self._logger.addHandler(self.message_handler)
                self._logger.setLevel(logging.INFO)
        return self._logger

    @property
    def is_connected(self) -> bool:
        """Whether this device is connected: CONNECTION's state for a device with roles or
        hooks; a device with no role and no hook starts connected (its vectors are always
        live); always True for a device with ``standard=False`` or its own CONNECTION."""
        return self.standard is None or self.standard.connected

    def _missing(self, vectorname: str) -> KeyError:
        return no_such_name(f"device {self.devicename!r}", "vector", vectorname, self.data)

    def __repr__(self) -> str:
        return f"Device({self.devicename!r}, {list(self.data)})"

    def vector(self, vectorname: str, kind: type[_V]) -> _V:
        """The named vector as its own class, e.g. ``device.vector("LOG", BLOBVector)``.

        Raises KeyError for an unknown name and TypeError when the vector is of another kind.
        """
        vector = self.data[vectorname]
        if not isinstance(vector, kind):
            raise TypeError(f"device {self.devicename!r}: vector {vectorname!r} is a "
                            f"{type(vector).__name__}, not a {kind.__name__}")
        return vector

    @property
    def propertyvectors(self) -> dict[str, PropertyVector]:
        return self.data

    def _driver(self) -> DriverPort:
        if self.driver is None:
            raise RuntimeError(f"device {self.devicename!r} is not in an IPyDriver")
        return self.driver

    async def send_message(self, message: str = "", timestamp: datetime | None = None) -> None:
        """Send a message about this device, for clients to show or log."""
        driver = self._driver()
        if not self.enable:
            return
        await driver._send(write_element(
            Message(self.devicename, timestamp_text(timestamp), message or None)))

    # indipydriver 3.x name
    send_device_message = send_message

    async def send_delProperty(self, message: str = "", timestamp: datetime | None = None) -> None:
        """Tell clients the whole device is gone and disable it (`enable` = False)."""
        driver = self._driver()
        data = write_element(
            DelProperty(self.devicename, None, timestamp_text(timestamp), message or None))
        self.enable = False
        for vector in self.data.values():
            for member in vector.data.values():
                member.changed = True
        await driver._send(data)

    async def snoop(self, devicename: str, vectorname: str | None = None) -> None:
        """Snoop on another device (or one of its vectors) for this device's roles: the
        driver's `send_getProperties`, repeated as it repeats it; what comes back reaches the
        roles' ``snooped`` (`_roles_snooped`) as well as the driver's `snoopevent`."""
        await self._driver().send_getProperties(devicename, vectorname)

    async def _started(self) -> None:
        """The driver began serving (its link is up): the roles' ``started`` hooks run
        (`DeviceProps.started`), as the camera's snoop requests."""
        if self.standard is not None:
            await self.standard.started()

    def keep_tasks(self, tasks: Stoppable) -> None:
        """A role's tasks (`RoleTasks.attach`, `Operation.attach`): stopped when the driver's
        run ends (`_ended`)."""
        self._kept.append(tasks)

    async def _ended(self) -> None:
        """The driver stopped serving the device (its run returned, failed or was cancelled):
        its roles' tasks and operations still running are stopped and awaited, so no poll,
        monitor or action outlives the run. Only those: a device still connected is not
        disconnected (neither the roles' ``disconnected`` nor the hook runs), as an indilib
        driver's process ending leaves its hardware as it is."""
        for tasks in self._kept:
            try:
                await tasks.stop()
            except Exception as exc:  # noqa: BLE001  # the others are stopped all the same
                self.logger.error("Stopping %s failed: %s: %s", type(tasks).__name__,
                                  type(exc).__name__, exc)

    async def _roles_snooped(self, event: RxEvent) -> None:
        """Hand snooped traffic to the roles that take it (a role with a ``snooped``
        coroutine method, as the camera's ACTIVE_DEVICES); a failing role is logged and the
        others still get it."""
        if self.standard is None:
            return
        for role in self.standard.roles:
            snooped = getattr(role, "snooped", None)
            if snooped is None:
                continue
            try:
                await snooped(event)
            except Exception as exc:  # noqa: BLE001  # another device's data: say, go on
                self.logger.error("%s could not take snooped %s.%s: %s: %s",
                                  type(role).__name__, event.devicename, event.vectorname,
                                  type(exc).__name__, exc)

    async def devrxevent(self, event: RxEvent, *args: Any, **kwargs: Any) -> None:
        """Override to handle this device's client events; the default driver `rxevent` calls it."""

    async def devhardware(self, *args: Any, **kwargs: Any) -> None:
        """Override to run this device's hardware; the default driver `hardware` runs it."""

    async def devsnoopevent(self, event: RxEvent, *args: Any, **kwargs: Any) -> None:
        """Override to handle snooped events; the default driver `snoopevent` calls it."""
