"""The autofocus tests' camera: `rig.protocols.Camera` by CCD_BINNING, CCD_EXPOSURE and the
CCD1 BLOB on an indipyclient connection. It stands in for the imager helper's
``indipyagents.rig.camera.IndiCamera`` until that is merged (issue 71: the lead swaps it in);
it is a real INDI client of a real camera, not a double of one."""

from __future__ import annotations

import asyncio

import indipyclient
from indipyagents.plan.model import FrameType
from indipyagents.rig.protocols import DeviceLost
from indipyagents.rig.protocols import Frame
from indipyclient import events


class ClientCamera:
    """The camera `device` on `client`'s server, its BLOBs enabled on first use."""

    def __init__(self, client: indipyclient.Client, device: str) -> None:
        self.client = client
        self.name = device
        self._blobs = False

    async def expose(self, seconds: float, *, binning: int = 1, frame_type: FrameType = "Light",
                     gain: float | None = None, offset: float | None = None) -> Frame:
        if not self._blobs:
            await self.client.send_enableBLOB("Also", self.name)
            self._blobs = True
        await self.client.set(self.name, "CCD_BINNING", {"HOR_BIN": binning, "VER_BIN": binning},
                              timeout=10)
        stream = self.client.events()
        await self.client.set(self.name, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds},
                              wait=False)
        async with asyncio.timeout(seconds + 60):
            async for event in stream:
                if isinstance(event, events.setBLOBVector) and event.devicename == self.name \
                        and "CCD1" in event.data:
                    size_format = event.sizeformat.get("CCD1")
                    return Frame(bytes(event["CCD1"]),
                                 size_format[1] if size_format else ".fits")
        raise DeviceLost(self.name, "the connection ended before the frame came")

    async def abort(self) -> None:
        await self.client.set(self.name, "CCD_ABORT_EXPOSURE", {"ABORT": "On"}, timeout=10)

    async def name_devices(self, *, mount: str = "", focuser: str = "",
                           wheel: str = "") -> None:
        await self.client.set(self.name, "ACTIVE_DEVICES", {
            "ACTIVE_TELESCOPE": mount, "ACTIVE_FOCUSER": focuser, "ACTIVE_FILTER": wheel},
            timeout=10)

    async def warm(self) -> None:
        await self.client.set(self.name, "CCD_COOLER", {"COOLER_OFF": "On"}, timeout=10)

    def has_gain(self) -> bool:
        return False

    def has_offset(self) -> bool:
        return False
