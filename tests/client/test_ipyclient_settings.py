"""indipyclient 0.9.4's settings on our IPyClient, against our server and a driver of ours:
``debug_verbosity``, ``BLOBfolder``/``enableBLOBdefault``, ``send_getProperties``,
``send_enableBLOB`` and ``set_vector_timeouts`` each do what 0.9.4's docs say.

Where a test shows that something did NOT arrive (a BLOB while BLOBs are off), the driver sends
the BLOB and then a number: the number's arrival is the evidence, since one connection keeps the
order, that the BLOB would have come first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from serverkit import running
from waiting import until

import indipydriver as ipd
from indipyclient import IPyClient
from indipyclient import events as ev
from indipyserver import IPyServer

CAM = "Cam"


class Camera(ipd.IPyDriver):
    """IMAGE (a BLOB it sends on ``shoot``), COUNT (a number sent after each image), SILENT (a
    writable number it never answers), ECHO (a writable number it answers at once)."""

    async def rxevent(self, event: Any) -> None:
        if isinstance(event, ipd.newNumberVector) and event.vectorname == "ECHO":
            event.vector["E"] = event["E"]
            event.vector.state = "Ok"
            await event.vector.send_setVector()

    async def shoot(self, number: int) -> None:
        image = self[CAM]["IMAGE"]
        image["FRAME"] = f"frame {number}\n".encode()
        image.set_blobformat("FRAME", ".txt")
        await image.send_setVector()
        count = self[CAM]["COUNT"]
        count["N"] = number
        await count.send_setVector()


def make_camera() -> Camera:
    def number(name: str, perm: str, member: str, timeout: float = 0) -> ipd.NumberVector:
        vector = ipd.NumberVector(name, name, "Main", perm, "Idle",
                              [ipd.NumberMember(member, member, "%.0f", 0, 1000, 0, 0)])
        vector.timeout = timeout
        return vector

    return Camera(ipd.Device(CAM, [
        ipd.BLOBVector("IMAGE", "Image", "Main", "ro", "Idle", [ipd.BLOBMember("FRAME", "Frame")]),
        number("COUNT", "ro", "N"), number("SILENT", "rw", "S", timeout=1000),
        number("ECHO", "rw", "E"),
    ]))


class Recorder(IPyClient):
    """Keeps every event rxevent is given."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.seen: list[ev.Event] = []

    async def rxevent(self, event: ev.Event) -> None:
        self.seen.append(event)

    def of(self, eventtype: str, vectorname: str | None = None) -> list[Any]:
        return [e for e in self.seen if e.eventtype == eventtype
                and vectorname in (None, e.vectorname)]


@asynccontextmanager
async def camera_and_client(
    setup: Any = None,
) -> AsyncIterator[tuple[Camera, Recorder]]:
    """Our server with the camera, and a Recorder (`setup(client)` before it runs) that has
    every vector."""
    camera = make_camera()
    async with running(IPyServer(camera, host="127.0.0.1", port=0,
                                 handle_signals=False)) as server:
        client = Recorder(server.port)
        if setup is not None:
            setup(client)
        run = asyncio.create_task(client.asyncrun())
        try:
            await until(lambda: len(client.of("Define")) + len(client.of("DefineBLOB")) >= 4,
                        what="the camera's four vectors")
            yield camera, client
        finally:
            client.shutdown()
            await asyncio.wait_for(run, 10)


async def shot_seen(camera: Camera, client: Recorder, number: int) -> list[Any]:
    """Shoot image `number`; once its COUNT has arrived, the SetBLOB events of that image."""
    await camera.shoot(number)
    await until(lambda: any(e.get("N") == str(number) for e in client.of("Set", "COUNT")),
                what=f"COUNT {number}")
    return [e for e in client.of("SetBLOB", "IMAGE") if e["FRAME"] == f"frame {number}\n".encode()]


def test_debug_verbosity_takes_0_to_3_only() -> None:
    """0.9.4 took 0..3 and refused anything else; ours too (it logs no XML at any level)."""
    client = IPyClient("127.0.0.1", 1)
    for level in (0, 1, 2, 3):
        client.debug_verbosity(level)
    for bad in (-1, 4):
        with pytest.raises(ValueError, match="0, 1, 2 or 3"):
            client.debug_verbosity(bad)


