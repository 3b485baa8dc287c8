"""InboundProtocol.hold: the frame handler's own pause, independent of congestion throttling
(attachedblobs holds a C driver's reader while it converts a BLOB over several iterations)."""

from __future__ import annotations

from serverkit import PausableReadTransport as Transport

from indipyserver.peerio import InboundProtocol


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
