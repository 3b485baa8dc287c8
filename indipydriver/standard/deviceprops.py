"""`DeviceProps`: the standard properties every standard device has, and its connect sequence.

CONNECTION, DRIVER_INFO and DEBUG, with indilib's names, labels, groups, permissions, rules
and timeouts (DefaultDevice). They are defined from the start and kept while the device is
disconnected. A client's CONNECT runs the user's ``connect`` hook, then CONNECTION goes Ok
and the roles' vectors are defined; DISCONNECT stops the roles, runs the ``disconnect``
hook, sets CONNECTION Idle and deletes the roles' vectors (``delProperty``), as indilib does.
DEBUG=ENABLE defines DEBUG_LEVEL (Options, AnyOfMany: DBG_ERROR "Errors", DBG_WARNING
"Warnings", DBG_SESSION "Messages" On, DBG_DEBUG "Driver Debug" Off, as indilib's Logger),
which chooses the tags of the device's messages sent to clients (`MessageHandler.tags`);
DEBUG=DISABLE deletes it and goes back to errors, warnings and messages. CONFIG_PROCESS and,
for a device whose role polls, POLLING_PERIOD are the saved configuration's (`config`): what
CONFIG_SAVE writes is the device's `config_names`, by default DEBUG, POLLING_PERIOD,
DEBUG_LEVEL and each role's `role.saved_names`; a loaded entry is handled as a client's request.
When the device is made, DEBUG, DEBUG_LEVEL, POLLING_PERIOD and each role's
`role.startup_names` (of those it saves) are taken from the saved file, silently, as indilib's
DefaultDevice and base classes do. A role's `role.always_names` vectors (the camera's
ACTIVE_DEVICES) are defined from the start and kept while disconnected, as indilib's CCD
defines ACTIVE_DEVICES in ISGetProperties; `started` runs the roles' ``started`` hooks once the
driver serves the device.

A `Device` made with roles (or an interface, or connect/disconnect hooks) holds one
`DeviceProps` and lets it handle a client's request before ``rxevent`` sees it
(`DeviceProps.handle`); a device made the indipydriver 3.x way has none.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indipycore.interface import Interface

from ..rxevents import NEW_EVENTS
from ..rxevents import ClientVectorEvent
from ..validation import Rejected
from ..validation import check_new_vector
from ..vectors import PropertyVector
from ..vectors import SwitchVector
from ..vectors import TextVector
from .config import CONFIG_NAMES
from .config import NEVER_SAVED
from .config import STARTUP_NAMES
from .config import SavedConfig
from .config import new_event
from .configfile import ConfigEntry
from .groups import INFO_TAB
from .groups import MAIN_CONTROL_TAB
from .groups import OPTIONS_TAB
from .messages import DEFAULT_TAGS
from .messages import MessageHandler
from .role import PollingRole
from .role import Role
from .role import always_names
from .role import run_chosen
from .role import saved_names
from .role import startup_names
from .vectortables import Param
from .vectortables import SwitchSpec
from .vectortables import TextSpec
from .vectortables import VectorSpec
from .vectortables import build

__all__ = ["STANDARD_NAMES", "DeviceProps", "Hook", "default_exec"]

logger = logging.getLogger(__name__)

#: A connect or disconnect hook: a coroutine function; raising refuses the connect.
Hook = Callable[[], Awaitable[None]]

#: Where a request for none of the standard or role vectors goes (the driver's rxevent).
Fallback = Callable[[ClientVectorEvent[Any]], Awaitable[None]]

#: The vectors `DeviceProps` defines (DEBUG_LEVEL only while DEBUG is enabled, POLLING_PERIOD
#: only for a device with a `PollingRole`).
STANDARD_NAMES = ("CONNECTION", "DRIVER_INFO", "DEBUG", "DEBUG_LEVEL", *CONFIG_NAMES)

#: DEBUG_LEVEL's switches: name, label, the message tag it lets through, On at first.
DEBUG_LEVELS = (("DBG_ERROR", "Errors", "ERROR", True),
                ("DBG_WARNING", "Warnings", "WARNING", True),
                ("DBG_SESSION", "Messages", "INFO", True),
                ("DBG_DEBUG", "Driver Debug", "DEBUG", False))

#: The vectors every standard device has, as indilib's DefaultDevice and Logger define them.
DEVICE_VECTORS = (
    VectorSpec("CONNECTION", "Connection", MAIN_CONTROL_TAB, "rw", (
        SwitchSpec("CONNECT", "Connect", Param("connect")),
        SwitchSpec("DISCONNECT", "Disconnect", Param("disconnect")),
    ), rule="OneOfMany", state=Param("state"), timeout=60),
    VectorSpec("DRIVER_INFO", "Driver Info", INFO_TAB, "ro", (
        TextSpec("DRIVER_NAME", "Name", Param("driver_name")),
        TextSpec("DRIVER_EXEC", "Exec", Param("driver_exec")),
        TextSpec("DRIVER_VERSION", "Version", Param("driver_version")),
        TextSpec("DRIVER_INTERFACE", "Interface", Param("interface")),
    ), timeout=60),
    VectorSpec("DEBUG", "Debug", OPTIONS_TAB, "rw", (
        SwitchSpec("ENABLE", "Enable"),
        SwitchSpec("DISABLE", "Disable", "On"),
    ), rule="OneOfMany"),
    VectorSpec("DEBUG_LEVEL", "Debug Levels", OPTIONS_TAB, "rw", tuple(
        SwitchSpec(name, label, "On" if on else "Off") for name, label, _tag, on in DEBUG_LEVELS
    ), rule="AnyOfMany"),
)


def default_exec() -> str:
    """DRIVER_EXEC when none is given: the program's file name (``ccd_simulator.py``)."""
    return Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"


