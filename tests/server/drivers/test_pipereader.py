"""PipeReader: the driver's stdout read small into new bytes, large into the protocol's buffer."""

from __future__ import annotations

import array
import asyncio
import logging
import os
import socket

import pytest
import waiting

from indipyserver.drivers.pipereader import MAX_FDS
from indipyserver.drivers.pipereader import SMALL_READ
from indipyserver.drivers.pipereader import PipeReader
from indipyserver.drivers.pipereader import SocketReader


async def loop_polled() -> None:
    """The loop has polled its selector since this was called, and run every callback that was
    due then: a witness pipe, written now, was seen readable (a reader registered on a pipe
    written before would have been called in that same poll, a call_soon made before ran)."""
    loop = asyncio.get_running_loop()
    r, w = os.pipe()
    seen = asyncio.Event()
    loop.add_reader(r, seen.set)
    try:
        os.write(w, b"x")
        await asyncio.wait_for(seen.wait(), 5)
    finally:
        loop.remove_reader(r)
        os.close(r)
        os.close(w)


class Recorder(asyncio.Protocol):
    """Records every call a transport makes; lends one buffer for large reads."""

    def __init__(self, size: int = 1 << 20) -> None:
        self.calls: list[tuple[str, object]] = []
        self.buffer = bytearray(size)
        self.lost = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.calls.append(("made", transport))

    def data_received(self, data: bytes) -> None:
        self.calls.append(("data", data))

    def get_buffer(self, sizehint: int) -> bytearray:
        self.calls.append(("get_buffer", sizehint))
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.calls.append(("buffer", bytes(self.buffer[:nbytes])))

    def eof_received(self) -> bool | None:
        self.calls.append(("eof", None))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.calls.append(("lost", exc))
        self.lost.set()

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

    def received(self) -> bytes:
        return b"".join(c[1] for c in self.calls if c[0] in ("data", "buffer"))  # type: ignore[misc]


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    await waiting.until(predicate, timeout, interval=0.001)


async def test_small_reads_are_new_bytes_and_large_reads_fill_the_lent_buffer() -> None:
    """While reads are small the round trip path is one os.read; once the protocol raises
    max_size the bytes land in its buffer (no new 1 MiB object per read)."""
    r, w = os.pipe()
    proto = Recorder()
    transport = PipeReader(asyncio.get_running_loop(), os.fdopen(r, "rb", buffering=0), proto)
    assert proto.calls == [("made", transport)]
    os.write(w, b"<pingRequest/>")
    await until(lambda: "data" in proto.kinds())
    assert proto.calls[-1] == ("data", b"<pingRequest/>")
    transport.max_size = 1 << 20
    os.write(w, b"x" * 60_000)  # less than the pipe holds: the writer never blocks
    await until(lambda: len(proto.received()) == 14 + 60_000)
    assert "get_buffer" in proto.kinds() and proto.calls[-1][0] == "buffer"
    os.close(w)
    await asyncio.wait_for(proto.lost.wait(), 5)
    assert proto.kinds()[-2:] == ["eof", "lost"]
    assert proto.calls[-1] == ("lost", None)
    transport.close()  # after EOF: nothing more happens
    await loop_polled()
    assert proto.kinds().count("lost") == 1


async def test_pause_stops_reading_until_resume() -> None:
    """Throttling (LoopFlow) pauses a driver's reads: its bytes wait in the pipe."""
    r, w = os.pipe()
    proto = Recorder()
    transport = PipeReader(asyncio.get_running_loop(), os.fdopen(r, "rb", buffering=0), proto)
    transport.pause_reading()
    assert not transport.is_reading()
    os.write(w, b"<a/>")
    await loop_polled()
    assert "data" not in proto.kinds()
    transport.resume_reading()
    await until(lambda: proto.received() == b"<a/>")
    transport.close()
    transport.close()
    await asyncio.wait_for(proto.lost.wait(), 5)
    await loop_polled()
    assert proto.kinds().count("lost") == 1
    assert transport.is_closing()
    os.close(w)


async def test_paused_before_the_first_read_reads_nothing() -> None:
    """The server pauses a driver's reads in connection_made until the router knows it."""
    r, w = os.pipe()

    class PausesAtOnce(Recorder):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            assert isinstance(transport, asyncio.ReadTransport)
            transport.pause_reading()

    proto = PausesAtOnce()
    transport = PipeReader(asyncio.get_running_loop(), os.fdopen(r, "rb", buffering=0), proto)
    os.write(w, b"<early/>" * 10)
    await loop_polled()
    assert proto.kinds() == ["made"]
    transport.resume_reading()
    await until(lambda: proto.received() == b"<early/>" * 10)
    assert SMALL_READ >= 80
    os.close(w)
    await asyncio.wait_for(proto.lost.wait(), 5)