async def test_without_a_folder_no_blob_comes_until_enableblob_asks(tmp_path: Path) -> None:
    """The default asks for no BLOBs ("Never"): an image is not received. send_enableBLOB
    ("Also") for the device brings the next one; "Never" stops them again."""
    async with camera_and_client() as (camera, client):
        assert client.enableBLOBdefault == "Never" and client.BLOBfolder is None
        assert await shot_seen(camera, client, 1) == []
        await client.send_enableBLOB("Also", CAM)
        await client.send_getProperties(CAM, "COUNT")  # a round trip: the mode is set by then
        await until(lambda: len(client.of("Define", "COUNT")) >= 2, what="COUNT defined again")
        (blob,) = await shot_seen(camera, client, 2)
        assert blob.sizeformat["FRAME"][1] == ".txt"
        await client.send_enableBLOB("Never", CAM, "IMAGE")
        await client.send_getProperties(CAM, "COUNT")
        await until(lambda: len(client.of("Define", "COUNT")) >= 3, what="COUNT defined again")
        assert await shot_seen(camera, client, 3) == []
        await client.send_enableBLOB("Sometimes", CAM)  # not a mode: nothing sent
        assert await shot_seen(camera, client, 4) == []


async def test_a_blob_folder_asks_for_blobs_and_saves_them(tmp_path: Path) -> None:
    """Setting BLOBfolder (an existing folder) makes the default "Also", so images come and
    are saved there; while a folder is set, enableBLOBdefault cannot turn them off. A folder
    that does not exist is a KeyError, as in 0.9.4."""
    folder = tmp_path / "blobs"
    folder.mkdir()

    def setup(client: Recorder) -> None:
        with pytest.raises(KeyError):
            client.BLOBfolder = tmp_path / "missing"
        client.BLOBfolder = folder
        client.enableBLOBdefault = "Never"  # ignored while a folder is set

    async with camera_and_client(setup) as (camera, client):
        assert client.BLOBfolder == folder.resolve() and client.enableBLOBdefault == "Also"
        # the client sent its enableBLOB as IMAGE's definition came: a round trip after it, so
        # the server has taken it before the shot (a loaded run shot first and got no image)
        await client.send_getProperties(CAM, "COUNT")
        await until(lambda: len(client.of("Define", "COUNT")) >= 2, what="COUNT defined again")
        (blob,) = await shot_seen(camera, client, 7)
        saved = Path(blob.filenames["FRAME"])
        assert saved.parent == folder.resolve() and saved.read_bytes() == b"frame 7\n"
    client.BLOBfolder = None
    assert client.enableBLOBdefault == "Never"
    client.enableBLOBdefault = "Only"
    assert client.enableBLOBdefault == "Only"


async def test_send_getproperties_asks_again_for_one_vector_or_the_device() -> None:
    """send_getProperties(device, vector) brings that vector's definition again, and
    send_getProperties(device) all four."""
    async with camera_and_client() as (_, client):
        await client.send_getProperties(CAM, "ECHO")
        await until(lambda: len(client.of("Define", "ECHO")) == 2, what="ECHO again")
        before = len(client.of("Define")) + len(client.of("DefineBLOB"))
        await client.send_getProperties(CAM)
        await until(lambda: len(client.of("Define")) + len(client.of("DefineBLOB")) >= before + 4,
                    what="the four vectors again")
        assert len(client.of("Define", "ECHO")) == 3


async def test_vector_timeouts_are_clamped_and_an_answer_cancels_them() -> None:
    """A vector set and never answered gives a TimeOut event after its timeout clamped to
    set_vector_timeouts' min..max (SILENT says 1000 s; max 0.3 s makes it 0.3 s); a vector
    that is answered gives none: its answer comes first, and a later TimeOut of SILENT, sent
    after it, arrives while ECHO's never does."""
    async with camera_and_client() as (_, client):
        client.set_vector_timeouts(timeout_enable=True, timeout_min=0.1, timeout_max=0.3)
        await client.send_newVector(CAM, "ECHO", members={"E": 5})
        await until(lambda: client.of("Set", "ECHO"), what="ECHO answered")
        await client.send_newVector(CAM, "SILENT", members={"S": 1})
        (timeout,) = await until(lambda: client.of("TimeOut"), what="SILENT's TimeOut")
        assert isinstance(timeout, ev.VectorTimeOut) and timeout.vectorname == "SILENT"
        assert client[CAM]["SILENT"].timeout == 1000  # as defined: the max clamped it
        assert client.of("TimeOut", "ECHO") == []
