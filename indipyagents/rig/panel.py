"""`IndiPanel`: the rig's `Panel` on any INDI light box (indilib's LightBoxInterface, e.g.
``indi_simulator_lightpanel``): FLAT_LIGHT_CONTROL (FLAT_LIGHT_ON/OFF) and
FLAT_LIGHT_INTENSITY (FLAT_LIGHT_INTENSITY_VALUE); a flip-flat's dust cap (CAP_PARK's PARK)
closed before the light where the device has one. Driven with `indiset.command`."""

from __future__ import annotations

import contextlib

from indipyclient import Client
from indipycore.protocol import State

from .indiset import command
from .indiset import defined
from .indiset import park_switch
from .indiset import require
from .keeper import use_device

__all__ = ["CAP_WAIT", "IndiPanel"]

#: Seconds a dust cap may take to close.
CAP_WAIT = 60.0
INTENSITY = ("FLAT_LIGHT_INTENSITY", "FLAT_LIGHT_INTENSITY_VALUE")


class IndiPanel:
    """The INDI light box `device` on `client`."""

    def __init__(self, client: Client, device: str) -> None:
        self.client = client
        self.name = device

    async def prepare(self) -> None:
        """Connected (again, after its driver restarted) and FLAT_LIGHT_CONTROL defined."""
        await use_device(self.client, self.name)
        await require(self.client, self.name, "FLAT_LIGHT_CONTROL")
        await defined(self.client, self.name, INTENSITY[0])

    async def light(self, on: bool) -> None:
        """The light on (the cap parked first, where there is one) or off; nothing sent
        when it already is."""
        await self.prepare()
        if on and await defined(self.client, self.name, "CAP_PARK", timeout=0.5):
            await park_switch(self.client, self.name, "CAP_PARK", "PARK", timeout=CAP_WAIT)
        member = "FLAT_LIGHT_ON" if on else "FLAT_LIGHT_OFF"
        vector = self.client.devices.vector(self.name, "FLAT_LIGHT_CONTROL")
        if vector is not None and vector[member] == "On" and vector.state == State.OK:
            return
        await command(self.client, self.name, "FLAT_LIGHT_CONTROL", {member: "On"},
                      accept=(State.OK, State.IDLE))

    async def brightness(self) -> float | None:
        await self.prepare()
        with contextlib.suppress(TypeError, ValueError):
            return float(self.client.get(self.name, *INTENSITY))
        return None

    def brightness_range(self) -> tuple[float, float] | None:
        vector = self.client.devices.vector(self.name, INTENSITY[0])
        if vector is None or INTENSITY[1] not in vector:
            return None
        member = vector.member(INTENSITY[1])
        with contextlib.suppress(TypeError, ValueError):
            if (low := float(member.min)) < (high := float(member.max)):
                return low, high
        return None

    async def set_brightness(self, value: float) -> None:
        await self.prepare()
        await command(self.client, self.name, INTENSITY[0], {INTENSITY[1]: value},
                      accept=(State.OK, State.IDLE))
