"""A small driver with every vector kind, used by the driver tests."""

from __future__ import annotations

import asyncio
from typing import Any

from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector

DEV = "Dev"


class RecordingDriver(IPyDriver):
    """Records every rxevent/snoopevent; echoes accepted values back as the 3.x docs show."""

    def __init__(self, *devices: Device, **data: Any) -> None:
        super().__init__(*devices, **data)
        self.events: list[Any] = []
        self.snooped: list[Any] = []

    async def rxevent(self, event: Any) -> None:
        self.events.append(event)
        if self.driverdata.get("echo") and event.vector is not None and hasattr(event, "items"):
            for name, value in event.items():
                event.vector[name] = value
            await event.vector.send_setVector()

    async def hardware(self) -> None:
        pass

    async def snoopevent(self, event: Any) -> None:
        self.snooped.append(event)


class SlowDriver(RecordingDriver):
    """A driver slower than its peers: its rxevent and snoopevent each set `busy`, then wait
    for `gate` before recording the event. With a queue of three, what it is sent meanwhile
    fills its bounded queues."""

    rx_queue_size = 3

    def __init__(self, *devices: Device, **data: Any) -> None:
        super().__init__(*devices, **data)
        self.gate, self.busy = asyncio.Event(), asyncio.Event()

    async def rxevent(self, event: Any) -> None:
        self.busy.set()
        await self.gate.wait()
        self.events.append(event)

    async def snoopevent(self, event: Any) -> None:
        self.busy.set()
        await self.gate.wait()
        self.snooped.append(event)


def make_device() -> Device:
    return Device(
        DEV,
        [
            NumberVector("NUM", "Numbers", "G", "rw", "Idle", [
                NumberMember("A", format="%.2f", min=-10, max=10, step=0, membervalue=1),
                NumberMember("B", format="%9.6m", min=0, max=0, step=0, membervalue="0"),
            ]),
            NumberVector("RO", "Read only", "G", "ro", "Idle", [NumberMember("X")]),
            SwitchVector("ONE", "One of many", "G", "rw", "OneOfMany", "Idle", [
                SwitchMember("S1", membervalue="On"),
                SwitchMember("S2"),
                SwitchMember("S3"),
            ]),
            SwitchVector("ATMOST", "At most one", "G", "rw", "AtMostOne", "Idle", [
                SwitchMember("M1"), SwitchMember("M2"),
            ]),
            SwitchVector("ANY", "Any", "G", "rw", "AnyOfMany", "Idle", [
                SwitchMember("Y1"), SwitchMember("Y2"),
            ]),
            TextVector("TXT", "Text", "G", "rw", "Idle", [TextMember("T", membervalue="hello")]),
            LightVector("LIGHTS", "Lights", "G", "Idle", [LightMember("L")]),
            BLOBVector("BLOB", "Blob", "G", "rw", "Idle", [BLOBMember("IMG", blobformat=".bin")]),
        ],
    )


def make_driver(**data: Any) -> RecordingDriver:
    return RecordingDriver(make_device(), **data)
