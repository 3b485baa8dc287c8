"""Read sizes adapt: small reads while a peer sends little (no 1 MiB allocation per message),
large reads while reads come back full (a BLOB crosses in few wake-ups)."""

from __future__ import annotations

from indipyserver.loop.readsizes import READ_SIZE
from indipyserver.loop.readsizes import SMALL_READ_SIZE
from indipyserver.loop.readsizes import adapt_read_size


class T:
    max_size = SMALL_READ_SIZE


def test_grows_when_full_and_shrinks_when_small() -> None:
    t = T()
    size = SMALL_READ_SIZE
    size = adapt_read_size(t, 100, size, READ_SIZE)
    assert size == t.max_size == SMALL_READ_SIZE
    size = adapt_read_size(t, SMALL_READ_SIZE, size, READ_SIZE)
    assert size == t.max_size == READ_SIZE
    size = adapt_read_size(t, 500_000, size, READ_SIZE)  # a partial large read: stays large
    assert size == READ_SIZE
    size = adapt_read_size(t, 200, size, READ_SIZE)
    assert size == t.max_size == SMALL_READ_SIZE


async def test_client_and_driver_transports_start_small() -> None:
    import asyncio

    from indipyserver.drivers.inbound import InboundProtocol

    class Transport(asyncio.ReadTransport):
        max_size = 256 * 1024

        def pause_reading(self) -> None:
            pass

    proto = InboundProtocol(lambda frames: None, "x")
    transport = Transport()
    proto.connection_made(transport)
    assert transport.max_size == SMALL_READ_SIZE
    proto.data_received(b"<pingRequest/>" * (SMALL_READ_SIZE // 14 + 1))
    assert transport.max_size == READ_SIZE
