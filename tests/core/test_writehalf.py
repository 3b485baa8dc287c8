"""WriteHalf, the write half and the end of the hand-written transports (``indipycore.writehalf``),
on real socketpairs: bytes arrive whole and in order whatever the socket takes, the protocol is
paused and resumed at the marks, close waits for what is buffered, abort does not, and the
protocol learns of the end once, after the call that ended it, with the socket closed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from waiting import until

from indipycore.writehalf import HIGH_WATER
from indipycore.writehalf import WriteHalf


@dataclass
class Recorder:
    """The protocol's side: what the write half told it, in order."""

    calls: list[str] = field(default_factory=list)
    lost_with: list[Exception | None] = field(default_factory=list)
    raise_when_lost: bool = False

    def pause_writing(self) -> None:
        self.calls.append("pause")

    def resume_writing(self) -> None:
        self.calls.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.calls.append("lost")
        self.lost_with.append(exc)
        if self.raise_when_lost:
            raise RuntimeError("the protocol failed in connection_lost")


@dataclass
class Pair:
    """A WriteHalf on one end of a socketpair, the other end read by the test."""

    half: WriteHalf
    ours: socket.socket
    theirs: socket.socket
    protocol: Recorder
    stopped: list[str]
    drained: list[str]

    async def read(self, size: int) -> bytes:
        """`size` bytes from the peer's end (fewer only at its end)."""
        loop = asyncio.get_running_loop()
        got = bytearray()
        while len(got) < size:
            chunk = await loop.sock_recv(self.theirs, min(size - len(got), 1 << 20))
            if not chunk:
                break
            got += chunk
        return bytes(got)


@asynccontextmanager
async def pair(*, drained: bool = False) -> AsyncIterator[Pair]:
    """A WriteHalf writing to a socketpair; `drained`: a callback of its own ends the close."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    protocol = Recorder()
    stopped: list[str] = []
    ends: list[str] = []
    loop = asyncio.get_running_loop()
    half: WriteHalf

    def drained_then_abort() -> None:
        ends.append("drained")
        half.abort()

    half = WriteHalf(loop, ours.fileno(), protocol, ours, lambda: stopped.append("stop"),
                     drained=drained_then_abort if drained else None)
    try:
        yield Pair(half, ours, theirs, protocol, stopped, ends)
    finally:
        half.abort()
        await asyncio.sleep(0)
        theirs.close()
        ours.close()


def fill(sock: socket.socket) -> int:
    """Bytes written into `sock` until its buffers are full (what the peer must read first)."""
    total = 0
    size = 65536
    while size:
        try:
            total += sock.send(b"\0" * size)
        except BlockingIOError:
            size //= 2  # (room for less may be left: taken too)
    return total


async def test_a_write_the_socket_takes_goes_out_at_once_with_nothing_kept() -> None:
    """The round trip's write: one os.write, nothing buffered, no writer callback left."""
    async with pair() as p:
        assert p.half.write(b"<pingRequest uid='1'/>")  # taken (the shortcut's answer)
        assert p.half.buffered == 0
        assert not asyncio.get_running_loop().remove_writer(p.ours.fileno())
        assert await p.read(22) == b"<pingRequest uid='1'/>"


async def test_what_a_full_socket_does_not_take_is_sent_in_order_and_the_protocol_paused() -> None:
    """A socket full to the brim: what follows waits, is paused past the high mark, resumed
    at the low, and reaches the peer whole and in order once it reads."""
    async with pair() as p:
        before = fill(p.ours)
        data = [bytes([i]) * 40_000 for i in range(1, 4)]  # 120 kB: past the 64 kB mark
        for piece in data:
            p.half.write(piece)
        assert p.half.buffered == 120_000
        assert p.protocol.calls == ["pause"]
        assert await p.read(before) == b"\0" * before
        assert await p.read(120_000) == b"".join(data)
        await until(lambda: p.half.buffered == 0, 5, "everything written")
        assert p.protocol.calls == ["pause", "resume"]


