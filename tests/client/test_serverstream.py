"""ServerStream, the client's socket protocol: what the connection reads comes out whole and in
order, copied once (reads waiting together joined) or, in the middle of a BLOB, as the lent
buffer itself, never read into again while it is held; reading pauses while too much waits and
resumes when the program catches up; the end and a lost connection are told once the data
before them is out; writers wait while the transport's buffer is full."""

from __future__ import annotations

import asyncio
import os

import pytest

from indipyclient.session.serverstream import ServerStream


class FakeTransport:
    """What ServerStream uses of its transport, recorded."""

    def __init__(self) -> None:
        self.paused = False
        self.pauses = 0
        self.written: list[bytes] = []
        self.closed = False

    def pause_reading(self) -> None:
        assert not self.paused
        self.paused = True
        self.pauses += 1

    def resume_reading(self) -> None:
        assert self.paused
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True


def deliver(stream: ServerStream, data: bytes) -> None:
    """One read as the transport makes it: into the buffer the protocol gives."""
    buf = stream.get_buffer(-1)
    n = min(len(buf), len(data))
    buf[:n] = data[:n]
    stream.buffer_updated(n)


def made(**kwargs: int) -> tuple[ServerStream, FakeTransport]:
    stream = ServerStream(**kwargs)
    transport = FakeTransport()
    stream.connection_made(transport)  # type: ignore[arg-type]
    return stream, transport


async def test_reads_come_out_in_order_and_waiting_ones_joined() -> None:
    """Several small reads waiting are one chunk for the framer; the end comes after them."""
    stream, _ = made(small_read=64, large_read=256)
    for part in (b"<a>", b"1</a>", b"<b/>"):
        deliver(stream, part)
    stream.eof_received()
    assert await stream.read(False) == b"<a>1</a><b/>"
    assert await stream.read(False) == b""
    assert await stream.read(False) == b""


async def test_a_chunk_is_no_larger_than_a_small_read() -> None:
    """Joining stops at one small read's worth: a burst is applied from chunks that stay in
    the processor's cache."""
    stream, _ = made(small_read=64, large_read=256)
    for _ in range(5):
        deliver(stream, b"x" * 40)
    chunks = [await stream.read(False) for _ in range(5)]
    assert [len(c) for c in chunks if c] == [40] * 5
    for _ in range(4):
        deliver(stream, b"y" * 16)
    assert await stream.read(False) == b"y" * 64


async def test_a_whole_read_in_a_blob_is_lent_and_not_read_into_while_held() -> None:
    """While a BLOB streams, a read that fills its buffer is handed over as the buffer; the
    next reads go to other buffers until the program lets go of it."""
    stream, _ = made(small_read=64, large_read=256)
    deliver(stream, b"<setBLOBVector>")
    assert await stream.read(True) == b"<setBLOBVector>"  # read into the small buffer: a copy
    deliver(stream, b"A" * 256)
    lent = await stream.read(True)
    assert type(lent) is bytearray and lent == b"A" * 256
    deliver(stream, b"B" * 256)
    assert lent == b"A" * 256  # not overwritten
    second = await stream.read(True)
    assert second is not lent and second == b"B" * 256
    del second
    deliver(stream, b"C" * 100)  # a partial read: copied, so its buffer is free again
    assert await stream.read(True) == b"C" * 100


async def test_a_lent_read_is_copied_when_no_blob_streams_any_more() -> None:
    """A lent buffer still waiting when the BLOB has ended is taken as bytes (the framer's
    shortcut and the model read bytes), joined with what follows it."""
    stream, _ = made(small_read=512, large_read=256)
    deliver(stream, b"<x/>")
    assert await stream.read(True) == b"<x/>"
    deliver(stream, b"D" * 256)
    deliver(stream, b"<y/>")
    data = await stream.read(False)
    assert type(data) is bytes and data == b"D" * 256 + b"<y/>"


async def test_reading_pauses_while_too_much_waits_and_resumes_when_caught_up() -> None:
    """The queue is bounded by bytes: the transport stops reading at the limit, and reads again
    once the program has taken half of it."""
    stream, transport = made(small_read=100, large_read=100, queue_limit=400)
    for _ in range(4):
        deliver(stream, b"z" * 100)
    assert transport.paused
    assert len(await stream.read(False)) == 100
    assert transport.paused  # 300 still waiting
    assert len(await stream.read(False)) == 100
    assert not transport.paused  # 200: half the limit
    assert transport.pauses == 1


async def test_reading_pauses_when_the_lent_buffers_run_out() -> None:
    """At most `max_lent` whole reads wait as lent buffers: the pool keeps that many and two
    more, so a read never allocates a buffer it will not keep."""
    stream, transport = made(small_read=64, large_read=128, queue_limit=1 << 20, max_lent=2)
    deliver(stream, b"<setBLOBVector>")
    await stream.read(True)
    deliver(stream, b"A" * 128)
    assert not transport.paused
    deliver(stream, b"B" * 128)
    assert transport.paused
    assert await stream.read(True) == b"A" * 128
    assert not transport.paused


async def test_a_lost_connection_is_raised_after_the_data_before_it() -> None:
    stream, _ = made()
    deliver(stream, b"<a/>")
    stream.connection_lost(ConnectionResetError("reset by peer"))
    assert await stream.read(False) == b"<a/>"
    with pytest.raises(ConnectionResetError, match="reset by peer"):
        await stream.read(False)


async def test_a_waiting_reader_is_woken_by_data_and_by_the_end() -> None:
    stream, _ = made()
    reader = asyncio.ensure_future(stream.read(False))
    await asyncio.sleep(0)
    assert not reader.done()
    deliver(stream, b"<a/>")
    assert await reader == b"<a/>"
    reader = asyncio.ensure_future(stream.read(False))
    await asyncio.sleep(0)
    stream.connection_lost(None)
    assert await reader == b""


async def test_writers_wait_while_the_transport_is_full_and_fail_once_it_is_gone() -> None:
    stream, transport = made()
    stream.write(b"<getProperties/>")
    await stream.drain()  # not paused: at once
    assert transport.written == [b"<getProperties/>"]
    stream.pause_writing()
    waiters = [asyncio.ensure_future(stream.drain()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    stream.resume_writing()
    await asyncio.gather(*waiters)
    stream.pause_writing()
    waiter = asyncio.ensure_future(stream.drain())
    await asyncio.sleep(0)
    stream.connection_lost(None)
    with pytest.raises(ConnectionResetError):
        await waiter
    with pytest.raises(ConnectionResetError):
        await stream.drain()
    await asyncio.wait_for(stream.wait_closed(), 1)


async def test_a_real_socket_delivers_every_byte_with_reading_bounded() -> None:
    """Over loopback, a peer writing 8 MiB at once to a program that takes its time: the
    bytes come out whole and in order, and no more than the queue's bound waits at once."""
    payload = os.urandom(8 << 20)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    limit = 1 << 20
    _, stream = await loop.create_connection(
        lambda: ServerStream(small_read=1 << 16, large_read=1 << 18, queue_limit=limit),
        "127.0.0.1", port)
    got = bytearray()
    most = 0
    blob = False
    while True:
        most = max(most, stream.queued)
        data = await stream.read(blob)
        if not data:
            break
        got += data
        blob = not blob  # lent and copied reads, both
        await asyncio.sleep(0.001)  # the scenario: a reader slower than the sender
    server.close()
    await server.wait_closed()
    assert bytes(got) == payload
    assert most <= limit + (1 << 18)
