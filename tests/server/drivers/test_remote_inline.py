"""A chained server's socket read by the server's own selector (`StreamProtocol.read_inline`).

On the server's loop (``loop.eventloop``) a remote server's socket is read from inside ``select``,
as clients' sockets and drivers' pipes are, and asyncio's transport only writes. Protects:
elements arrive whole and in order, small and large (a BLOB read into pooled buffers); throttling
and holding stop the reads and releasing them resumes; nothing is read once the transport is
closing; the end of the connection and a reset reach ``connection_lost`` once, and the
descriptor is no longer watched; writes still go through the transport. The tests run on the
server's loop alone (``INLINE_ONLY`` in the conftest).
"""

from __future__ import annotations

import asyncio
import os
import socket

import pytest
from waiting import until

from indipyserver.drivers.inbound import StreamProtocol
from indipyserver.drivers.outbound import WriteGate
from indipyserver.loop.eventloop import inline_selector


async def _connected(got: list[bytes], on_frames=None):  # type: ignore[no-untyped-def]
    """A StreamProtocol on one end of a socket pair, read by the selector; the other end."""
    loop = asyncio.get_running_loop()
    selector = inline_selector(loop)
    assert selector is not None
    if on_frames is None:
        on_frames = lambda frames: got.extend(f.data for f in frames)
    proto = StreamProtocol(on_frames, "remote", WriteGate())
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    transport, _ = await loop.create_connection(lambda: proto, sock=ours)
    proto.read_inline(selector, ours.fileno())
    proto.start()
    return proto, transport, selector, ours.fileno(), theirs


async def still_unread(fd: int, data: bytes) -> None:
    """`data`, sent to `fd`, waits unread in its buffer, and is still there after three turns
    of the loop (in each of which the selector reads every watched descriptor that is
    readable): the evidence that it is not being read, not a pause."""
    with socket.socket(fileno=os.dup(fd)) as sock:
        def peek() -> bytes:
            try:
                return sock.recv(len(data) + 1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                return b""

        await until(lambda: peek() == data, 5, "the data in the buffer")
        for _ in range(3):
            await asyncio.sleep(0)  # a turn of the loop, its select included
        assert peek() == data


SET = b'<setNumberVector device="D" name="N" state="Ok"><oneNumber name="v">%d</oneNumber></setNumberVector>\n'


async def test_elements_small_and_large_arrive_whole_and_in_order_read_by_the_selector() -> None:
    got: list[bytes] = []
    proto, transport, selector, fd, theirs = await _connected(got)
    lent: list[int] = []  # the size of each buffer the selector read into
    get_buffer = proto.get_buffer
    proto.get_buffer = lambda hint: lent.append(len(buf := get_buffer(hint))) or buf  # type: ignore[method-assign]
    try:
        assert fd in selector._inline and not transport.is_reading()  # the selector reads
        blob = (b'<setBLOBVector device="D" name="B"><oneBLOB name="b" size="3" format=".x">'
                + b"QUJD" * 600_000 + b"</oneBLOB></setBLOBVector>\n")
        theirs.setblocking(True)
        theirs.sendall(SET % 1)
        await until(lambda: len(got) == 1)
        sender = asyncio.get_running_loop().run_in_executor(None, theirs.sendall, blob + SET % 2)
        await until(lambda: len(got) == 3)
        await sender
        assert got[0] == (SET % 1).rstrip(b"\n") and got[2] == (SET % 2).rstrip(b"\n")
        assert got[1] == blob.rstrip(b"\n")
        # large reads into pooled buffers were used (the size in force at the end depends on
        # whether the last element came alone in a small read, which shrinks it again)
        assert max(lent) > 1 << 16
        transport.write(b"<getProperties/>")  # the transport still writes
        theirs.settimeout(5)
        assert theirs.recv(100) == b"<getProperties/>"
    finally:
        theirs.close()
    await until(lambda: proto.closed.is_set())
    assert fd not in selector._inline


async def test_throttled_or_held_no_reads_and_released_reads_resume() -> None:
    got: list[bytes] = []
    proto, transport, selector, fd, theirs = await _connected(got)
    proto.throttle(True)
    assert fd not in selector._inline
    theirs.send(SET % 1)
    await still_unread(fd, SET % 1)
    assert got == []
    proto.hold(True)
    proto.throttle(False)  # still held
    await still_unread(fd, SET % 1)
    assert got == [] and fd not in selector._inline
    proto.hold(False)
    await until(lambda: len(got) == 1)
    assert not transport.is_reading()  # asyncio's reading was never resumed
    transport.close()
    await until(lambda: proto.closed.is_set())
    theirs.close()


async def test_nothing_is_read_once_the_transport_is_closing() -> None:
    got: list[bytes] = []
    proto, transport, selector, fd, theirs = await _connected(got)
    transport.close()
    theirs.send(SET % 1)
    proto._read_inline()  # as if the selector had seen it readable before the close
    assert got == []
    await until(lambda: proto.closed.is_set())
    assert fd not in selector._inline
    theirs.close()


async def test_a_reset_connection_is_lost_once_and_unwatched() -> None:
    got: list[bytes] = []
    proto, transport, selector, fd, theirs = await _connected(got)
    lost: list[Exception | None] = []
    original = proto.connection_lost

    def record(exc: Exception | None) -> None:
        lost.append(exc)
        original(exc)

    proto.connection_lost = record  # type: ignore[method-assign]
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    theirs.send(SET % 1)
    theirs.close()  # unread data and linger 0: a reset, or the end of the stream
    await until(lambda: proto.closed.is_set())
    # asyncio's transport lets go of its protocol once it has called connection_lost
    await until(lambda: transport.get_protocol() is None, 5, "the transport done with it")
    assert len(lost) == 1 and fd not in selector._inline


async def test_a_read_the_server_fails_to_handle_closes_the_connection_with_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As on asyncio's transport: an error while routing what the remote sent ends the
    connection (the remote is then reconnected with backoff) rather than reading on with a
    framer or a BLOB forwarder stopped half-way."""

    def broken(frames) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("routing bug")

    with caplog.at_level("ERROR", logger="indipyserver"):
        proto, transport, selector, fd, theirs = await _connected([], broken)
        theirs.send(SET % 1)
        await until(lambda: proto.closed.is_set())
        assert fd not in selector._inline and transport.is_closing()
        theirs.close()
    assert any("handling what it sent failed" in r.getMessage() and r.exc_info
               for r in caplog.records)


async def test_read_now_reads_what_the_remote_sent_unless_the_reader_is_stopped() -> None:
    """A chained server's answer is read at once after a request was handed to it (lanes,
    `DriverConnection.read_now`), as the selector would read it; not while throttled."""
    got: list[bytes] = []
    proto, transport, _, fd, theirs = await _connected(got)
    theirs.send(SET % 1)
    assert proto.read_now() is True  # no await since the send: read here, not by the loop
    assert got == [(SET % 1).rstrip(b"\n")]
    assert proto.read_now() is False  # nothing more there: nothing happens
    proto.throttle(True)
    theirs.send(SET % 2)
    proto.read_now()
    await still_unread(fd, SET % 2)
    assert len(got) == 1
    proto.throttle(False)
    await until(lambda: len(got) == 2)
    transport.close()
    await until(lambda: proto.closed.is_set())
    theirs.close()
