"""BLOBs from an executable driver are read into reused buffers (readbuffers, pipereader):
a buffer is never read into while a client still has a piece of it queued.

A real server, a Python script as the executable driver, a client that reads everything and
one that stops reading. Every BLOB has its own content, so a piece overwritten by a later read
would show as a wrong byte in what a client receives.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import socket
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest
from serverkit import RawClient
from serverkit import blob_set_around
from serverkit import running
from serverkit import script_constants
from serverkit import stdio_driver

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer
from indipyserver import IPyServer

COUNT = 12
RAW = 3 * 1024 * 1024  # 4 MiB of base64 each: four full pipe reads per BLOB

def cam_driver(on_trigger: str, setup: str = "") -> str:
    """A driver script defining Cam.IMG (a BLOB) that runs `on_trigger` on a new*Vector
    (`setup` first, as stdio_driver's)."""
    return stdio_driver(
        """
        os.write(1, b'<defBLOBVector device="Cam" name="IMG" state="Idle" perm="ro">'
                    b'<defBLOB name="a"/></defBLOBVector>\\n')
        """,
        on_trigger,
        setup,
    )


# On the trigger: COUNT BLOBs, BLOB k all of byte k (its base64 between the serialiser's head
# and tail of Cam.IMG's element).
HEAD, TAIL = blob_set_around("Cam", "IMG", "a", RAW)
DRIVER = cam_driver(
    """
    for k in range(COUNT):
        os.write(1, HEAD + base64.b64encode(bytes([k]) * RAW) + TAIL)
    """,
    script_constants(COUNT=COUNT, RAW=RAW, HEAD=HEAD, TAIL=TAIL),
)

TRIGGER = b'<newNumberVector device="Cam" name="GO"><oneNumber name="n">1</oneNumber></newNumberVector>'


def blob_value(data: bytes) -> bytes:
    start = data.index(b'format=".bin">') + len(b'format=".bin">')
    return base64.b64decode(data[start : data.index(b"</oneBLOB>")])


@pytest.mark.parametrize("via", ["exdriver", "remote"])
async def test_blob_pieces_kept_for_a_client_that_stopped_reading_are_never_overwritten(
    tmp_path: Path, via: str
) -> None:
    """The fast client gets all BLOBs byte-exact; the one that stopped reading, when it
    reads again, gets byte-exact BLOBs too, the last being the newest (superseded ones were
    dropped for it, not corrupted), and reads were lent (so reuse really happened). `remote`:
    the clients are on a second server chained to the first (StreamProtocol reads)."""
    from indipycore.protocol import framing

    lenders: Counter[int] = Counter()  # lent reads per Framer
    feed_lent = framing.Framer.feed_lent

    def counting(self: Framer, data: bytearray) -> list:  # type: ignore[type-arg]
        lenders[id(self)] += 1
        return feed_lent(self, data)

    script = tmp_path / "cam.py"
    script.write_text(DRIVER)
    bottom = IPyServer(port=0, handle_signals=False)
    bottom.add_exdriver(sys.executable, str(script), max_restarts=0)
    framing.Framer.feed_lent = counting  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(running(bottom))
            srv = bottom
            if via == "remote":
                srv = IPyServer(port=0, handle_signals=False)
                srv.add_remote("127.0.0.1", bottom.port)
                await stack.enter_async_context(running(srv))
                probe = await RawClient.connect(srv.port)  # until the chain is up
                await probe.send("<getProperties/>")
                await probe.wait_for("defBLOBVector", device="Cam")
            fast = await RawClient.connect(srv.port)
            slow = stack.enter_context(socket.socket())
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
            slow.setblocking(False)
            await loop.sock_connect(slow, ("127.0.0.1", srv.port))
            hello = b'<getProperties version="1.7"/><enableBLOB device="Cam">Also</enableBLOB>'
            await loop.sock_sendall(slow, hello + b'<pingRequest uid="s"/>')
            got = b""
            while b"pingReply" not in got:
                got += await loop.sock_recv(slow, 65536)
            await fast.send(hello.decode())
            await fast.wait_for("defBLOBVector", device="Cam")
            await fast.send(TRIGGER)
            frames = await fast.read_until(
                lambda fs: sum(f.tag == "setBLOBVector" for f in fs) >= COUNT, 30
            )
            blobs = [blob_value(f.data) for f in frames if f.tag == "setBLOBVector"]
            assert blobs == [bytes([k]) * RAW for k in range(COUNT)]
            client = next(c for c in srv.clients if c.label.endswith(str(slow.getsockname()[1])))
            assert client.dropped > 0  # it fell behind and had superseded BLOBs dropped

            # Now it reads again: everything it gets is intact, and it ends with the newest.
            framer = Framer()
            values: list[bytes] = []
            while len(values) < COUNT and (not values or values[-1] != bytes([COUNT - 1]) * RAW):
                data = await asyncio.wait_for(loop.sock_recv(slow, 1 << 20), 10)
                assert data, "the server closed the slow client"
                for f in framer.feed(data):
                    assert isinstance(f, Frame), f  # a corrupted piece breaks the XML
                    if f.tag == "setBLOBVector":
                        values.append(blob_value(f.data))
            assert values[-1] == bytes([COUNT - 1]) * RAW
            assert all(v in (bytes([k]) * RAW for k in range(COUNT)) for v in values)
            assert len(values) < COUNT
    finally:
        framing.Framer.feed_lent = feed_lent  # type: ignore[method-assign]
    assert sum(lenders.values()) > COUNT
    assert len(lenders) == (2 if via == "remote" else 1)  # the chained server lent too


# On the trigger: 2.5 MiB of a BLOB's base64, then it dies (exit 1).
DYING_DRIVER = cam_driver(
    """
    os.write(1, b'<setBLOBVector device="Cam" name="IMG" state="Ok">'
                b'<oneBLOB name="a" size="9999999" format=".bin">' + b"QUJD" * 655360)
    sys.exit(1)
    """
)


async def test_a_driver_dying_in_the_middle_of_a_blob_leaves_clients_well_formed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The client that was receiving the BLOB gets it closed (truncated, but well-formed XML,
    so its next element parses) and then the vector's state Alert saying it was cut short,
    the loss is logged with the driver's name, the device is deleted, and the server goes on
    serving."""
    script = tmp_path / "dying_cam.py"
    script.write_text(DYING_DRIVER)
    srv = IPyServer(port=0, handle_signals=False)
    srv.add_exdriver(sys.executable, str(script), max_restarts=0)
    with caplog.at_level(logging.WARNING):
        async with running(srv):
            c = await RawClient.connect(srv.port)
            await c.send('<getProperties version="1.7"/><enableBLOB device="Cam">Also</enableBLOB>')
            await c.wait_for("defBLOBVector", device="Cam")
            await c.send(TRIGGER)
            await c.wait_for("delProperty", timeout=10, device="Cam")
            blob, alert = [f for f in c.frames if f.tag == "setBLOBVector"]
            assert len(blob.data) > 2_500_000
            ElementTree.fromstring(bytes(blob.data))  # closed by the server: well-formed
            # ... and then said to be broken (its end looks like any other image's).
            assert alert.attrs["state"] == "Alert" and "cut short" in alert.attrs["message"]
            assert not c.errors
            await c.round_trip()  # the client is still served
    assert "connection lost in the middle of a BLOB" in caplog.text
    assert "dying_cam.py" in caplog.text
