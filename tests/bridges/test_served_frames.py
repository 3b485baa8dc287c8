"""indiredis.indilink.served_frames: what our server sends a bridge it reaches as a remote server
(mqtttoport, the sites' snoop requests), over a real TCP connection."""

from __future__ import annotations

import asyncio

from indiredis.indilink import served_frames


async def test_pings_are_answered_with_their_uid_and_the_other_elements_come_read_by_read() -> None:
    """A pingRequest is answered at once (uid escaped) and not handed on; the elements of a read
    come together, cut elements once whole, junk is skipped; the reading ends at EOF."""
    got: list[list[str]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async for frames in served_frames(reader, writer):
            got.append([f"{f.tag} {f.attrs.get('device')}" for f in frames])
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
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
