"""`IndiFocuser`: the rig's `Focuser` on an INDI focuser's standard properties.

ABS_FOCUS_POSITION moves it (`indiset.command`: the move's Ok, or Alert -> `DeviceRefused`,
silence -> `DeviceLost`); its range is ABS_FOCUS_POSITION's minimum up to FOCUS_MAX (indilib's
focusers change that member's maximum with it; one without FOCUS_MAX has the member's maximum);
FOCUS_TEMPERATURE, where the focuser has it, is its temperature. Works on any focuser the
server holds: ours, indilib's, a remote server's, an Alpaca one through ``alpaca://``.
"""

from __future__ import annotations

from indipyclient import Client
from indipyclient.model.properties import NumberVector
from indipycore.protocol.numbers import parse_number

from .indiset import DEFINITION_WAIT
from .indiset import command
from .indiset import is_connected
from .indiset import require
from .protocols import DeviceLost
from .protocols import DeviceRefused
from .protocols import Focuser

__all__ = ["MOVE_WAIT", "IndiFocuser"]

#: Seconds a move may take before the focuser counts as lost (a slow focuser's full travel).
MOVE_WAIT = 300.0

POSITION = "ABS_FOCUS_POSITION"
MEMBER = "FOCUS_ABSOLUTE_POSITION"


class IndiFocuser:
    """The focuser `device` on `client`'s server. `ready()` waits for its definitions (the
    moves wait for them too); `limits()` reads what the client knows, so call it after."""

    def __init__(self, client: Client, device: str, *,
                 definition_wait: float = DEFINITION_WAIT) -> None:
        self.client = client
        self.name = device
        self.definition_wait = definition_wait

    async def ready(self) -> None:
        """Return once the focuser is connected and has defined ABS_FOCUS_POSITION (waiting
        `definition_wait` s at most); `DeviceLost` naming what is missing otherwise."""
        await require(self.client, self.name, POSITION, self.definition_wait)
        if not is_connected(self.client, self.name):
            raise DeviceLost(self.name, "not connected")

    async def position(self) -> int:
        await self.ready()
        return round(float(self.client.get(self.name, POSITION, MEMBER)))

    def limits(self) -> tuple[int, int]:
        model = self.client.devices
        vector = model.vector(self.name, POSITION)
        if vector is None:
            raise DeviceLost(self.name, f"{POSITION} is not defined")
        member = vector.member(MEMBER)
        low, high = parse_number(member.min), parse_number(member.max)
        most = model.vector(self.name, "FOCUS_MAX")
        if isinstance(most, NumberVector) and "FOCUS_MAX_VALUE" in most:
            high = most.getfloatvalue("FOCUS_MAX_VALUE")
        return round(low), round(high)

    async def move_to(self, position: int) -> int:
        """Move to `position` and return where the focuser says it stopped; a position
        outside `limits()` is refused here, before anything moves."""
        await self.ready()
        low, high = self.limits()
        if not low <= position <= high:
            raise DeviceRefused(self.name, f"position {position} is outside {low}..{high}")
        await command(self.client, self.name, POSITION, {MEMBER: position}, timeout=MOVE_WAIT)
        return round(float(self.client.get(self.name, POSITION, MEMBER)))

    async def temperature(self) -> float | None:
        vector = self.client.devices.vector(self.name, "FOCUS_TEMPERATURE")
        if not isinstance(vector, NumberVector) or "TEMPERATURE" not in vector:
            return None
        return float(vector.getfloatvalue("TEMPERATURE"))


def _a_rig_focuser(focuser: IndiFocuser) -> Focuser:
    """Never called: mypy checks here that `IndiFocuser` is the rig's `Focuser`."""
    return focuser
