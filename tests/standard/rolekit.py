"""Shared by the role tests: a harness connected to one standard device, and waiting for a
vector's set in a given state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from indipycore.protocol.enums import State
from indipycore.protocol.enums import SwitchState
from indipycore.protocol.events import NewNumberVector
from indipycore.protocol.events import NewSwitchVector
from indipycore.protocol.events import Number
from indipycore.protocol.events import SetSwitchVector
from indipycore.protocol.events import Switch
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver.testing import DriverHarness


@contextlib.asynccontextmanager
async def connected(name: str, *roles: Any, timeout: float = 5.0) -> AsyncIterator[DriverHarness]:
    """A harness on a driver with one device `name` holding `roles`, connected by the client
    (CONNECTION Ok seen); what the roles defined on connect is left queued."""
    driver = IPyDriver(Device(name, roles=list(roles)))
    async with DriverHarness(driver, timeout=timeout) as client:
        await client.get_properties()
        await switch(client, name, "CONNECTION", CONNECT="On")
        await client.expect(SetSwitchVector, name="CONNECTION", state=State.OK)
        yield client


async def switch(client: DriverHarness, device: str, vector: str, **values: str) -> None:
    """Send a newSwitchVector of `values` (member=On/Off)."""
    await client.send(NewSwitchVector(device, vector, tuple(
        Switch(name, SwitchState(value)) for name, value in values.items())))


async def number(client: DriverHarness, device: str, vector: str, **values: float | str) -> None:
    """Send a newNumberVector of `values`."""
    await client.send(NewNumberVector(device, vector, tuple(
        Number(name, str(value)) for name, value in values.items())))


def value(event: Any, member: str) -> Any:
    """A member's value in a received set or def event."""
    return event[member].value


async def definitions(client: DriverHarness, count: int) -> dict[str, Any]:
    """The next `count` definitions received (what `connected` left queued), by vector name;
    other events passed over."""
    defs: dict[str, Any] = {}
    while len(defs) < count:
        event = await client.receive()
        if type(event).__name__.startswith("Def"):
            defs[event.name] = event
    return defs