async def test_read_now_takes_what_is_there_and_nothing_while_paused_or_closed() -> None:
    """read_now (lanes, after handing a driver the CPU) reads the pipe at once, before the
    loop would: what is there is delivered, nothing there costs nothing, a paused reader
    stays paused, a closed one is not read. It says False only when the pipe held nothing
    (the shortcut then hands the driver the CPU once more)."""
    r, w = os.pipe()
    proto = Recorder()
    transport = PipeReader(asyncio.get_running_loop(), os.fdopen(r, "rb", buffering=0), proto)
    assert transport.read_now() is False  # nothing written yet: no call, no error
    assert proto.kinds() == ["made"]
    os.write(w, b"<a/>")
    assert transport.read_now() is True  # no await: read here, not by the loop
    assert proto.received() == b"<a/>"
    transport.pause_reading()
    os.write(w, b"<b/>")
    assert transport.read_now() is True  # paused: not worth another try
    assert proto.received() == b"<a/>"
    transport.resume_reading()
    await until(lambda: proto.received() == b"<a/><b/>")
    transport.close()
    os.write(w, b"<c/>")
    transport.read_now()
    await asyncio.wait_for(proto.lost.wait(), 5)
    assert proto.received() == b"<a/><b/>"
    os.close(w)


async def test_read_now_reports_a_protocol_error_to_the_loop_instead_of_raising() -> None:
    """The caller (a client's read, in lanes) must not be cut short by the driver's routing:
    an exception goes to the loop's handler, as from the selector."""
    r, w = os.pipe()

    class Fails(Recorder):
        def data_received(self, data: bytes) -> None:
            raise RuntimeError("routing bug")

    loop = asyncio.get_running_loop()
    seen: list[dict[str, object]] = []
    loop.set_exception_handler(lambda loop, context: seen.append(context))
    transport = PipeReader(loop, os.fdopen(r, "rb", buffering=0), Fails())
    os.write(w, b"<a/>")
    transport.read_now()
    assert len(seen) == 1 and isinstance(seen[0]["exception"], RuntimeError)
    assert seen[0]["transport"] is transport
    transport.close()
    os.close(w)


def _fds_message(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())])


async def test_socket_reader_hands_fds_over_before_the_bytes() -> None:
    """Descriptors reach on_fds before the read's bytes reach the protocol, small reads and
    large (lent-buffer) reads alike; EOF as for a pipe."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    proto = Recorder()
    got: list[int] = []
    transport = SocketReader(asyncio.get_running_loop(), ours, proto,
                             lambda fds: proto.calls.append(("fds", list(fds))) or got.extend(fds))
    sent = [os.memfd_create("a"), os.memfd_create("b")]
    _fds_message(theirs, b"<one/>", sent[:1])
    await until(lambda: "data" in proto.kinds())
    assert proto.kinds()[-2:] == ["fds", "data"]
    transport.max_size = 1 << 20
    _fds_message(theirs, b"x" * 70_000, sent[1:])
    await until(lambda: len(proto.received()) == 6 + 70_000)
    assert proto.kinds()[proto.kinds().index("get_buffer") :][:2] == ["get_buffer", "fds"]
    assert len(got) == 2 and all(os.fstat(fd) for fd in got)
    theirs.close()
    await asyncio.wait_for(proto.lost.wait(), 5)
    assert proto.kinds()[-2:] == ["eof", "lost"]
    assert ours.fileno() == -1  # closed with the transport
    for fd in [*sent, *got]:
        os.close(fd)


async def test_socket_reader_closes_fds_of_a_truncated_control_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    proto = Recorder()
    got: list[int] = []
    transport = SocketReader(asyncio.get_running_loop(), ours, proto, got.extend)
    sent = [os.memfd_create(f"m{i}") for i in range(MAX_FDS + 4)]
    before = len(os.listdir("/proc/self/fd"))
    with caplog.at_level(logging.ERROR):
        _fds_message(theirs, b"<one/>", sent)
        await until(lambda: "data" in proto.kinds())
    assert got == [] and "more descriptors" in caplog.text
    assert len(os.listdir("/proc/self/fd")) == before  # what arrived was closed
    transport.close()
    theirs.close()
    for fd in sent:
        os.close(fd)
