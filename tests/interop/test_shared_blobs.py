"""indilib's CCD simulator under our server, on a Unix-socket stdout: it attaches each image as
a memfd, and a TCP client gets it as one line of base64 without ``enclen``, as from indiserver.

Protects: the socket an ELF driver gets by default (``drivers.executable``, ``fdchannel``), the descriptors
taken from it (``SocketReader``) and the image inlined (``blobs.attached``), image after image (the second waits for our pingReply to the first).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from peers import connect
from peers import find_binary
from peers import hello
from peers import new_number
from serverkit import running

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver.server import IPyServer

CCD = "CCD Simulator"


@pytest.fixture
async def ccd_server(tmp_home: Path) -> AsyncIterator[IPyServer]:
    find_binary("indi_simulator_ccd")
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    # an ELF program: a socket by default, shared BLOBs
    server.ccd = server.add_exdriver("indi_simulator_ccd", max_restarts=0)  # type: ignore[attr-defined]
    async with running(server):
        yield server


class Client:
    """A raw TCP client collecting whole elements."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = Framer()
        self.frames: list[Frame] = []

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def wait_for(self, tag: str, timeout: float = 20.0, **attrs: str) -> Frame:
        async with asyncio.timeout(timeout):
            while True:
                for i, f in enumerate(self.frames):
                    if f.tag == tag and all(f.attrs.get(k) == v for k, v in attrs.items()):
                        del self.frames[: i + 1]
                        return f
                data = await self.reader.read(1 << 20)
                assert data, "server closed the connection"
                self.frames += [f for f in self.framer.feed(data) if isinstance(f, Frame)]


def memfds() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += "shm_anon" in os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return count


async def test_ccd_simulator_image_arrives_as_one_line_of_base64(ccd_server: IPyServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", ccd_server.port)
    client = Client(reader, writer)
    try:
        await client.send(hello(blobs_from=CCD))
        await client.wait_for("defSwitchVector", device=CCD, name="CONNECTION")
        assert ccd_server.ccd.stdout_kind == "socket"  # type: ignore[attr-defined]
        await client.send(connect(CCD))
        await client.wait_for("defNumberVector", device=CCD, name="CCD_EXPOSURE")
        for _ in range(2):
            await client.send(new_number(CCD, "CCD_EXPOSURE", "CCD_EXPOSURE_VALUE", 1))
            frame = await client.wait_for("setBLOBVector", device=CCD, name="CCD1")
            m = re.search(rb"<oneBLOB([^>]*)>(.*?)</oneBLOB>", frame.data, re.DOTALL)
            assert m is not None, frame
            head, body = m.group(1), m.group(2)
            assert b"enclen" not in head and b"attached" not in head, head
            assert b"\n" not in body.strip()  # one line
            attrs = Framer().feed(b"<oneBLOB" + head + b"/>")[0].attrs  # type: ignore[union-attr]
            image = base64.b64decode(body, validate=True)
            assert len(image) == int(attrs["len"]) == int(attrs["size"]) > 0, attrs
            assert image.startswith(b"SIMPLE"), image[:80]
        assert memfds() == 0  # the server (this process) closed every memfd
    finally:
        writer.close()