@settings(max_examples=25)
@given(sizes=st.lists(st.integers(1, 300_000), min_size=1, max_size=12),
       kinds=st.lists(st.sampled_from(["bytes", "bytearray", "memoryview"]), min_size=12,
                      max_size=12))
def test_any_writes_arrive_whole_and_in_order_even_if_the_caller_changes_them(
    sizes: list[int], kinds: list[str]
) -> None:
    """Writes of any size and type, the socket full or not, arrive whole and in order; a
    bytearray (or a view of one) changed after it was written arrives as it was written."""

    async def scenario() -> None:
        async with pair() as p:
            expected = bytearray()
            for i, size in enumerate(sizes):
                chunk = bytes([i % 251 + 1]) * size
                expected += chunk
                if kinds[i] == "bytes":
                    p.half.write(chunk)
                else:
                    mutable = bytearray(chunk)
                    p.half.write(mutable if kinds[i] == "bytearray" else memoryview(mutable))
                    mutable[:] = b"\xff" * size  # the caller reuses its buffer
            got = await asyncio.wait_for(p.read(len(expected)), 30)
            assert got == expected

    asyncio.run(scenario())


async def test_close_waits_for_what_is_buffered_then_ends_once() -> None:
    """close stops reading at once, ends only once the peer took everything (the TLS
    transport's close_notify goes there), then connection_lost once and the socket closed."""
    async with pair(drained=True) as p:
        before = fill(p.ours)
        p.half.write(b"last words")
        p.half.close()
        p.half.close()
        assert p.stopped == ["stop"] and p.half.closing and not p.half.lost
        assert p.drained == []
        assert not p.half.write(b"too late")  # ignored, and said so: closing
        assert await p.read(before + 10) == b"\0" * before + b"last words"
        await until(lambda: p.protocol.calls == ["lost"], 5, "the connection lost")
        assert p.drained == ["drained"] and p.protocol.lost_with == [None]
        assert p.ours.fileno() == -1
        assert await p.read(1) == b""  # nothing after the last words


async def test_abort_drops_what_waits_and_tells_the_protocol_after_the_call() -> None:
    """abort ends now: what waits is dropped, connection_lost comes soon (never inside the
    call that aborted) and once, and the socket closes even though the protocol raised."""
    async with pair() as p:
        before = fill(p.ours)
        p.half.write(b"x" * 100_000)
        p.protocol.raise_when_lost = True
        loop = asyncio.get_running_loop()
        errors: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _, context: errors.append(context))
        try:
            p.half.abort()
            p.half.abort()
            assert p.protocol.calls == ["pause"] and p.half.buffered == 0
            await until(lambda: "lost" in p.protocol.calls, 5, "the connection lost")
        finally:
            loop.set_exception_handler(None)
        assert p.protocol.calls == ["pause", "lost"]
        assert p.ours.fileno() == -1
        assert errors and isinstance(errors[0].get("exception"), RuntimeError)
        assert len(await p.read(before + 100_000)) == before


async def test_a_write_to_a_closed_peer_ends_the_connection_with_the_error() -> None:
    """The peer gone: the write's OSError ends the connection (`fail`: abort with it), and a
    later write is ignored rather than raising."""
    async with pair() as p:
        p.theirs.close()
        p.half.write(b"anyone there?")
        p.half.write(b"again")
        await until(lambda: p.protocol.calls == ["lost"], 5, "the connection lost")
        (exc,) = p.protocol.lost_with
        assert isinstance(exc, (BrokenPipeError, ConnectionResetError))


async def test_limits_are_checked_and_a_lower_mark_pauses_at_once() -> None:
    """set_limits as asyncio's: defaults of 64 kB and its quarter, a clear error for high
    below low, and a mark below what already waits pauses the protocol."""
    async with pair() as p:
        assert p.half.limits() == (HIGH_WATER // 4, HIGH_WATER)
        with pytest.raises(ValueError, match="must be >= low"):
            p.half.set_limits(high=10, low=20)
        fill(p.ours)
        p.half.write(b"y" * 1000)
        assert p.protocol.calls == []
        p.half.set_limits(high=0, low=0)
        assert p.protocol.calls == ["pause"] and p.half.limits() == (0, 0)
