"""ClientConnection writes to a plain socket itself (write(2)), keeping only the unsent rest.

Real sockets: the peer does not read at first, so the socket fills, the rest is held as a view
and a small piece is handed to the transport (which pauses the connection); when the peer
reads, everything arrives once and in order, with elements queued meanwhile after it.
"""

from __future__ import annotations

import asyncio
import socket

from indipydriver.protocol.framing import Frame
from indipyserver.clients import ClientConnection, _direct_fd
from indipyserver.router import Router


def element(k: int, size: int) -> Frame:
    body = bytes([0x41 + k % 26]) * size
    data = (
        f'<setBLOBVector device="Cam" name="IMG{k}"><oneBLOB name="a" size="0" format=".b">'
    ).encode() + body + b"</oneBLOB></setBLOBVector>\n"
    return Frame("setBLOBVector", {"device": "Cam", "name": f"IMG{k}"}, data)


async def read_all(sock: socket.socket, nbytes: int) -> bytes:
    loop = asyncio.get_running_loop()
    out = bytearray()
    while len(out) < nbytes:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 10)
        assert chunk, f"closed after {len(out)} of {nbytes} bytes"
        out += chunk
    return bytes(out)


async def test_socket_full_then_drained_in_order() -> None:
    loop = asyncio.get_running_loop()
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    client = ClientConnection(Router(), set())
    transport, _ = await loop.connect_accepted_socket(lambda: client, ours)
    try:
        assert _direct_fd(transport) >= 0
        assert client._fd >= 0
        frames = [element(k, 3 * 1024 * 1024 + k) for k in range(4)]
        for frame in frames:
            client.send_frame(frame)
        await asyncio.sleep(0.05)
        # The peer has not read: the socket is full, the rest waits (a view, not a copy).
        assert client._paused
        assert client.queued_bytes > 0
        assert transport.get_write_buffer_size() <= ClientConnection.HANDOFF
        late = element(9, 100)
        client.send_frame(late)
        expected = b"".join(f.data for f in [*frames, late])
        got = await read_all(peer, len(expected))
        assert got == expected
        await asyncio.sleep(0.05)
        assert client.queued_bytes == 0
        assert not client._paused
    finally:
        transport.close()
        peer.close()
        await asyncio.sleep(0)


async def test_write_error_disconnects() -> None:
    loop = asyncio.get_running_loop()
    ours, peer = socket.socketpair()
    client = ClientConnection(Router(), set())
    transport, _ = await loop.connect_accepted_socket(lambda: client, ours)
    peer.close()
    client.send_frame(element(0, 4 * 1024 * 1024))
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.queued_bytes == 0
    transport.close()
