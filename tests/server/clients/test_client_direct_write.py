"""ClientConnection writes to a plain socket itself (write(2)), keeping only the unsent rest.

Real sockets: the peer does not read at first, so the socket fills, the rest is held as a view
and a small piece is handed to the transport (which pauses the connection); when the peer
reads, everything arrives once and in order, with elements queued meanwhile after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import struct
from collections.abc import AsyncIterator

from serverdoubles import RecordingDriver
from serverdoubles import frames
from serverdoubles import ready
from serverkit import blob_set_around
from waiting import until

from indipycore.protocol.framing import Frame
from indipyserver.clients.clientconnection import ClientConnection
from indipyserver.clients.writer import _direct_fd
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.routing.router import Router


def element(k: int, size: int) -> Frame:
    """Cam's IMG`k` holding `size` bytes of one letter as its value, spliced into the
    serialiser's element: exact sizes, not base64 of anything (the server never decodes it)."""
    head, tail = blob_set_around("Cam", f"IMG{k}", "a", 0, ".b", state=None)
    data = head + bytes([0x41 + k % 26]) * size + tail
    return Frame("setBLOBVector", {"device": "Cam", "name": f"IMG{k}"}, data)


async def read_all(sock: socket.socket, nbytes: int) -> bytes:
    loop = asyncio.get_running_loop()
    out = bytearray()
    while len(out) < nbytes:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 10)
        assert chunk, f"closed after {len(out)} of {nbytes} bytes"
        out += chunk
    return bytes(out)


@contextlib.asynccontextmanager
async def on_a_socket() -> AsyncIterator[tuple[ClientConnection, asyncio.Transport, socket.socket]]:
    """A ClientConnection on one end of a socket pair, and the other end (not read until the
    test reads it); both closed after the block."""
    ours, peer = socket.socketpair()
    peer.setblocking(False)
    client = ClientConnection(Router(), set())
    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(lambda: client, ours)
    try:
        yield client, transport, peer
    finally:
        transport.close()
        peer.close()
        await asyncio.sleep(0)


async def read_in_order_then_drained(client: ClientConnection, peer: socket.socket,
                                     sent: list[Frame]) -> None:
    """The peer reads everything `sent`, once and in order; then the client's queue is empty
    and it writes again."""
    expected = b"".join(f.data for f in sent)
    assert await read_all(peer, len(expected)) == expected
    await until(lambda: client.queued_bytes == 0 and not client._paused, 10,
                "the queue drained and writing resumed")


async def test_socket_full_then_drained_in_order() -> None:
    async with on_a_socket() as (client, transport, peer):
        assert _direct_fd(transport) >= 0
        assert client._fd >= 0
        frames = [element(k, 3 * 1024 * 1024 + k) for k in range(4)]
        for frame in frames:
            client.send_frame(frame)
        # The peer has not read: the socket is full, the rest waits (a view, not a copy).
        await until(lambda: client._paused, 10, "the client paused on a full socket")
        assert client.queued_bytes > 0
        assert transport.get_write_buffer_size() <= ClientConnection.HANDOFF
        late = element(9, 100)
        client.send_frame(late)
        await read_in_order_then_drained(client, peer, [*frames, late])


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


def one_element_batch(client: ClientConnection, frame: Frame) -> None:
    """Route `frame` to `client` as the one element of a read batch (write-through)."""
    flow = flow_for()
    flow.begin(frame.data)
    try:
        client.send_frame(frame)
    finally:
        flow.end()


async def test_write_through_on_a_full_socket_holds_the_rest_and_keeps_order() -> None:
    """One-element batches (`LoopFlow.through`) write at once; once the socket is full the
    rest is held exactly as by the batched path, and later elements queue behind it."""
    sent: list[Frame] = []
    async with on_a_socket() as (client, _, peer):
        assert client._fd >= 0
        k = 0
        while not client._paused:  # write through until the socket is full
            frame = element(k, 60_000)
            one_element_batch(client, frame)
            sent.append(frame)
            k += 1
            assert k < 10_000, "the socket never filled"
        assert client.queued_bytes > 0
        # Paused: the next one-element batch queues instead of writing through.
        late = element(k, 100)
        one_element_batch(client, late)
        sent.append(late)
        assert client._queue.nbytes == len(late.data)
        await read_in_order_then_drained(client, peer, sent)


async def test_a_command_sent_just_before_the_client_reset_is_still_routed() -> None:
    """indi_setprop writes its new*Vector and exits while definitions are still coming to it:
    its socket resets, and our next write to it fails before the loop has read the command.
    The command must still reach the driver (it was lost, and a telescope synced to the wrong
    place, when getProperties went to the driver), and the client is then disconnected."""
    def_x_p = (
        '<defNumberVector device="X" name="P" state="Ok" perm="rw">'
        '<defNumber name="a" format="%g" min="0" max="9" step="1">1</defNumber></defNumberVector>'
    )
    new_x_p = '<newNumberVector device="X" name="P"><oneNumber name="a">5</oneNumber></newNumberVector>'
    loop = asyncio.get_running_loop()
    router = Router()
    driver = RecordingDriver("d")
    ready(router, driver)
    router.driver_frames(driver, frames(def_x_p))
    listener = socket.create_server(("127.0.0.1", 0))
    peer = socket.create_connection(listener.getsockname())
    ours, _ = listener.accept()
    listener.close()
    client = ClientConnection(router, set())
    transport, _ = await loop.connect_accepted_socket(lambda: client, ours)
    try:
        peer.sendall(new_x_p.encode())
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()  # a reset, as when a client exits with data unread
        # the reset has come, seen without running the loop (it would read the command)
        hung_up = select.poll()
        hung_up.register(ours.fileno(), select.POLLERR | select.POLLHUP)
        assert hung_up.poll(5000), "the reset never came"
        assert client.write_through(element(0, 100).data)  # fails: the client has gone
        await asyncio.wait_for(client.closed.wait(), 5)
        assert driver.got == [new_x_p.encode()]
        assert router.clients == []
    finally:
        transport.close()
        await asyncio.sleep(0)
