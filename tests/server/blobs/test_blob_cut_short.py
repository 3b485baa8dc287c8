"""A BLOB that streams to clients and does not end: a peer that stalls or dies half way.

Cut-through forwarding (``blobs.cutthrough``) passes a BLOB on while it arrives, and nothing else can
be written to its receivers until it ends. So a driver or remote server that hangs half way
through an image must not hold its receivers' other traffic for ever: after
``blobs.stalled.STALLED_BLOB_SECONDS`` without a byte the BLOB is cut short for them and the rest,
when it comes, dropped. And a truncated image ends like any other, so every client that wanted
it is told: the vector's state becomes Alert with a message (``Router.stream_cut_short``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextlib import suppress

import pytest
from serverkit import RawClient
from serverkit import make_gadget
from serverkit import number_set
from serverkit import running

from indipycore.protocol.framing import Frame
from indipyserver import IPyServer
from indipyserver.blobs import stalled as stalledblobs

DEF = (b'<defBLOBVector device="Far" name="IMAGE" state="Idle" perm="ro">'
       b'<defBLOB name="I"/></defBLOBVector>\n')
DATA = base64.b64encode(bytes(range(256)) * 4000)  # about 1.4 MB of base64
BLOB = (b'<setBLOBVector device="Far" name="IMAGE" state="Ok"><oneBLOB name="I" size="1024000" '
        b'format=".bin">' + DATA + b"</oneBLOB></setBLOBVector>\n")
HALF = len(BLOB) // 2
AFTER = b'<message device="Far" message="after the image"/>\n'


@asynccontextmanager
async def fake_remote(server: IPyServer, script: list[bytes | float | None]) -> AsyncIterator[None]:
    """A remote of `server` that writes `script`: bytes, a pause (seconds) or None (close);
    closed on leaving, its connections ended and their handlers finished first. (Left to the
    test loop's end, a handler still pausing or reading was cancelled there with its socket
    open, and the unclosed socket's ResourceWarning failed a later test of that worker.)"""
    leaving = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Future[None]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        handlers.append(ended)
        try:
            await reader.read(65536)  # the chained server's getProperties
            for step in script:
                if leaving.is_set():
                    break
                if step is None:
                    writer.transport.abort()
                    return
                if isinstance(step, float):
                    with suppress(TimeoutError):
                        await asyncio.wait_for(leaving.wait(), step)
                else:
                    writer.write(step)
                    await writer.drain()
            await reader.read()
        except ConnectionError:
            pass  # the server (or the test, leaving) closed the connection first
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
            ended.set_result(None)

    remote = await asyncio.start_server(handler, "127.0.0.1", 0)
    server.add_remote("127.0.0.1", remote.sockets[0].getsockname()[1])
    try:
        yield
    finally:
        leaving.set()
        remote.close()
        for writer in writers:
            writer.transport.abort()
        await asyncio.wait_for(asyncio.gather(*handlers), 15)
        await remote.wait_closed()


async def far_blob_client(port: int) -> RawClient:
    """A client of every device that wants Far's BLOBs, once Far is defined."""
    client = await RawClient.connect(port)
    await client.send('<getProperties version="1.7"/><enableBLOB device="Far">Also</enableBLOB>')
    await client.wait_for("defBLOBVector", device="Far")
    return client


def alerts_in(frames: list[Frame]) -> list[dict[str, str]]:
    return [f.attrs for f in frames if f.tag == "setBLOBVector" and f.attrs.get("state") == "Alert"]


def cut_in_time(client: RawClient) -> None:
    """The stalled image was cut (its Alert) before the remote's rest came: the Alert is in
    front of the message the remote sends after the image. (Waited for the whole stall, the
    image would have ended Ok and the Alert never come.)"""
    tags = [(f.tag, f.attrs.get("device"), f.attrs.get("state")) for f in client.frames]
    assert ("setBLOBVector", "Far", "Alert") in tags, tags[-5:]
    assert tags.index(("setBLOBVector", "Far", "Alert")) < tags.index(("message", "Far", None))


def alerts(client: RawClient) -> list[dict[str, str]]:
    return alerts_in(client.frames)


async def test_a_peer_stalling_half_way_through_a_blob_holds_its_clients_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The remote stops half way through an image for far longer than the stall limit. Its
    BLOB client gets the truncated image closed, the Alert, and meanwhile the in-process
    driver's updates; the image's rest is dropped when it comes, and what follows it arrives."""
    monkeypatch.setattr(stalledblobs, "STALLED_BLOB_SECONDS", 0.4)
    gadget = make_gadget()
    server = IPyServer(gadget, host="127.0.0.1", port=0, handle_signals=False)
    with caplog.at_level(logging.WARNING):
        async with fake_remote(server, [DEF, 0.3, BLOB[:HALF], 3.0, BLOB[HALF:], AFTER]), \
                running(server):
            client = await far_blob_client(server.port)
            await client.read_until(lambda fs: bool(alerts_in(fs)), timeout=10)
            vector = gadget["Gadget"]["VALUE"]
            vector["V"] = 7
            await vector.send_setVector()  # reaches the BLOB client during the stall
            await client.wait_for("setNumberVector", device="Gadget", timeout=10)
            await client.wait_for("message", device="Far", timeout=15)
            # During the stall: before what the remote sends after the image's rest.
            tags = [(f.tag, f.attrs.get("device")) for f in client.frames]
            assert tags.index(("setNumberVector", "Gadget")) < tags.index(("message", "Far"))
    blobs = [f for f in client.frames if f.tag == "setBLOBVector"]
    assert [b.attrs.get("state") for b in blobs] == ["Ok", "Alert"]
    assert len(blobs[0].data) < len(BLOB) and bytes(blobs[0].data).endswith(b"</oneBLOB>\n</setBLOBVector>")
    assert "was cut short on its way from remote 127.0.0.1" in blobs[1].attrs["message"]
    assert not client.errors
    assert re.search(r"has sent nothing for 0\.\d s in the middle of a BLOB: it is cut short",
                     caplog.text)


async def test_a_peer_dying_half_way_through_a_blob_leaves_an_alert() -> None:
    """The remote's connection breaks half way through an image: its BLOB client gets the
    truncated image closed, then the Alert saying so, then the device's deletion."""
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    async with fake_remote(server, [DEF, 0.3, BLOB[:HALF], 0.2, None]), running(server):
        client = await RawClient.connect(server.port)
        await client.send('<getProperties version="1.7"/>'
                          '<enableBLOB device="Far">Also</enableBLOB>')
        await client.wait_for("delProperty", device="Far", timeout=5)
    tags = [(f.tag, f.attrs.get("state")) for f in client.frames if f.attrs.get("device") == "Far"]
    assert tags[-3:] == [("setBLOBVector", "Ok"), ("setBLOBVector", "Alert"), ("delProperty", None)]
    assert not client.errors


async def test_a_stalled_blob_is_cut_short_while_its_client_holds_the_drivers_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another remote keeps sending while the first stalls half way through an image. What
    it sends waits behind the image for the BLOB client, past the soft limit. That client is
    not behind (it has taken all it was given; the image's peer holds it up), so it is
    neither congested nor slow, and gets every update once the image is cut: it used to be
    found congested (pausing every reader, the stalled one too, so the stall watch took the
    silence for ours and never cut: the whole 3 s here, for ever with a peer that never came
    back), then slow and "caught up" 16 times a second, losing superseded updates."""
    from indipyserver.clients import clientconnection as clients

    monkeypatch.setattr(stalledblobs, "STALLED_BLOB_SECONDS", 0.4)
    monkeypatch.setattr(clients, "SOFT_QUEUE_BYTES", 16 * 1024)
    busy_def = (b'<defNumberVector device="Busy" name="N" state="Idle" perm="ro">'
                b'<defNumber name="V" format="%.0f" min="0" max="0" step="0">0</defNumber>'
                b'</defNumberVector>\n')
    sets = [number_set("Busy", "N", {"V": i}) for i in range(40)]
    burst = b"".join(sets)
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    with caplog.at_level(logging.INFO):
        async with fake_remote(server, [DEF, 0.3, BLOB[:HALF], 3.0, BLOB[HALF:], AFTER]), \
                fake_remote(server, [busy_def, *[burst, 0.01] * 250]), running(server):
            client = await far_blob_client(server.port)
            await client.read_until(lambda fs: bool(alerts_in(fs)), timeout=10)
            await client.wait_for("message", device="Far", timeout=15)
            cut_in_time(client)
            # Every update, however long the busy remote takes to send its 10000 (2.5 s of
            # pauses alone; over 5 s on a loaded machine): the timeout only bounds a failure.
            await client.read_until(lambda fs: sum(
                f.attrs.get("device") == "Busy" for f in fs) >= 1 + 40 * 250, timeout=60)
    assert re.search(r"has sent nothing for 0\.\d s in the middle of a BLOB: it is cut short",
                     caplog.text)
    assert "superseded elements are dropped" not in caplog.text
    values = [f.data for f in client.frames if f.tag == "setNumberVector"]
    assert [bytes(v).strip() for v in values] == [sets[i % 40].strip() for i in range(40 * 250)]
    assert not client.errors


async def test_a_stalled_blob_is_cut_short_while_another_client_holds_the_drivers_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another client is congested for the whole stall (reading, only slowly: every reader of
    the server is paused meanwhile). The stalled remote has nothing unread, so its silence is
    its own and the image is cut in time; the congestion pause used to count as ours and the
    image waited for the whole stall (for ever with a peer that never came back)."""
    monkeypatch.setattr(stalledblobs, "STALLED_BLOB_SECONDS", 1.0)
    server = IPyServer(host="127.0.0.1", port=0, handle_signals=False)
    another_client = object()
    with caplog.at_level(logging.WARNING):
        async with fake_remote(server, [DEF, 0.3, BLOB[:HALF], 4.0, BLOB[HALF:], AFTER]), \
                running(server):
            client = await far_blob_client(server.port)
            # the first half has come and gone on to the client
            await client.read_until(lambda fs: client._framer.buffered >= HALF, timeout=10)
            server._congestion.congest(another_client)
            await client.read_until(lambda fs: bool(alerts_in(fs)), timeout=10)
            server._congestion.decongest(another_client)
            await client.wait_for("message", device="Far", timeout=15)
            cut_in_time(client)
    assert re.search(r"has sent nothing for \d\.\d s in the middle of a BLOB: it is cut short",
                     caplog.text)
    assert not client.errors
