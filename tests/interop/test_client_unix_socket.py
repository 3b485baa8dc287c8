"""Our client on a server's Unix socket (``localhost:PATH``, as libindiclient names it), against
indilib's indiserver 1.9.9 and our server, each serving indilib's CCD simulator.

On that socket both servers pass the simulator's images as memory files (SCM_RIGHTS beside
``<oneBLOB ... attached="true"/>``). Protects: ``connect("localhost:PATH")`` and PyIndi's
``setServer("localhost:PATH", ...)`` reach the socket (abstract on Linux), take an exposure and
get the FITS image whole (``SIMPLE  =`` first, the ``size`` the server announced, a whole
number of 2880-byte FITS blocks); the image came as a memory file (the connection's
``attached_received`` counts it; over TCP, the control case, it stays 0 and the same image
comes as base64); the client keeps no memory file open afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from peers import IndiServer
from peers import OurServer
from peers import find_binary
from serverkit import open_memfds
from waiting import wait_for

import indipyclient
import PyIndi
from indipyclient import events

CCD = "CCD Simulator"
FITS_BLOCK = 2880


def start_server(kind: str, indiserver_factory: Callable[..., IndiServer],
                 our_server: Callable[..., OurServer]) -> IndiServer:
    find_binary("indi_simulator_ccd")
    if kind == "indiserver":
        return indiserver_factory("indi_simulator_ccd")
    return our_server("indi_simulator_ccd")


def memfds_open() -> list[str]:
    """Every memory file this process holds open."""
    return open_memfds("self", "/memfd:")


def assert_fits(data: bytes, size: int) -> None:
    assert data[:9] == b"SIMPLE  =", data[:80]
    assert len(data) == size and size % FITS_BLOCK == 0 and size > FITS_BLOCK, (len(data), size)


async def expose(client: indipyclient.Client) -> tuple[bytes, int]:
    """Connect the camera, ask for its BLOBs, take a 0.1 s exposure: the image and the size
    the server announced."""
    images = client.events()
    await client.set(CCD, "CONNECTION", {"CONNECT": "On"}, timeout=20)
    await client.send_enableBLOB("Also", CCD)
    await client.wait_for(CCD, "CCD_EXPOSURE", timeout=20)
    await client.set(CCD, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.1}, wait=False)
    async with asyncio.timeout(30):
        async for event in images:
            if isinstance(event, events.setBLOBVector) and "CCD1" in event.data:
                return event["CCD1"], event.sizeformat["CCD1"][0]
    raise AssertionError("the event stream ended before the image")


@pytest.mark.parametrize("kind", ["indiserver", "indipyserver"])
async def test_the_library_takes_the_image_as_a_memory_file(
    kind: str, tmp_home: object, indiserver_factory: Callable[..., IndiServer],
    our_server: Callable[..., OurServer], caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_server(kind, indiserver_factory, our_server)
    caplog.set_level(logging.INFO, logger="indipyclient.session.connection")
    async with indipyclient.connect(f"localhost:{server.socket_path}", 7624) as client:
        assert client.connection.unix_path == server.socket_path
        data, size = await expose(client)
        assert_fits(data, size)
        assert client.connection.attached_received == 1, "the image did not come as a memfd"
        vector = client.vector(CCD, "CCD1")
        assert vector.members_["CCD1"].blobsize == size
    assert f"connected to @{server.socket_path}" in caplog.text
    assert memfds_open() == []


@pytest.mark.parametrize("kind", ["indiserver", "indipyserver"])
async def test_over_tcp_the_same_image_comes_inline(
    kind: str, tmp_home: object, indiserver_factory: Callable[..., IndiServer],
    our_server: Callable[..., OurServer],
) -> None:
    """The control case: nothing is attached over TCP, so the count above means memfds."""
    server = start_server(kind, indiserver_factory, our_server)
    async with indipyclient.connect("127.0.0.1", server.port) as client:
        data, size = await expose(client)
        assert_fits(data, size)
        assert client.connection.attached_received == 0


class ImageCatcher(PyIndi.BaseClient):
    """A pyindi-client program: keeps each CCD1 BLOB ``updateProperty`` brings."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[tuple[bytes, int, int, str]] = []
        self.got = threading.Event()

    def updateProperty(self, prop: Any) -> None:
        if prop.getType() == PyIndi.INDI_BLOB and prop.getName() == "CCD1":
            blob = PyIndi.PropertyBlob(prop)[0]
            self.images.append((bytes(blob.getblobdata()), blob.bloblen, blob.size,
                                blob.format))
            self.got.set()


@pytest.mark.parametrize("kind", ["indiserver", "indipyserver"])
def test_a_pyindi_program_takes_the_image_as_a_memory_file(
    kind: str, tmp_home: object, indiserver_factory: Callable[..., IndiServer],
    our_server: Callable[..., OurServer], caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_server(kind, indiserver_factory, our_server)
    caplog.set_level(logging.DEBUG, logger="indipyclient.model.attachedblobs")
    client = ImageCatcher()
    client.setServer(f"localhost:{server.socket_path}", 7624)
    assert client.connectServer()
    try:
        wait_for(lambda: client.getDevice(CCD).getSwitch("CONNECTION"), 20)
        client.connectDevice(CCD)
        wait_for(lambda: client.getDevice(CCD).getNumber("CCD_EXPOSURE"), 20)
        client.setBLOBMode(PyIndi.B_ALSO, CCD, None)
        client.sendNewNumber(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", 0.1)
        assert client.got.wait(30), "no image"
        data, length, size, fmt = client.images[0]
        assert fmt == ".fits" and length == len(data)
        assert_fits(data, size)
        assert f"CCD1.CCD1: {size} bytes from a memory file" in caplog.text
    finally:
        client.disconnectServer()
    wait_for(lambda: not memfds_open(), 10)
