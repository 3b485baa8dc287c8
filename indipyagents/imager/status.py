"""`StatusLights`: indilib's STATUS (a light for the CCD and one for the wheel), kept true while
the agent is connected: the controlled devices connected on CONNECT (Busy, then Ok or Alert),
then followed, a device deleted, disconnected or unreachable turning its light Alert (and Ok
again once connected again). indilib's agent notices none of that; a batch watches its own
devices (`BatchRun`), these lights are what a client sees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from indipyclient import ConnectionLost
from indipyclient import delProperty
from indipyclient import setSwitchVector
from indipyclient.model.events import Event
from indipydriver import LightVector
from indipydriver import TextVector

from ..link import AgentLink
from ..rig.connect import connect_device
from ..rig.protocols import RigError

__all__ = ["LIGHTS", "StatusLights"]

#: STATUS's lights, each named for a member of DEVICES.
LIGHTS = ("CCD", "FILTER")


class StatusLights:
    """STATUS over DEVICES' CCD and FILTER, through `link`."""

    def __init__(self, link: AgentLink, status: LightVector, devices: TextVector,
                 log: Callable[[], logging.Logger]) -> None:
        self.link = link
        self.status = status
        self.devices = devices
        self._log = log

    def light_of(self, device: str) -> str | None:
        """The light of `device` (CCD or FILTER), None for a device DEVICES does not name."""
        for light in LIGHTS:
            if device == self.devices[light]:
                return light
        return None

    async def light(self, light: str, state: str) -> None:
        if self.status[light] != state:
            self.status[light] = state
            await self.status.send_setVector()

    async def alert(self, failure: RigError) -> None:
        """STATUS Alert naming `failure`, its device's light too."""
        light = self.light_of(failure.device)
        if light is not None:
            self.status[light] = "Alert"
        await self.status.send_setVector(state="Alert", message=str(failure))

    async def watch(self) -> None:
        """Connect the controlled devices (Busy, then Ok or Alert), then follow them until
        cancelled (the agent disconnected)."""
        try:
            client = await self.link.client()
        except (ConnectionError, OSError) as exc:
            self._log().error("Imager agent cannot reach the INDI server at %s: %s",
                              self.link.address, exc)
            await self.status.send_setVector(state="Alert", message=str(exc))
            return
        async with client.events(maxsize=256) as stream:
            for light in LIGHTS:
                name = self.devices[light]
                if not name:
                    continue
                await self.light(light, "Busy")
                try:
                    await connect_device(client, name)
                except RigError as exc:
                    self._log().error("%s", exc)
                    await self.light(light, "Alert")
                else:
                    await self.light(light, "Ok")
            async for event in stream:
                await self._follow(event)

    async def _follow(self, event: object) -> None:
        if isinstance(event, ConnectionLost):
            for light in LIGHTS:
                await self.light(light, "Alert")
            return
        if not isinstance(event, Event) or event.devicename is None:
            return
        device = event.devicename
        which = self.light_of(device)
        if which is None:
            return
        if isinstance(event, delProperty) and event.vectorname is None:
            await self.light(which, "Alert")
        elif isinstance(event, setSwitchVector) and event.vectorname == "CONNECTION":
            on = dict(event).get("CONNECT") == "On"
            await self.light(which, "Ok" if on else "Alert")
