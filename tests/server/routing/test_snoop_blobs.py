"""A Python driver snooping another device's BLOBs through the server (indilib's IDSnoopBLOBs).

Protects: a snooping driver gets no BLOBs until it sends enableBLOB, as a client; after
``send_enableBLOB("Also", device)`` the images reach its ``snoopevent`` as ``setBLOBVector``
events with the decoded bytes, and ``"Never"`` stops them again.
"""

from __future__ import annotations

from typing import Any

from serverkit import make_gadget
from serverkit import running
from serverkit import send_blob
from waiting import until

from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import setBLOBVector
from indipyserver import IPyServer


class BlobSnooper(IPyDriver):
    def __init__(self) -> None:
        super().__init__(Device("Snoop", [TextVector("T", "T", "G", "ro", "Idle",
                                                     [TextMember("t", membervalue="x")])]))
        self.snooped: list[Any] = []

    async def snoopevent(self, event: Any) -> None:
        self.snooped.append(event)

    def blobs(self) -> list[bytes]:
        return [e["I"] for e in self.snooped if isinstance(e, setBLOBVector)]


def _static_defs(snooper: BlobSnooper) -> int:
    return sum(type(e).__name__.startswith("def") and getattr(e, "vectorname", None) == "STATIC"
               for e in snooper.snooped)


async def _dealt_with(snooper: BlobSnooper) -> None:
    """The server has dealt with everything the snooper sent so far: it answers a getProperties
    for a defined vector from its cache, after what came before it from the same driver."""
    before = _static_defs(snooper)
    await snooper.send_getProperties("Gadget", "STATIC")
    await until(lambda: _static_defs(snooper) > before)


async def test_snooping_driver_gets_blobs_only_after_send_enableblob() -> None:
    camera = make_gadget()
    snooper = BlobSnooper()
    async with running(IPyServer(camera, snooper, port=0, handle_signals=False)):
        await snooper.send_getProperties("Gadget")
        await until(lambda: any(getattr(e, "vectorname", None) == "IMAGE"
                                 for e in snooper.snooped))
        await send_blob(camera, b"before")
        await camera["Gadget"]["STATIC"].send_setVector()  # a later message: the BLOB was routed
        await until(lambda: sum(getattr(e, "vectorname", None) == "STATIC"
                                 for e in snooper.snooped) >= 2)
        assert snooper.blobs() == []

        await snooper.send_enableBLOB("Also", "Gadget", "IMAGE")
        await _dealt_with(snooper)
        await send_blob(camera, b"first image")
        await until(lambda: snooper.blobs() == [b"first image"])

        await snooper.send_enableBLOB("Never", "Gadget", "IMAGE")
        await _dealt_with(snooper)
        await send_blob(camera, b"after never")
        await camera["Gadget"]["STATIC"].send_setVector()
        await until(lambda: sum(getattr(e, "vectorname", None) == "STATIC"
                                 for e in snooper.snooped) >= 3)
        assert snooper.blobs() == [b"first image"]