class DeviceProps:
    """The device-wide standard vectors of one device and what they do.

    `vectors` are CONNECTION, DRIVER_INFO, DEBUG and DEBUG_LEVEL (in that order; DEBUG_LEVEL
    disabled). DRIVER_INFO's DRIVER_INTERFACE is `interface` when given, else the OR of the
    roles' bits, or AUX for a device with no role.
    """

    def __init__(
        self,
        devicename: str,
        roles: Sequence[Role] = (),
        *,
        interface: Interface | None = None,
        connect: Hook | None = None,
        disconnect: Hook | None = None,
        driver_name: str | None = None,
        driver_exec: str | None = None,
        driver_version: str = "1.0",
        handler: MessageHandler | None = None,
        logger: logging.Logger | None = None,
        own: frozenset[str] | set[str] = frozenset(),
        config_names: Sequence[str] | None = None,
        config_dir: Path | None = None,
    ) -> None:
        self.devicename = devicename
        self.roles = list(roles)
        # Standard names the device defines itself (a 3.x driver's own CONNECTION): those
        # are neither added nor handled here, so its rxevent keeps receiving them.
        self.own = set(own) & set(STANDARD_NAMES)
        if "DEBUG" in self.own:
            self.own.add("DEBUG_LEVEL")
        if "CONNECTION" in self.own and self.roles:
            raise ValueError(f"device {devicename!r}: roles need the framework's CONNECTION, "
                             "but the device defines its own")
        # A device with no role and no hook has nothing to connect: its vectors are live,
        # so it starts connected (CONNECT On, Ok); a client's DISCONNECT only flips the
        # switch. A device with its own CONNECTION decides that itself: always connected
        # as far as the framework knows.
        self.live = not self.roles and connect is None and disconnect is None
        self.connect_hook = connect
        self.disconnect_hook = disconnect
        self.handler = handler
        self.logger = logger or logging.getLogger(__name__)
        self.connected = self.live or "CONNECTION" in self.own
        if interface is None:
            interface = Interface.GENERAL
            for role in self.roles:
                interface |= role.interface
            if not self.roles:
                # No standard role: indilib's AUX. GENERAL (0) would make Ekos offer the
                # device in no module at all.
                interface = Interface.AUX
        self.interface = interface
        made = build(
            DEVICE_VECTORS, state="Ok" if self.live else "Idle",
            connect="On" if self.live else "Off", disconnect="Off" if self.live else "On",
            driver_name=driver_name or devicename, driver_exec=driver_exec or default_exec(),
            driver_version=driver_version, interface=interface.to_text())
        self.connection = made.vector("CONNECTION", SwitchVector)
        self.driver_info = made.vector("DRIVER_INFO", TextVector)
        self.debug = made.vector("DEBUG", SwitchVector)
        self.debug_level = made.vector("DEBUG_LEVEL", SwitchVector)
        self.debug_level.enable = False  # defined while DEBUG is enabled
        self.pollers = [role for role in self.roles if isinstance(role, PollingRole)]
        self.config = SavedConfig(
            devicename, folder=config_dir, logger=self.logger,
            period_ms=round(self.pollers[0].polling_seconds * 1000) if self.pollers else None)
        self.config_names = None if config_names is None else list(config_names)
        # The device's vectors by name (the `Device`, given to `bind`), and where requests
        # for its own vectors go.
        self.device: Mapping[str, PropertyVector] = {}
        self.fallback: Fallback | None = None
        # The roles' vectors, by name: each role gets the requests for its own. Those in a
        # role's `always_names` are `always_vectors` (defined from the start, never deleted);
        # `role_vectors` are defined on connect and deleted on disconnect.
        self.owners: dict[str, Role] = {}
        self.role_vectors: list[PropertyVector] = []
        self.always_vectors: list[PropertyVector] = []
        for role in self.roles:
            always = set(always_names(role))
            for vector in role.vectors():
                if vector.name in self.owners or vector.name in STANDARD_NAMES:
                    raise ValueError(f"device {devicename!r}: two definitions of vector "
                                     f"{vector.name!r} (roles {role!r})")
                self.owners[vector.name] = role
                (self.always_vectors if vector.name in always else self.role_vectors
                 ).append(vector)

    @property
    def vectors(self) -> list[PropertyVector]:
        """The standard vectors this device gets (not those it defines itself)."""
        polling = [self.config.polling] if self.config.polling is not None else []
        return [vector for vector in (self.connection, self.driver_info, *polling, self.debug,
                                      self.config.process, self.debug_level)
                if vector.name not in self.own]

    # ---------------------------------------------------------------- saved configuration

    def bind(self, device: Mapping[str, PropertyVector], fallback: Fallback | None = None
             ) -> None:
        """Called once by the `Device` when all its vectors are in it (the `Device`, a
        mapping of name to vector): checks `config_names` and takes DEBUG, DEBUG_LEVEL,
        POLLING_PERIOD and the roles' `startup_names` from the saved configuration, as
        indilib does when it starts."""
        self.device = device
        self.fallback = fallback
        if self.config_names is None:
            names = [name for name in ("DEBUG", "POLLING_PERIOD", "DEBUG_LEVEL")
                     if name in device and name not in self.own]
            for role in self.roles:
                names += saved_names(role)
            self.config_names = names
        wrong = [name for name in self.config_names if name not in device or name in NEVER_SAVED]
        if wrong:
            raise ValueError(f"device {self.devicename!r}: config_names {wrong} are not vectors "
                             "it can save")
        startup = set(STARTUP_NAMES)
        for role in self.roles:
            startup.update(startup_names(role))
        for entry in self.config.startup(device, startup & set(self.config_names) - self.own):
            self._take(entry)

    def _take(self, entry: ConfigEntry) -> None:
        """One of the start-up entries, applied before the device is served (nothing sent).
        A OneOfMany switch takes only the member the file turns On (the vector turns the
        others Off), and nothing from a file that turns none On: it keeps its rule."""
        vector = self.device[entry.name]
        values = entry.values
        if isinstance(vector, SwitchVector) and vector.rule == "OneOfMany":
            values = {member: value for member, value in values.items() if value == "On"}
        for member, value in values.items():
            vector[member] = value
        if vector is self.config.polling:
            vector.state = "Ok"
            self._set_period(self.config.polling.getfloatvalue("PERIOD_MS"))
        elif entry.name == "DEBUG":
            self.debug_level.enable = self.debug["ENABLE"] == "On"
        if self.debug_level.enable:
            self._apply_levels()

    @property
    def saved(self) -> list[PropertyVector]:
        """The vectors CONFIG_SAVE writes, in `config_names`' order."""
        return [self.device[name] for name in self.config_names or ()]

    async def _apply_entry(self, entry: ConfigEntry) -> str:
        """A saved entry, handled as a client's request for it; why not, or ""."""
        if entry.name == "DEBUG_LEVEL" and not self.debug_level.enable:
            self._take(entry)  # kept for when DEBUG is enabled (then defined with them)
            return ""
        raw = new_event(self.devicename, entry)
        try:
            vector, values = check_new_vector({self.devicename: self.device}, raw)
        except Rejected as why:
            return why.reason
        event = NEW_EVENTS[type(raw)](raw, values, vector)
        if not await self.handle(event) and self.fallback is not None:
            await self.fallback(event)
        return ""

    def _set_period(self, milliseconds: float) -> None:
        for role in self.pollers:
            role.polling_seconds = milliseconds / 1000

    async def _polling(self, event: ClientVectorEvent[Any]) -> None:
        vector = event.vector
        for member, value in event.items():
            vector[member] = value
        self._set_period(vector.getfloatvalue("PERIOD_MS"))
        await vector.send_setVector(state="Ok")

    async def started(self) -> None:
        """The driver serves the device: each role's optional ``started`` hook runs (a
        failing one is logged; the others still run)."""
        for role in self.roles:
            hook: Callable[[], Awaitable[None]] | None = getattr(role, "started", None)
            if hook is None:
                continue
            try:
                await hook()
            except Exception as exc:  # noqa: BLE001  # the device is served all the same
                self.logger.error("Starting %s failed: %s: %s", type(role).__name__,
                                  type(exc).__name__, exc)

    async def set_interface(self, interface: Interface) -> None:
        """Change DRIVER_INTERFACE (KStars re-reads it from the set) and send it."""
        self.interface = interface
        self.driver_info["DRIVER_INTERFACE"] = interface.to_text()
        await self.driver_info.send_setVector()

    # ---------------------------------------------------------------- requests

    async def handle(self, event: ClientVectorEvent[Any]) -> bool:
        """Act on a client's request if it is for a standard or role vector; False if it is
        for one of the user's own vectors (then ``rxevent`` gets it)."""
        name = event.vectorname
        if name in self.own:
            return False
        if name == "CONNECTION":
            await self._connection(event)
            return True
        if name == "DEBUG":
            await self._debug(event)
            return True
        if name == "CONFIG_PROCESS":
            await self.config.run(event, self.saved, self.device, self._apply_entry)
            return True
        if name == "POLLING_PERIOD":
            await self._polling(event)
            return True
        if name == "DEBUG_LEVEL":
            for member, value in event.items():
                self.debug_level[member] = value
            self._apply_levels()
            await self.debug_level.send_setVector(state="Ok")
            return True
        role = self.owners.get(name or "")
        if role is not None:
            await role.new_vector(event)
            return True
        return False

    async def _connection(self, event: ClientVectorEvent[Any]) -> None:
        await run_chosen(event, {"CONNECT": self.connect, "DISCONNECT": self.disconnect})

    async def connect(self) -> None:
        """Connect: the hook, CONNECTION Ok, the roles' vectors defined, the roles told."""
        vector = self.connection
        if self.connected:
            await vector.send_setVector(state="Ok")
            return
        if self.connect_hook is not None:
            vector["CONNECT"] = "On"
            await vector.send_setVector(state="Busy")
            try:
                await self.connect_hook()
            except Exception as exc:  # noqa: BLE001  # any failure refuses the connect
                self.logger.error("Connect failed: %s: %s", type(exc).__name__, exc)
                vector["DISCONNECT"] = "On"
                await vector.send_setVector(state="Alert")
                return
        self.connected = True
        vector["CONNECT"] = "On"
        await vector.send_setVector(state="Ok")
        for role_vector in self.role_vectors:
            role_vector.enable = True
            await role_vector.send_defVector()
        for role in self.roles:
            await role.connected()

    async def disconnect(self) -> None:
        """Disconnect: the roles stopped, the hook, CONNECTION Idle, the roles' vectors
        deleted. A failing hook is logged; the device is disconnected all the same."""
        vector = self.connection
        if not self.connected:
            vector["DISCONNECT"] = "On"
            await vector.send_setVector(state="Idle")
            return
        for role in self.roles:
            try:
                await role.disconnected()
            except Exception as exc:  # noqa: BLE001
                self.logger.error("Stopping %s failed: %s: %s", type(role).__name__,
                                  type(exc).__name__, exc)
        if self.disconnect_hook is not None:
            try:
                await self.disconnect_hook()
            except Exception as exc:  # noqa: BLE001
                self.logger.error("Disconnect failed: %s: %s", type(exc).__name__, exc)
        self.connected = False
        vector["DISCONNECT"] = "On"
        await vector.send_setVector(state="Idle")
        for role_vector in self.role_vectors:
            if role_vector.enable:
                await role_vector.send_delProperty()

    async def _debug(self, event: ClientVectorEvent[Any]) -> None:
        on = event.get("ENABLE") == "On" or (event.get("DISABLE") == "Off"
                                              and "ENABLE" not in event)
        self.debug["ENABLE" if on else "DISABLE"] = "On"
        await self.debug.send_setVector(state="Ok")
        if on and not self.debug_level.enable:
            self.debug_level.enable = True
            self._apply_levels()
            await self.debug_level.send_defVector()
        elif not on and self.debug_level.enable:
            await self.debug_level.send_delProperty()
            self.set_tags(DEFAULT_TAGS)

    def _apply_levels(self) -> None:
        self.set_tags({tag for name, _label, tag, _on in DEBUG_LEVELS
                       if self.debug_level[name] == "On"})

    def set_tags(self, tags: set[str] | frozenset[str]) -> None:
        """The tags of the device's messages sent to clients (`MessageHandler.tags`); the
        device's logger goes to DEBUG level only while ``[DEBUG]`` is among them."""
        if self.handler is not None:
            self.handler.tags = set(tags)
        self.logger.setLevel(logging.DEBUG if "DEBUG" in tags else logging.INFO)
        # A device's logger is its own (not in logging's registry), so setLevel cannot clear
        # its cache of isEnabledFor answers: clear it here.
        cache = getattr(self.logger, "_cache", None)
        if isinstance(cache, dict):
            cache.clear()
