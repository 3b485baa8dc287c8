"""InboundProtocol.hold: the frame handler's own pause, independent of congestion throttling
(attachedblobs holds a C driver's reader while it converts a BLOB over several iterations)."""

from __future__ import annotations

from serverkit import PausableReadTransport as Transport
from waiting import until

from indipyserver.drivers.inbound import InboundProtocol


async def test_hold_and_throttle_each_keep_the_reader_paused() -> None:
    proto = InboundProtocol(lambda frames: None, "x")
    transport = Transport()
    proto.connection_made(transport)
    assert not transport.reading  # nothing read before start()
    proto.hold(True)
    proto.start()
    assert not transport.reading  # held: start() does not resume
    proto.throttle(True)
    proto.throttle(False)  # congestion over, but still held
    assert not transport.reading
    proto.hold(False)
    assert transport.reading
    proto.throttle(True)
    proto.hold(True)
    proto.hold(False)  # released, but still throttled
    assert not transport.reading
    proto.throttle(False)
    assert transport.reading
    proto.connection_lost(None)


async def test_a_reader_paused_for_congestion_holds_its_peer_only_while_bytes_wait() -> None:
    """The stall watch (stalledblobs) must not take a congestion pause for the peer's silence
    while the peer's bytes wait unread, nor the other way round: a peer that stalled half way
    through a BLOB while another client held the drivers up was never cut short."""
    import asyncio
    import socket

    ours, peer = socket.socketpair()
    proto = InboundProtocol(lambda frames: None, "x")
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(lambda: proto, ours)
    try:
        proto.start()
        assert not proto._holding_peer()  # reading: any silence is the peer's
        proto.throttle(True)
        assert not proto._holding_peer()  # paused, but nothing waits: the peer is silent
        peer.send(b"<message/>")
        # the peer sent; we do not read it
        await until(proto._holding_peer, what="the unread bytes to count as ours")
        proto.hold(True)
        assert proto._holding_peer()  # held (a BLOB being converted): always ours
    finally:
        transport.close()
        peer.close()
        await asyncio.sleep(0)


def test_unread_bytes_counts_what_waits_in_a_socket_or_a_pipe() -> None:
    import os
    import socket

    from indipyserver.blobs.stalled import unread_bytes

    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        assert unread_bytes(a.fileno()) == 0
        b.send(b"12345")
        assert unread_bytes(a.fileno()) == 5
        os.write(w, b"123")
        assert unread_bytes(r) == 3
        assert unread_bytes(-1) is None
        os.close(w)
        w = -1
        assert unread_bytes(r) == 3  # the writer gone: still there to read
    finally:
        a.close()
        b.close()
        os.close(r)
        if w >= 0:
            os.close(w)
