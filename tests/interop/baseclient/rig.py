"""The Python driver the BaseClient interop tests talk to: one device with a vector of each kind.

Device ``"BaseClient Rig"`` (a space in the name, as in "CCD Simulator"):

================ ====== ==== ===================================================================
vector           kind   perm what the driver does with a client's new*Vector
================ ====== ==== ===================================================================
``COORDS``       Number rw   stores RA (``%010.6m``), DEC (``%9.6m``), GAIN (``%.1f``, step 0.5)
                             and replies with all three, state Ok
``FORMATS``      Number ro   (none) members in a range of formats, to compare libindi's display
                             formatting with ours
``MODE``         Switch rw   OneOfMany SLOW/FAST/TURBO: the member turned On wins, reply Ok
``SITE``         Text   rw   stores NAME and NOTE, replies Ok
``STATUS``       Light       (none)
``IMAGE``        BLOB   ro   (none) FRAME carries what BLOB_REQUEST asks for
``BLOB_REQUEST`` Number rw   SIZE bytes from ``random.Random(SEED)``: replies Ok, sends them as
                             IMAGE.FRAME (format ``.bin``), then BLOB_COUNT += 1
``BLOB_COUNT``   Number ro   BLOBs sent so far (sent after each BLOB)
``SAY``          Text   rw   MESSAGE becomes a device message, and a site-wide one prefixed
                             ``"site: "``
``SPARE``        Number ro   deleted by ACTIONS.DELETE_SPARE
``ACTIONS``      Switch rw   AtMostOne: DELETE_SPARE deletes SPARE, DELETE_DEVICE the device
================ ====== ==== ===================================================================

Every client request the driver's ``rxevent`` gets is appended to the JSON-lines file
``rxlog`` (``{"vector", "kind", "values", "raw"}``, raw = the wire text of each member), so a
test can check what reached the driver whether it runs in-process or under indilib's
indiserver; :func:`run_stdio` runs it on stdin/stdout (indiserver starts it through a launcher
script the test writes, since indiserver passes a driver no arguments).
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from indipydriver import BLOBMember
from indipydriver import BLOBVector
from indipydriver import Device
from indipydriver import IPyDriver
from indipydriver import LightMember
from indipydriver import LightVector
from indipydriver import NumberMember
from indipydriver import NumberVector
from indipydriver import RxEvent
from indipydriver import SwitchMember
from indipydriver import SwitchVector
from indipydriver import TextMember
from indipydriver import TextVector
from indipydriver import newNumberVector
from indipydriver import newSwitchVector
from indipydriver import newTextVector

DEVICE = "BaseClient Rig"
# Text with characters that must be escaped in XML, and non-ASCII ones, to cross the wire.
NOTE = 'Ångström & <b>"quoted"</b> \'apostrophe\''
# (member, format, value) for FORMATS: printf and INDI sexagesimal forms drivers use.
FORMATS = [
    ("SEXA_RA", "%010.6m", 5.5 + 30 / 3600),
    ("SEXA_DEC", "%9.6m", -10.505),
    ("SEXA_NEG_SMALL", "%9.6m", -0.25),
    ("SEXA_MIN", "%7.3m", -123.75),
    ("SEXA_FINE", "%11.8m", 23.999),
    ("SEXA_HUNDREDTHS", "%12.9m", 359.99999),
    ("SEXA_TENTH_MIN", "%8.5m", 7.125),
    ("FIXED", "%.3f", 3.14159),
    ("SIGNED_PADDED", "%+08.2f", -2.5),
    ("INTEGER_LOOKING", "%5.0f", 1234.4),
    ("EXPONENT", "%.4e", 6.02214076e23),
    ("GENERAL", "%g", 0.0001234),
]


def blob_bytes(size: int, seed: int) -> bytes:
    """The bytes BLOB_REQUEST sends: reproducible from (size, seed), incompressible."""
    return random.Random(seed).randbytes(size)


class RigDriver(IPyDriver):
    """Answers the rig's client requests (see the module docstring)."""

    def _log(self, event: Any, kind: str) -> None:
        raw = {m.name: m.value for m in getattr(event.raw, "members", ())}
        entry = {"vector": event.vectorname, "kind": kind, "values": dict(event), "raw": raw}
        with open(self.driverdata["rxlog"], "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    async def rxevent(self, event: RxEvent) -> None:
        if event.devicename != DEVICE:
            return
        device = self[DEVICE]
        match event:
            case newNumberVector():
                self._log(event, "number")
                await self._number(device, event)
            case newSwitchVector():
                self._log(event, "switch")
                await self._switch(device, event)
            case newTextVector():
                self._log(event, "text")
                for name, value in event.items():
                    event.vector[name] = value
                await event.vector.send_setVector(state="Ok")
                if event.vectorname == "SAY":
                    text = str(event["MESSAGE"])
                    await device.send_message(text)
                    await self.send_message("site: " + text)

    async def _number(self, device: Device, event: newNumberVector) -> None:
        for name, value in event.items():
            event.vector[name] = value
        await event.vector.send_setVector(state="Ok")
        if event.vectorname == "BLOB_REQUEST":
            size = int(event.vector.getfloatvalue("SIZE"))
            seed = int(event.vector.getfloatvalue("SEED"))
            image = device.vector("IMAGE", BLOBVector)
            image["FRAME"] = blob_bytes(size, seed)
            image.set_blobsize("FRAME", size)
            image.set_blobformat("FRAME", ".bin")
            await image.send_setVectorMembers(state="Ok", members=["FRAME"])
            count = device.vector("BLOB_COUNT", NumberVector)
            count["COUNT"] = count.getfloatvalue("COUNT") + 1
            await count.send_setVector(state="Ok")

    async def _switch(self, device: Device, event: newSwitchVector) -> None:
        chosen = [name for name, value in event.items() if value == "On"]
        if event.vectorname == "MODE":
            if chosen:
                for name in event.vector:
                    event.vector[name] = "On" if name == chosen[0] else "Off"
            await event.vector.send_setVector(state="Ok")
        elif event.vectorname == "ACTIONS":
            await event.vector.send_setVector(state="Ok")  # buttons: all stay Off
            if "DELETE_SPARE" in chosen:
                await device["SPARE"].send_delProperty()
            if "DELETE_DEVICE" in chosen:
                await device.send_delProperty()


def make_driver(rxlog: Path) -> RigDriver:
    """The rig with its log file (created empty)."""
    rxlog.write_text("")
    coords = NumberVector(
        "COORDS", "Coordinates", "Pointing", "rw", "Idle",
        [
            NumberMember("RA", "RA (h)", "%010.6m", 0, 24, 0, "12:30:15"),
            NumberMember("DEC", "Dec (deg)", "%9.6m", -90, 90, 0, -10.505),
            NumberMember("GAIN", "Gain", "%.1f", 0, 100, 0.5, 12.5),
        ],
    )
    formats = NumberVector(
        "FORMATS", "Formats", "Display", "ro", "Ok",
        [NumberMember(name, name.title(), fmt, 0, 0, 0, value) for name, fmt, value in FORMATS],
    )
    mode = SwitchVector(
        "MODE", "Mode", "Control", "rw", "OneOfMany", "Ok",
        [
            SwitchMember("SLOW", "Slow", "On"),
            SwitchMember("FAST", "Fast", "Off"),
            SwitchMember("TURBO", "Turbo", "Off"),
        ],
    )
    site = TextVector(
        "SITE", "Site", "Control", "rw", "Idle",
        [TextMember("NAME", "Site name", "Observatory"), TextMember("NOTE", "Note", NOTE)],
    )
    status = LightVector(
        "STATUS", "Status", "Status", "Busy",
        [LightMember("POWER", "Power", "Ok"), LightMember("FAULT", "Fault", "Alert")],
    )
    image = BLOBVector("IMAGE", "Image", "Data", "ro", "Idle", [BLOBMember("FRAME", "Frame")])
    request = NumberVector(
        "BLOB_REQUEST", "BLOB request", "Data", "rw", "Idle",
        [
            NumberMember("SIZE", "Bytes", "%.0f", 0, 8_000_000, 1, 0),
            NumberMember("SEED", "Seed", "%.0f", 0, 1_000_000, 1, 0),
        ],
    )
    count = NumberVector(
        "BLOB_COUNT", "BLOBs sent", "Data", "ro", "Idle",
        [NumberMember("COUNT", "Count", "%.0f", 0, 0, 0, 0)],
    )
    say = TextVector("SAY", "Say", "Control", "rw", "Idle", [TextMember("MESSAGE", "Message", "")])
    spare = NumberVector(
        "SPARE", "Spare", "Control", "ro", "Idle", [NumberMember("X", "X", "%.1f", 0, 0, 0, 1.5)]
    )
    actions = SwitchVector(
        "ACTIONS", "Actions", "Control", "rw", "AtMostOne", "Idle",
        [SwitchMember("DELETE_SPARE", "Delete SPARE", "Off"),
         SwitchMember("DELETE_DEVICE", "Delete device", "Off")],
    )
    device = Device(
        DEVICE, [coords, formats, mode, site, status, image, request, count, say, spare, actions]
    )
    return RigDriver(device, rxlog=rxlog)


def run_stdio(rxlog: str) -> None:
    """Run the rig as an executable driver, INDI on stdin/stdout."""
    asyncio.run(make_driver(Path(rxlog)).asyncrun())
