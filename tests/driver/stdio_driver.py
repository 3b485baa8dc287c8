"""A tiny executable driver for the stdio tests: sends a BLOB of argv[1] bytes on request;
with argv[2] ``inline``, never as a memory file (``shared_blobs = False``)."""

from __future__ import annotations

import asyncio
import sys

from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import SwitchMember
from indipydriver import SwitchVector


class BlobDriver(IPyDriver):
    async def rxevent(self, event):  # type: ignore[no-untyped-def]
        if event.vectorname == "GO":
            blob = self["Cam"]["IMAGE"]
            blob["IMAGE"] = bytes(range(256)) * (int(sys.argv[1]) // 256)
            await blob.send_setVectorMembers(members=["IMAGE"])
            event.vector.state = "Ok"
            await event.vector.send_setVector()


def main() -> None:
    device = Device("Cam", [
        SwitchVector("GO", "Go", "", "rw", "AnyOfMany", "Idle", [SwitchMember("NOW")]),
        BLOBVector("IMAGE", "Image", "", "ro", "Idle", [BLOBMember("IMAGE", blobformat=".bin")]),
    ])
    driver = BlobDriver(device)
    driver.shared_blobs = sys.argv[2:3] != ["inline"]
    asyncio.run(driver.asyncrun())


if __name__ == "__main__":
    main()
