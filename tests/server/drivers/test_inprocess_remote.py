"""`InProcessRemote`: a network of INDI sites (mqtttoport's) served as a chained server's
devices, without a socket to ourselves.

Protects: the server asks the peer for every device (``getProperties device="*"``, as of a
remote) and sends it no BLOB modes; the peer's definitions and BLOBs reach clients, each BLOB
only to a client that enabled BLOBs; a client's command reaches the peer as the element the
client sent; what the peer hands on is checked as a remote's (a malformed element is dropped
with a warning, the link goes on); the peer is no in-process driver (``server.drivers``); and
when the peer's link ends its devices are deleted for the clients.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest
from serverkit import RawClient
from serverkit import running
from serverkit import server

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipydriver.links import FramedLink
from indipyserver.drivers.inprocess import InProcessRemote

DEFS = (b'<defNumberVector device="Far" name="N" state="Idle" perm="rw"><defNumber name="v" '
        b'format="%g" min="0" max="9" step="1">1</defNumber></defNumberVector>'
        b'<defBLOBVector device="Far" name="IMG" state="Idle" perm="ro"><defBLOB name="i"/>'
        b'</defBLOBVector>')
IMAGE = bytes(range(256)) * 4000  # about 1 MB: large enough to skip the router's expat check
BLOB_SET = (b'<setBLOBVector device="Far" name="IMG" state="Ok"><oneBLOB name="i" size="'
            + str(len(IMAGE)).encode() + b'" format=".bin">' + base64.b64encode(IMAGE)
            + b'</oneBLOB></setBLOBVector>')
NUMBER_SET = (b'<setNumberVector device="Far" name="N" state="Ok"><oneNumber name="v">3'
              b'</oneNumber></setNumberVector>')


def framed(data: bytes) -> list[Frame]:
    """Framed as mqtttoport frames what a site published (BLOB vectors streamed: checked)."""
    framer = Framer(stream_tags=frozenset({"setBLOBVector"}), stream_min=len(data) + 1)
    items = framer.feed(data)
    assert all(type(item) is Frame for item in items)
    return items  # type: ignore[return-value]


class Network:
    """A peer as mqtttoport is one: answers the server's ask with definitions, records what
    the server sends it, and can send more while it serves."""

    def __init__(self) -> None:
        self.received: list[Frame] = []
        self.link: FramedLink | None = None
        self.linked = asyncio.Event()
        self.got = asyncio.Event()
        self.stop = asyncio.Event()

    async def serve(self, link: FramedLink) -> None:
        self.link = link
        self.linked.set()
        reading = asyncio.ensure_future(self._read(link))
        try:
            await self.stop.wait()
        finally:
            reading.cancel()

    async def _read(self, link: FramedLink) -> None:
        while frames := await link.read_frames():
            self.received.extend(frames)
            self.got.set()
            for frame in frames:
                if frame.tag == "getProperties":
                    for item in framed(DEFS):
                        await link.write_frame(item)

    async def send(self, data: bytes) -> None:
        assert self.link is not None
        for frame in framed(data):
            await self.link.write_frame(frame)

    async def wait_for(self, tag: str) -> Frame:
        while not any(f.tag == tag for f in self.received):
            self.got.clear()
            await asyncio.wait_for(self.got.wait(), 15)
        return next(f for f in self.received if f.tag == tag)


async def test_a_networks_devices_and_blobs_reach_clients_and_commands_reach_it(
        caplog: pytest.LogCaptureFixture) -> None:
    network = Network()
    srv = server()
    srv.add_connection(InProcessRemote(network, label="network"))
    async with running(srv):
        asked = await network.wait_for("getProperties")
        assert asked.attrs.get("device") == "*"  # every device, as a chained server is asked
        assert srv.drivers == []  # a remote, not an in-process driver
        takes = await RawClient.connect(srv.port)
        never = await RawClient.connect(srv.port)
        for client in (takes, never):
            await client.send('<getProperties version="1.7"/>')
            await client.wait_for("defBLOBVector", name="IMG")
        await takes.send('<enableBLOB device="Far">Also</enableBLOB>')
        await takes.round_trip()  # its mode is set before the BLOB is sent

        await network.send(BLOB_SET)
        await network.send(NUMBER_SET)
        blob = await takes.wait_for("setBLOBVector")
        assert bytes(blob.data) == BLOB_SET  # byte for byte
        await never.wait_for("setNumberVector")  # sent after the BLOB, so the BLOB is past
        assert "setBLOBVector" not in never.tags()

        command = b'<newNumberVector device="Far" name="N"><oneNumber name="v">5</oneNumber></newNumberVector>'
        await never.send(command)
        got = await network.wait_for("newNumberVector")
        assert bytes(got.data) == command
        assert not [f for f in network.received if f.tag == "enableBLOB"]  # told no modes

        # checked as a remote's: a malformed element is dropped, the link goes on
        with caplog.at_level(logging.WARNING):
            await network.send(b'<setNumberVector device="Far" name="N" state="Ok">'
                               b'<oneNumber name="v">4&bad;</oneNumber></setNumberVector>')
            await network.send(NUMBER_SET.replace(b">3<", b">6<"))
            await never.wait_for("setNumberVector", state="Ok")
            await never.read_until(lambda fs: any(b">6<" in bytes(f.data) for f in fs))
        assert not any(b"&bad;" in bytes(f.data) for f in never.frames)
        assert "network sent a malformed <setNumberVector>" in caplog.text

        network.stop.set()  # the network's link ends: its devices go
        gone = await never.wait_for("delProperty", device="Far")
        assert "name" not in gone.attrs
