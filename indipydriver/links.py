"""Links: how a driver exchanges bytes with its peer (docs/architecture.md, "Link").

`StdioLink` speaks on stdin/stdout as indilib's `indiserver` expects of an executable driver;
`MemoryLink.pair()` joins a driver to an in-memory peer (tests, `testing.DriverHarness`).
Two kinds of link do more than move bytes, and say so by their type: a `FramedLink` (an
in-process server's) exchanges elements framed, and a `DescriptorLink` (`StdioLink`) passes the
descriptors indiserver sends with snooped BLOBs.
"""

from __future__ import annotations

import array
import asyncio
import logging
import os
import socket
import stat
from typing import Protocol
from typing import runtime_checkable

from .protocol.frames import Frame

__all__ = ["DescriptorLink", "FramedLink", "Link", "MemoryLink", "StdioLink"]

logger = logging.getLogger(__name__)

READ_SIZE = 1 << 16


class Link(Protocol):
    async def read(self) -> bytes:
        """Next chunk of bytes from the peer, b"" at EOF."""
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes, waiting while the peer is behind (back-pressure)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class FramedLink(Link, Protocol):
    """A link that exchanges elements framed (an in-process server's), so that neither side
    frames again what the other has just framed."""

    async def read_frames(self) -> list[Frame]:
        """The elements sent to the driver since its last read, as the server framed them;
        [] at EOF (instead of `read`)."""
        ...

    async def write_frame(self, frame: Frame) -> None:
        """Send one element the driver framed as it wrote it (instead of `write`)."""
        ...


@runtime_checkable
class DescriptorLink(Link, Protocol):
    """A link that may receive descriptors with its bytes (indiserver's shared BLOBs)."""

    def take_fds(self) -> list[int]:
        """Descriptors received with what `read` returned so far, in order; the caller owns
        and closes them."""
        ...


class StdioLink:
    """INDI over file descriptors 0 and 1 (or others given), whatever they are.

    indiserver gives a driver ONE unix socketpair as both stdin and stdout (indi-notes 2.6),
    other launchers give two pipes, and a test may redirect to files. So:

    * the same socket on both fds: read with ``recvmsg``, so that the memfds indiserver 1.9.9
      passes with snooped BLOBs arrive too (`take_fds`, ``sharedblobs``), and written with
      ``sock_sendall``. (An asyncio *write pipe* transport on a socket watches it for
      readability to detect a closed peer, and would take the server's first message for a
      hang-up.)
    * pipes, sockets, ttys: asyncio pipe transports, which buffer a large write and send it as
      the peer reads, so a 13 MB BLOB never surfaces EAGAIN even though the fds are non-blocking.
    * regular files (not pollable): blocking reads and writes in a worker thread.

    The fds are duplicated, so closing the link never closes stdin/stdout themselves.
    """

    def __init__(self, infd: int = 0, outfd: int = 1) -> None:
        self.infd = infd
        self.outfd = outfd
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_thread_fd: int | None = None
        self._write_thread_fd: int | None = None
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._dups: list[int] = []
        self._read_transport: asyncio.BaseTransport | None = None
        self._socket: _SocketLink | None = None  # indiserver's one socketpair

    async def _open(self) -> None:
        async with self._open_lock:
            if self._opened:
                return
            loop = asyncio.get_running_loop()
            in_stat = os.fstat(self.infd)
            out_stat = os.fstat(self.outfd)
            same = (in_stat.st_dev, in_stat.st_ino) == (out_stat.st_dev, out_stat.st_ino)
            if same and stat.S_ISSOCK(in_stat.st_mode):
                self._socket = _SocketLink(os.dup(self.infd))
            else:
                self._read_thread_fd = self._file_dup(self.infd, in_stat)
                if self._read_thread_fd is None:
                    await self._open_reader(loop)
                self._write_thread_fd = self._file_dup(self.outfd, out_stat)
                if self._write_thread_fd is None:
                    await self._open_writer(loop, out_stat)
            self._opened = True

    def _file_dup(self, fd: int, st: os.stat_result) -> int | None:
        """A duplicate of `fd` for a thread to read or write when it is a regular file (the
        event loop cannot wait on one), kept to be closed; None for anything else."""
        if not stat.S_ISREG(st.st_mode):
            return None
        dup = os.dup(fd)
        self._dups.append(dup)
        return dup

    async def _open_reader(self, loop: asyncio.AbstractEventLoop) -> None:
        fd = os.dup(self.infd)
        reader = asyncio.StreamReader(limit=READ_SIZE, loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        self._read_transport, _ = await loop.connect_read_pipe(
            lambda: protocol, os.fdopen(fd, "rb", buffering=0)
        )
        self._reader = reader

    async def _open_writer(self, loop: asyncio.AbstractEventLoop, st: os.stat_result) -> None:
        fd = os.dup(self.outfd)
        if stat.S_ISSOCK(st.st_mode):
            # A socket used only for writing: a socket stream, for the reason in the class doc.
            sock = socket.socket(fileno=fd)
            _, self._writer = await asyncio.open_connection(sock=sock)
            return
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.streams.FlowControlMixin(loop=loop),
            os.fdopen(fd, "wb", buffering=0),
        )
        self._writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def read(self) -> bytes:
        if not self._opened:
            await self._open()
        if self._socket is not None:
            return await self._socket.read()
        if self._reader is not None:
            try:
                return await self._reader.read(READ_SIZE)
            except ConnectionError:
                return b""
        assert self._read_thread_fd is not None
        return await asyncio.to_thread(os.read, self._read_thread_fd, READ_SIZE)

    def take_fds(self) -> list[int]:
        """Descriptors received with what `read` returned so far, in order (indiserver 1.9.9
        passes a snooped BLOB as a memfd beside its ``attached`` element); the caller owns
        and closes them."""
        return self._socket.take_fds() if self._socket is not None else []

    async def write(self, data: bytes) -> None:
        if not self._opened:
            await self._open()
        if self._socket is not None:
            await self._socket.write(data)
            return
        writer = self._writer
        if writer is not None:
            writer.write(data)
            # drain() returns at once unless the transport buffer is above its high-water mark.
            await writer.drain()
            return
        fd = self._write_thread_fd
        assert fd is not None
        await asyncio.to_thread(_write_all, fd, data)

    async def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._read_transport is not None:
            self._read_transport.close()
            self._read_transport = None
        writer = self._writer
        if writer is not None:
            try:
                await writer.drain()
            except ConnectionError:
                pass
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        for fd in self._dups:
            try:
                os.close(fd)
            except OSError:
                pass
        self._dups.clear()
        # asyncio made the shared file descriptions non-blocking; give the process (and
        # whoever shares the terminal or pipe) blocking stdio back.
        for fd in (self.infd, self.outfd):
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass


