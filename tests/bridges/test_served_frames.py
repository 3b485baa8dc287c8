"""indiredis.indilink.served_frames: what our server sends a bridge it reaches as a remote server
(mqtttoport, the sites' snoop requests), read through the client library's ServerStream
(``listen``) over a real TCP connection."""

from __future__ import annotations

import asyncio

import pytest
from waiting import until

from indipyclient.session.serverstream import ServerStream
from indipycore.protocol import Frame
from indiredis.indilink import IndiLink
from indiredis.indilink import listen
from indiredis.indilink import served_frames


async def test_pings_are_answered_with_their_uid_and_the_other_elements_come_read_by_read() -> None:
    """A pingRequest is answered at once (uid escaped) and not handed on; the elements of a read
    come together, cut elements once whole, junk is skipped; the reading ends at EOF."""
    got: list[list[str]] = []

    async def serve(stream: ServerStream) -> None:
        async for frames in served_frames(stream):
            got.append([f"{f.tag} {f.attrs.get('device')}" for f in frames])

    server = await listen(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b'<pingRequest uid="a&amp;b"/><getProperties version="1.7" device="X"/>'
                 b'<getProperties device="*" version="1.7"/><newTextV')
    assert await asyncio.wait_for(reader.readline(), 5) == b'<pingReply uid="a&amp;b"/>\n'
    writer.write(b'ector device="Y" name="p"><oneText name="t">x</oneText></newTextVector>'
                 b'<pingRequest/></junk>')
    assert await asyncio.wait_for(reader.readline(), 5) == b"<pingReply/>\n"
    writer.close()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    server.close()
    await server.wait_closed()
    assert [f for f in got if f] == [["getProperties X", "getProperties *"], ["newTextVector Y"]]


async def test_the_indi_link_reads_a_server_through_server_stream(
        caplog: pytest.LogCaptureFixture) -> None:
    """IndiLink (the bridges' INDI side) asks for everything on connecting, answers a ping at
    once without handing it on, gives the elements of each read together (a cut one once
    whole), logs and skips junk, and sends what the bridge queued."""
    got: list[list[str]] = []
    arrived = asyncio.Event()
    received = bytearray()

    async def on_frames(frames: list[Frame]) -> None:
        got.append([f"{f.tag} {f.attrs.get('name')}" for f in frames])
        arrived.set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.extend(await reader.readuntil(b"/>\n"))
        writer.write(b'<pingRequest uid="7"/><defTextVector device="D" name="A" state="Idle" '
                     b'perm="ro"><defText name="t">x</defText></defTextVector><setTextV')
        received.extend(await reader.readuntil(b"/>\n"))
        writer.write(b'ector device="D" name="B"><oneText name="t">y</oneText></setTextVector>'
                     b'</junk>')
        received.extend(await reader.readuntil(b"</newTextVector>\n"))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = IndiLink("127.0.0.1", port, on_frames)
    task = asyncio.create_task(link.run())
    try:
        async with asyncio.timeout(10):
            while len(got) < 2:
                await arrived.wait()
                arrived.clear()
            link.send(b'<newTextVector device="D" name="B"><oneText name="t">z</oneText>'
                      b'</newTextVector>\n')
            await until(lambda: b"</newTextVector>" in received, 10, "the newTextVector")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        await server.wait_closed()
    assert got[:2] == [["defTextVector A"], ["setTextVector B"]]
    assert received.startswith(b'<getProperties version="1.7"/>\n<pingReply uid="7"/>\n')
    assert "skipping malformed input" in caplog.text
