"""The client's socket to its server: reads in order through a bounded queue, writes with flow
control, and a BLOB's reads lent to the framer instead of copied.

asyncio's ``StreamReader`` copies each read twice into fresh memory (into its buffer, out of
it). A 10 MiB BLOB is 14 MB of base64, so those copies and the page faults of their memory
were about a fifth of the client's time receiving BLOBs. Here the transport reads into our
own buffers (``asyncio.BufferedProtocol``). While a BLOB streams, reads are large and come
from a `ReadBufferPool`. A read that fills its buffer is handed over as that ``bytearray``,
for ``Incoming.feed_lent``: the BLOB's pieces are views of it, and the pool reads into it
again only once none is left (``indipycore.readbuffers``). Any other read is copied once
into ``bytes``, and reads that wait together are joined.

Outside a BLOB reads are smaller (`SMALL_READ`). A burst's elements are applied faster in
chunks that stay in the processor's cache: 1 MiB chunks made a 100k burst about 13% slower.

Bounded: reading pauses while more than `QUEUE_LIMIT` bytes, or `MAX_LENT` lent buffers,
wait for the program, and resumes when half of that is left.

On a Unix socket the transport (``unixtransport``) also gives the descriptors each read
brought (``fds_received``, before the read's bytes): they wait beside the queue and are handed
out (`take_fds`) with the read that brought them, so the connection gives them to the framing
just before those bytes; reads are joined only up to one that brought descriptors (a read
ends with the write that passed them, which began with their element: ``attachedblobs``).
Reading pauses too while more than `MAX_FDS` wait; `close_fds` closes those never taken.
"""

from __future__ import annotations

import asyncio
import collections
import os
from typing import cast

from indipycore.readbuffers import ReadBufferPool

__all__ = ["LARGE_READ", "MAX_FDS", "MAX_LENT", "QUEUE_LIMIT", "SMALL_READ", "ServerStream"]

SMALL_READ = 1 << 18
LARGE_READ = 1 << 20
QUEUE_LIMIT = 4 * LARGE_READ
MAX_LENT = 4
#: Descriptors waiting beside the queue past which reading pauses (a memory file holds an
#: image: as many waiting as a few reads' worth of the socket's bytes would be too many).
MAX_FDS = 64
_NO_FDS: list[int] = []