#: Descriptors per read, as indiserver's own reads of a driver (16 per message at most).
_MAX_FDS = 16
_FD_SPACE = socket.CMSG_SPACE(_MAX_FDS * array.array("i").itemsize)
_RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


class _SocketLink:
    """indiserver's single socketpair as stdin and stdout, read with ``recvmsg``.

    indiserver 1.9.9 passes a BLOB to a snooping driver as a memfd (SCM_RIGHTS) beside an empty
    ``<oneBLOB ... attached='true'/>``; a plain read would drop the descriptor. Writes go out
    whole and in order: under a lock (two tasks sending at once must not interleave their
    bytes), and shielded, so that a writer cancelled half-way (an aborted exposure's BLOB)
    does not leave half an element for the next one to be glued to.
    """

    def __init__(self, fd: int) -> None:
        self._sock = socket.socket(fileno=fd)
        self._sock.setblocking(False)
        self._fd = fd
        self._fds: list[int] = []
        self._write_lock = asyncio.Lock()
        self._waiting: asyncio.Future[None] | None = None  # a read waiting for data
        self._closed = False

    async def read(self) -> bytes:
        loop = asyncio.get_running_loop()
        sock = self._sock
        while not self._closed:
            try:
                data, ancdata, flags, _ = sock.recvmsg(READ_SIZE, _FD_SPACE, _RECV_FLAGS)
            except (BlockingIOError, InterruptedError):
                self._waiting = ready = loop.create_future()
                loop.add_reader(self._fd, _wake, ready)
                try:
                    await ready
                finally:
                    self._waiting = None
                    loop.remove_reader(self._fd)
                continue
            except (ConnectionError, OSError):
                return b""
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds = array.array("i")
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
                    self._fds.extend(fds)
            if flags & socket.MSG_CTRUNC:
                logger.error("more than %d descriptors in one read: some were lost", _MAX_FDS)
            return data
        return b""

    def take_fds(self) -> list[int]:
        fds, self._fds = self._fds, []
        return fds

    async def write(self, data: bytes) -> None:
        await asyncio.shield(self._write(data))

    async def _write(self, data: bytes) -> None:
        async with self._write_lock:
            await asyncio.get_running_loop().sock_sendall(self._sock, data)

    def close(self) -> None:
        """A read still waiting returns b"" (its reader is removed before the socket closes)."""
        self._closed = True
        waiting = self._waiting
        if waiting is not None:
            asyncio.get_running_loop().remove_reader(self._fd)
            _wake(waiting)
        for fd in self.take_fds():
            os.close(fd)
        self._sock.close()


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class MemoryLink:
    """One end of an in-memory byte pipe; `MemoryLink.pair()` gives both ends.

    Writes never block (an unbounded queue): tests and the harness read everything anyway.
    """

    def __init__(self) -> None:
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.peer: MemoryLink | None = None
        self.closed = False
        self._eof = False

    @classmethod
    def pair(cls) -> tuple[MemoryLink, MemoryLink]:
        a, b = cls(), cls()
        a.peer, b.peer = b, a
        return a, b

    async def read(self) -> bytes:
        if self._eof:
            return b""
        data = await self._incoming.get()
        if not data:
            self._eof = True
        return data

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("link is closed")
        if data and self.peer is not None and not self.peer.closed:
            self.peer._incoming.put_nowait(data)

    async def close(self) -> None:
        """Close this end: the peer reads EOF."""
        if not self.closed:
            self.closed = True
            if self.peer is not None:
                self.peer._incoming.put_nowait(b"")
            self._incoming.put_nowait(b"")
