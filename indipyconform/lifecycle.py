"""Driving one device through CONNECT and DISCONNECT, and what the checker sees on the way.

indilib defines a role's properties when the device connects and deletes them when it
disconnects; clients (Ekos above all) rely on it. The checker looks at the device as it finds
it, connects it (or, when it was connected, disconnects it first), checks the role's
properties at each step, and leaves the device connected or not as it found it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from typing import TYPE_CHECKING

from indipycore.interface import Interface
from indipycore.protocol.enums import State

from .expected import ROLES
from .report import Check
from .report import Level
from .shape import role_checks

if TYPE_CHECKING:
    from indipyclient.session.connect import Client

__all__ = ["Lifecycle", "required_names", "settle"]

#: Seconds a device may take to connect or disconnect (CONNECTION Busy, then Ok/Idle).
CONNECT_TIMEOUT = 30.0
#: Seconds without news about the device after which its definitions are taken as complete.
QUIET = 0.5


def required_names(bits: Interface) -> list[str]:
    """The properties the device's roles must define once connected."""
    names: list[str] = []
    for bit, role in ROLES.items():
        if bit & bits:
            names.extend(spec.name for spec in role.required if spec.name not in names)
    return names


async def settle(client: Client, device: str, done: Callable[[], bool], timeout: float,
                 quiet: float = QUIET) -> bool:
    """Wait until ``done()`` holds and nothing about ``device`` has arrived for ``quiet``
    seconds (so the definitions sent with it are in), at most ``timeout`` seconds; whether
    ``done()`` held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with client.events() as stream:
        iterator = aiter(stream)
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return done()
            try:
                event = await asyncio.wait_for(anext(iterator), min(quiet, left) if done()
                                               else left)
            except TimeoutError:
                if done():
                    return True
                continue
            except StopAsyncIteration:
                return done()
            del event


class Lifecycle:
    """The CONNECT / DISCONNECT checks of one device with the role bits ``bits``."""

    def __init__(self, client: Client, device: str, bits: Interface, role_timeout: float = 10.0,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.client = client
        self.device = device
        self.bits = bits
        self.required = required_names(bits)
        self.role_timeout = role_timeout
        self.connect_timeout = connect_timeout

    def _defined(self) -> list[str]:
        device = self.client.model.devices.get(self.device)
        return [] if device is None else [n for n in self.required if n in device.vectors]

    def _connected(self) -> bool:
        vector = self.client.model.vector(self.device, "CONNECTION")
        return vector is not None and vector.get("CONNECT") == "On"

    def drivable(self) -> Check | None:
        """None when CONNECTION can be switched; else the FAIL saying why the CONNECT and
        DISCONNECT steps are skipped (a CONNECTION misnamed, of another type or read-only)."""
        vector = self.client.model.vector(self.device, "CONNECTION")
        where = f"{self.device}.CONNECTION"
        problem = ("is not defined" if vector is None else
                   f"is a {vector.vectortype}" if vector.vectortype != "SwitchVector" else
                   "is read-only" if vector.perm == "ro" else
                   "has no member CONNECT or DISCONNECT" if not {"CONNECT", "DISCONNECT"} <= set(
                       vector) else "")
        if not problem:
            return None
        return Check(Level.FAIL, self.device, "CONNECTION",
                     f"CONNECT / DISCONNECT skipped: prerequisite {where} {problem}")

    async def _switch(self, member: str) -> Check:
        name = "CONNECT" if member == "CONNECT" else "DISCONNECT"
        if not self.client.connected:
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name} skipped: lost the connection to the server")
        if self.client.model.vector(self.device, "CONNECTION") is None:
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name} skipped: {self.device}.CONNECTION is no longer defined")
        try:
            result = await self.client.set(self.device, "CONNECTION", {member: "On"}, wait=True,
                                           timeout=self.connect_timeout)
        except Exception as exc:  # noqa: BLE001 - a broken CONNECTION is a FAIL, not the end
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name}: {type(exc).__name__}: {exc}")
        if result.timed_out:
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name}: still Busy after {self.connect_timeout:g} s")
        if result.state == State.ALERT:
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name}: Alert ({result.message or 'no message'})")
        wanted = member == "CONNECT"
        if self._connected() != wanted:
            return Check(Level.FAIL, self.device, "CONNECTION",
                         f"{name}: state {result.state} but CONNECT is "
                         f"{'Off' if wanted else 'On'}")
        return Check(Level.PASS, self.device, "CONNECTION",
                     f"{name} answered {result.state} with {name}=On")

    def _absent(self, when: str) -> Check:
        defined = self._defined()
        if defined:
            return Check(Level.FAIL, self.device, ", ".join(defined),
                         f"expected role properties only while connected; defined {when}")
        return Check(Level.PASS, self.device, "role properties", f"none defined {when}")

    async def _connect(self) -> list[Check]:
        checks = [await self._switch("CONNECT")]
        if not checks[0].ok:  # still check the shape of whatever the device defines
            return [*checks, *(await self._connect_checks_now())]
        complete = await settle(self.client, self.device,
                                lambda: len(self._defined()) == len(self.required),
                                self.role_timeout)
        if not complete:
            missing = sorted(set(self.required) - set(self._defined()))
            checks.append(Check(Level.FAIL, self.device, ", ".join(missing),
                                f"not defined {self.role_timeout:g} s after CONNECT"))
        device = self.client.model.devices.get(self.device)
        vectors = {} if device is None else dict(device.vectors)
        checks.extend(role_checks(self.device, self.bits, vectors))
        return checks

    async def _disconnect(self) -> list[Check]:
        checks = [await self._switch("DISCONNECT")]
        if checks[0].ok:
            await settle(self.client, self.device, lambda: not self._defined(),
                         self.role_timeout)
            checks.append(self._absent("after DISCONNECT (delProperty expected)"))
        return checks

    async def run(self, while_connected: Callable[[], Awaitable[list[Check]]] | None = None
                  ) -> list[Check]:
        """The lifecycle checks, with ``while_connected`` (the live checks) run while the
        device is connected; the device is left as it was found."""
        checks: list[Check] = []
        cannot = self.drivable()
        if cannot is not None:
            return [cannot, *(await self._connect_checks_now() if self._connected() else [])]
        if self._connected():
            connected_checks = await self._connect_checks_now()
            checks.extend(connected_checks)
            if while_connected is not None:
                checks.extend(await while_connected())
            checks.extend(await self._disconnect())
            checks.extend(await self._connect())  # put back: connected, as found
            return checks
        checks.append(self._absent("before CONNECT"))
        connected = await self._connect()
        checks.extend(connected)
        if while_connected is not None and connected[0].ok:
            checks.extend(await while_connected())
        if connected[0].ok:
            checks.extend(await self._disconnect())  # put back: disconnected, as found
        return checks

    async def _connect_checks_now(self) -> list[Check]:
        device = self.client.model.devices.get(self.device)
        vectors = {} if device is None else dict(device.vectors)
        return role_checks(self.device, self.bits, vectors)

    def defined(self, names: Collection[str]) -> bool:
        """Whether every one of ``names`` is defined on the device now."""
        device = self.client.model.devices.get(self.device)
        return device is not None and all(name in device.vectors for name in names)
