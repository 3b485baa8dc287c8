"""`IndiWheel`: the rig's `Wheel` on any INDI filter wheel (FILTER_SLOT, FILTER_NAME), driven
with `indiset.command`; a filter is chosen by name or by slot number."""

from __future__ import annotations

import contextlib

from indipyclient import Client
from indipyclient.model.properties import PropertyVector
from indipycore.protocol import State

from .indiset import command
from .indiset import require
from .keeper import use_device
from .protocols import DeviceLost
from .protocols import DeviceRefused

__all__ = ["WHEEL_WAIT", "IndiWheel"]

#: Seconds a wheel may take to turn (a large wheel, the far slot) before it counts as lost:
#: a wheel silent that long is lost, and a batch's or a plan's retry policy asks again (a
#: wheel's answer missed would otherwise hold the batch, its face still Busy, for minutes).
WHEEL_WAIT = 60.0


#: Seconds `prepare` waits for a wheel's FILTER_NAME.
FILTER_NAME_WAIT = 5.0


class IndiWheel:
    """The INDI filter wheel `device` on `client`."""

    def __init__(self, client: Client, device: str) -> None:
        self.client = client
        self.name = device

    async def prepare(self) -> None:
        """Ready for `select`: the wheel connected (again, after its driver was restarted) and
        FILTER_SLOT defined (`DeviceLost` otherwise)."""
        await use_device(self.client, self.name)
        await require(self.client, self.name, "FILTER_SLOT")
        # FILTER_NAME may come a moment after FILTER_SLOT to a client that just connected (an
        # agent started again): a plan checked before it came would find no filter named.
        # A wheel that names none is let be after a few seconds.
        with contextlib.suppress(TimeoutError):
            await self.client.wait_for(self.name, "FILTER_NAME", timeout=FILTER_NAME_WAIT)

    def filters(self) -> list[str]:
        """The filters' names, slot 1 first (FILTER_NAME, in the order the driver defined
        them); empty when the wheel names none."""
        names = self.client.devices.vector(self.name, "FILTER_NAME")
        return [] if names is None else [str(names[member]) for member in names]

    async def _still(self) -> PropertyVector | None:
        """FILTER_SLOT once the wheel is not turning: a turn under way (asked for by an agent
        killed mid-batch and started again, or by another client) is waited for, within
        WHEEL_WAIT, since a wheel refuses a new turn until it stops ("still turning: try
        again"); `DeviceLost` when it never stops."""
        vector = self.client.devices.vector(self.name, "FILTER_SLOT")
        if vector is None or vector.state != State.BUSY:
            return vector
        try:
            return await self.client.wait_for(self.name, "FILTER_SLOT", timeout=WHEEL_WAIT,
                                              state=(State.OK, State.IDLE, State.ALERT))
        except TimeoutError:
            raise DeviceLost(self.name, f"FILTER_SLOT still turning after {WHEEL_WAIT:g} s") \
                from None

    def _current(self) -> int:
        if self.client.devices.vector(self.name, "FILTER_SLOT") is None:
            raise DeviceLost(self.name, "FILTER_SLOT is not defined")
        return round(float(self.client.get(self.name, "FILTER_SLOT", "FILTER_SLOT_VALUE")))

    async def slot(self) -> int:
        return self._current()

    def slot_of(self, filter: str | int) -> int:
        """The slot of a filter name (or a slot number, checked against the wheel's limits);
        `DeviceRefused` naming the wheel's filters when there is none such."""
        vector = self.client.devices.vector(self.name, "FILTER_SLOT")
        if vector is None:
            raise DeviceLost(self.name, "FILTER_SLOT is not defined")
        if isinstance(filter, int):
            member = vector.member("FILTER_SLOT_VALUE")
            low, high = float(member.min), float(member.max)
            if not low <= filter <= high:
                raise DeviceRefused(self.name, f"no slot {filter} (it has {low:g}..{high:g})")
            return filter
        names = self.filters()
        if filter in names:
            return names.index(filter) + 1
        raise DeviceRefused(self.name, f"no filter named {filter!r} (it has {', '.join(names)})")

    async def select(self, filter: str | int) -> int:
        """Turn to `filter` and return its slot; at once when the wheel is there and still
        (Ok or Idle: one whose last turn went Alert, or that still turns, is asked again)."""
        await self.prepare()
        wanted = self.slot_of(filter)
        vector = await self._still()
        if wanted == self._current() and vector is not None \
                and vector.state in (State.OK, State.IDLE):
            return wanted
        await command(self.client, self.name, "FILTER_SLOT", {"FILTER_SLOT_VALUE": wanted},
                      timeout=WHEEL_WAIT)
        return self._current()