class ServerStream(asyncio.BufferedProtocol):
    """One connection's protocol, and the reader and writer the connection uses.

    ``await read(blob)`` returns the next data: ``bytes``, or while ``blob`` (a BLOB is
    streaming) possibly a lent ``bytearray`` holding one whole read; ``b""`` at the end.
    ``write``/``drain``/``close``/``wait_closed`` are the writer's half.
    """

    def __init__(self, small_read: int = SMALL_READ, large_read: int = LARGE_READ,
                 queue_limit: int = QUEUE_LIMIT, max_lent: int = MAX_LENT,
                 tls: bool = False) -> None:
        """`tls`: the transport is asyncio's TLS transport, which (Python 3.11) reads the rest
        of a record into ``buf[offset:]`` -- a copy of a bytearray, so those bytes would never
        reach ours: it is given a view of the buffer instead."""
        if tls:
            self.get_buffer = self._buffer_view  # type: ignore[method-assign,assignment]
        self._small = bytearray(small_read)
        self._pool = ReadBufferPool(large_read, keep=max_lent + 2)
        self._large = False  # the program is receiving a BLOB: large reads from the pool
        self._reading: bytearray | None = None  # what the transport reads into now
        self._queue: collections.deque[bytes | bytearray] = collections.deque()
        self._queued = 0  # bytes in the queue
        self._lent = 0  # bytearrays in the queue
        self._queue_limit = queue_limit
        self._max_lent = max_lent
        self._paused = False
        self._eof = False
        self._error: BaseException | None = None
        self._reader: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._write_paused = False
        self._transport: asyncio.Transport | None = None
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Descriptors (Unix socket): (the number of the queue entry they came with, fds).
        self._fds: collections.deque[tuple[int, list[int]]] = collections.deque()
        self._nfds = 0  # descriptors in _fds
        self._appended = 0  # queue entries appended so far
        self._popped = 0  # ... and taken
        self._taken: list[int] = _NO_FDS

    @property
    def queued(self) -> int:
        """Bytes read and not yet taken by the program."""
        return self._queued

    # -- the transport's calls --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def get_buffer(self, sizehint: int) -> bytearray:
        buf = self._reading = self._pool.get() if self._large else self._small
        return buf

    def _buffer_view(self, sizehint: int) -> memoryview:
        return memoryview(ServerStream.get_buffer(self, sizehint))

    def fds_received(self, fds: list[int]) -> None:
        """The descriptors the next read (``buffer_updated``) brought."""
        self._fds.append((self._appended, fds))
        self._nfds += len(fds)

    def buffer_updated(self, nbytes: int) -> None:
        buf = self._reading
        assert buf is not None
        self._reading = None
        if nbytes == len(buf) and buf is not self._small:
            self._queue.append(buf)  # lent: not read into again while the program holds it
            self._lent += 1
        else:
            self._queue.append(bytes(memoryview(buf)[:nbytes]))
        del buf
        self._appended += 1
        self._queued += nbytes
        if not self._paused and (self._queued >= self._queue_limit
                                 or self._lent >= self._max_lent or self._nfds > MAX_FDS):
            self._paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake_reader()
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- the reader -----------------------------------------------------------------------

    async def read(self, blob: bool) -> bytes | bytearray:
        """The next data (see the class docstring); raises the connection's error, if it
        ended with one, once everything read before it has been returned."""
        queue = self._queue
        while not queue:
            if self._eof:
                if self._error is not None:
                    raise self._error
                return b""
            self._reader = asyncio.get_running_loop().create_future()
            await self._reader
        if blob != self._large:
            self._large = blob
            if not blob:
                self._pool.shrink()  # back to small reads: keep one large buffer
        data = queue.popleft()
        self._popped += 1
        self._queued -= len(data)
        # (A read that brought descriptors is not joined to those after it: see `_join`.)
        joinable = not (self._fds and self._came_with_fds(self._popped - 1))
        if isinstance(data, bytearray):
            self._lent -= 1
            if not blob:
                data = self._join(bytes(data)) if joinable else bytes(data)
        elif queue and joinable:
            data = self._join(data)
        if self._fds:
            self._take_fds_read()
        if (self._paused and self._queued <= self._queue_limit // 2
                and self._lent < self._max_lent and self._nfds <= MAX_FDS):
            self._paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        return data

    def _join(self, first: bytes) -> bytes:
        """`first` and the reads waiting after it, up to one small read's worth (a lent
        buffer only when no BLOB streams): one feed instead of several."""
        queue = self._queue
        parts: list[bytes | bytearray] = [first]
        size = len(first)
        while queue and size + len(queue[0]) <= len(self._small):
            if type(queue[0]) is bytearray:
                if self._large:
                    break
                self._lent -= 1
            part = queue.popleft()
            self._popped += 1
            parts.append(part)
            size += len(part)
            if self._fds and self._came_with_fds(self._popped - 1):
                break  # a joined read holds one read's descriptors at most, at its end
        self._queued -= size - len(first)  # the parts after the first left the queue
        return first if len(parts) == 1 else b"".join(parts)

    def _came_with_fds(self, entry: int) -> bool:
        """Whether queue entry number `entry` brought descriptors."""
        for number, _ in self._fds:
            if number >= entry:
                return number == entry
        return False

    def _take_fds_read(self) -> None:
        """Move the descriptors of the entries read to `_taken`."""
        fds = self._fds
        while fds and fds[0][0] < self._popped:
            _, some = fds.popleft()
            self._nfds -= len(some)
            if self._taken is _NO_FDS:
                self._taken = []
            self._taken.extend(some)

    def take_fds(self) -> list[int]:
        """The descriptors that came with the data the last `read` returned (and any before
        it not yet taken), oldest first; the caller owns them now."""
        taken, self._taken = self._taken, _NO_FDS
        return taken

    def close_fds(self) -> None:
        """Close the descriptors received and not taken (the connection ended)."""
        while self._fds:
            for fd in self._fds.popleft()[1]:
                _close(fd)
        for fd in self.take_fds():
            _close(fd)
        self._nfds = 0

    def _wake_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.set_result(None)

    # -- the writer ----------------------------------------------------------------------

    def write(self, data: bytes | memoryview) -> None:
        if self._transport is not None:
            self._transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high-water mark."""
        if self._closed.done():
            raise ConnectionResetError("connection lost")
        if self._write_paused:
            if self._drain is None:
                self._drain = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._drain)
            if self._closed.done():
                raise ConnectionResetError("connection lost")

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
