"""Links: how a driver exchanges bytes with its peer (docs/architecture.md, "Link").

`StdioLink` speaks on stdin/stdout as indilib's `indiserver` expects of an executable driver;
`MemoryLink.pair()` joins a driver to an in-memory peer (tests, `testing.DriverHarness`).
Three kinds of link do more than move bytes, and say so by their type: a `FramedLink` (an
in-process server's) exchanges elements framed, a `DescriptorLink` (`StdioLink`) passes on the
descriptors indiserver sends with snooped BLOBs, and an `AttachingLink` (`StdioLink` whose
stdout is a Unix socket, or the pipe it asked our server's side channel for, and an
in-process server's link while a client on its Unix socket wants the driver's BLOBs) sends
descriptors with the driver's own BLOBs, as libindi does.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import socket
import stat
from collections.abc import Sequence

from indipycore.links import AttachingLink
from indipycore.links import DescriptorLink
from indipycore.links import FramedLink
from indipycore.links import Link
from indipycore.sharedblobs import BLOB_FD_ENV
from indipycore.sharedblobs import pass_pipe

from .fdlinks import READ_SIZE
from .fdlinks import SideChannelLink
from .fdlinks import SocketLink
from .fdlinks import write_all
from .memorylink import MemoryLink

__all__ = ["AttachingLink", "DescriptorLink", "FramedLink", "Link", "MemoryLink", "StdioLink",
           "reads_nothing"]

class StdioLink:
    """INDI over file descriptors 0 and 1 (or others given), whatever they are.

    indiserver gives a driver ONE unix socketpair as both stdin and stdout (indi-notes 2.6),
    other launchers give two pipes, and a test may redirect to files. So:

    * the same socket on both fds: read with ``recvmsg``, so that the memfds indiserver 1.9.9
      passes with snooped BLOBs arrive too (`take_fds`, ``sharedblobs``), and written by
      `SocketLink`. (An asyncio *write pipe* transport on a socket watches it for
      readability to detect a closed peer, and would take the server's first message for a
      hang-up.)
    * stdout a Unix socket (indiserver's socketpair, or ours with ``--shared-blobs on``, whose
      drivers' stdin is a pipe): written by `SocketLink`, which sends BLOBs' memfds with
      ``sendmsg`` (`write_attached`, `attaches_blobs`), as libindi does when
      ``getsockopt(1, SO_DOMAIN)`` says AF_UNIX.
    * stdout a Unix socket and ``INDIPY_BLOB_FD`` naming a SOCK_SEQPACKET Unix socket (our
      server's side channel, ``indipyserver.drivers.fdchannel``): before anything is written,
      a pipe is asked for there (`pass_pipe`, its write end put on stdout's fd), its round
      trip the quicker; the driver's BLOBs go as memfds on the side channel, so the pipe
      carries XML only. Then, as for stdout a pipe beside the side channel: written as a
      pipe, through `SideChannelLink`, which passes each BLOB's memfd on the side channel
      before the element (`write_attached`, `attaches_blobs`).
    * pipes, sockets, ttys: asyncio pipe transports, which buffer a large write and send it as
      the peer reads, so a 13 MB BLOB never surfaces EAGAIN even though the fds are non-blocking.
    * regular files, and devices the event loop cannot wait on (``/dev/null``: epoll refuses
      it, and asyncio's pipe transport then fails inside the loop and hangs): blocking reads
      and writes in a worker thread.

    The fds are duplicated, so closing the link never closes stdin/stdout themselves.
    `ask_for_pipe` False keeps an offered socket (a driver whose BLOBs go inline: the server
    reads large writes from a socket with less CPU than from a pipe).
    """

    def __init__(self, infd: int = 0, outfd: int = 1, *, ask_for_pipe: bool = True) -> None:
        self.infd = infd
        self.outfd = outfd
        self.ask_for_pipe = ask_for_pipe
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_thread_fd: int | None = None
        self._write_thread_fd: int | None = None
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._dups: list[int] = []
        self._read_transport: asyncio.BaseTransport | None = None
        self._socket: SocketLink | None = None  # indiserver's one socketpair
        self._out_socket: SocketLink | None = None  # stdout alone a Unix socket (ours)
        self._side: SideChannelLink | None = None  # stdout a pipe, memfds aside (ours)
        self._unix_out: bool | None = None  # whether stdout is a Unix stream socket, once asked
        self._side_fd: int | None = None  # our server's side channel, once asked (-1: none)

    async def _open(self) -> None:
        async with self._open_lock:
            if self._opened:
                return
            loop = asyncio.get_running_loop()
            self._ask_for_pipe()
            in_stat = os.fstat(self.infd)
            out_stat = os.fstat(self.outfd)
            same = (in_stat.st_dev, in_stat.st_ino) == (out_stat.st_dev, out_stat.st_ino)
            if same and stat.S_ISSOCK(in_stat.st_mode):
                self._socket = SocketLink(os.dup(self.infd))
            else:
                self._read_thread_fd = self._file_dup(self.infd, in_stat)
                if self._read_thread_fd is None:
                    await self._open_reader(loop)
                if self.attaches_blobs and self._unix_out:
                    self._out_socket = SocketLink(os.dup(self.outfd))
                else:
                    self._write_thread_fd = self._file_dup(self.outfd, out_stat)
                    if self._write_thread_fd is None:
                        await self._open_writer(loop, out_stat)
                    if self.attaches_blobs and self._writer is not None:
                        assert self._side_fd is not None
                        self._side = SideChannelLink(self._writer, os.dup(self._side_fd))
            self._opened = True

    def _ask_for_pipe(self) -> None:
        """stdout a socket our server offered beside its side channel (class doc): a pipe
        asked for there before anything is written, and put on stdout's fd in the socket's
        place (a stray print goes where it went on a pipe). Kept as it is if the side channel
        refuses."""
        if not self.ask_for_pipe:
            return
        try:
            if _unix_socket_type(self.outfd) != socket.SOCK_STREAM or os.path.samestat(
                    os.fstat(self.infd), os.fstat(self.outfd)):
                return
        except OSError:
            return
        side = _side_channel_fd()
        if side == -1:
            return
        read_end, write_end = os.pipe()
        try:
            with socket.socket(fileno=os.dup(side)) as channel:
                pass_pipe(channel, read_end)
        except OSError:
            os.close(write_end)
            return
        finally:
            os.close(read_end)  # the server holds its copy
        os.dup2(write_end, self.outfd)
        os.close(write_end)
        self._unix_out = None  # asked again: stdout is the pipe now

    @property
    def attaches_blobs(self) -> bool:
        """True when stdout is a Unix stream socket, or a pipe beside our server's side
        channel (`AttachingLink`), whatever stdin is."""
        if self._unix_out is None:
            self._unix_out = _unix_socket_type(self.outfd) == socket.SOCK_STREAM
            self._side_fd = -1 if self._unix_out else _side_channel(self.outfd)
        return self._unix_out or self._side_fd != -1

    def _file_dup(self, fd: int, st: os.stat_result) -> int | None:
        """A duplicate of `fd` for a thread to read or write when it is a regular file (the
        event loop cannot wait on one), kept to be closed; None for anything else."""
        if not (stat.S_ISREG(st.st_mode) or (stat.S_ISCHR(st.st_mode) and not _pollable(fd))):
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

    @property
    def held(self) -> int:
        """Writes waiting, in order, behind a Unix socket or side channel that is full (a
        server far behind); 0 for a plain stream writer, whose buffer takes every write."""
        sock = self._socket_writer()
        return sock.held if sock is not None else 0

    def _socket_writer(self) -> SocketLink | SideChannelLink | None:
        """What writes, when it is not a plain writer: in order with the descriptors."""
        if self._socket is not None:
            return self._socket
        return self._out_socket if self._out_socket is not None else self._side

    async def write(self, data: bytes) -> None:
        if not self._opened:
            await self._open()
        sock = self._socket_writer()
        if sock is not None:
            await sock.write(data)
            return
        writer = self._writer
        if writer is not None:
            writer.write(data)
            # drain() returns at once unless the transport buffer is above its high-water mark.
            await writer.drain()
            return
        fd = self._write_thread_fd
        assert fd is not None
        await asyncio.to_thread(write_all, fd, data)

    async def write_attached(self, data: bytes, fds: Sequence[int]) -> None:
        """`AttachingLink.write_attached`; RuntimeError unless `attaches_blobs`."""
        if not self._opened:
            await self._open()
        sock = self._socket_writer()
        if sock is None or not self.attaches_blobs:
            raise RuntimeError("stdout is neither a Unix socket nor a pipe beside a side "
                               "channel: no descriptors can be passed")
        await sock.write_attached(data, fds)

    async def close(self) -> None:
        for sock in (self._socket, self._out_socket, self._side):
            if sock is not None:
                await sock.flush()  # what is queued goes out first, as a stream writer's does
                sock.close()
        self._socket = self._out_socket = self._side = None
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


def _pollable(fd: int) -> bool:
    """Whether the event loop's selector can wait on `fd` (a tty can; ``/dev/null`` cannot:
    epoll refuses it with EPERM)."""
    with selectors.DefaultSelector() as selector:
        try:
            selector.register(fd, selectors.EVENT_READ | selectors.EVENT_WRITE)
        except (OSError, ValueError):
            return False
    return True


def reads_nothing(fd: int = 0) -> bool:
    """Whether `fd` (stdin) is the null device, or closed: what a background job in a script,
    ``nohup`` or a service without input gives a program. No INDI server writes there, so a
    driver on stdin/stdout would read EOF at once (issue 58: it hung on a PermissionError)."""
    try:
        given = os.fstat(fd)
    except OSError:
        return True
    try:
        return os.path.samestat(given, os.stat(os.devnull))
    except OSError:
        return False


def _unix_socket_type(fd: int) -> int | None:
    """The type of `fd` if it is an AF_UNIX socket, else None: libindi's test
    (``getsockopt(SO_DOMAIN)`` on fd 1, a stream socket) for passing BLOBs as memfds, and
    ours of the side channel (a SOCK_SEQPACKET one)."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
        sock = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        return int(sock.type) if sock.family == socket.AF_UNIX else None
    finally:
        sock.detach()  # the fd stays open: it is not ours


def _side_channel(outfd: int) -> int:
    """Our server's side channel for BLOB descriptors (``BLOB_FD_ENV``), when stdout `outfd`
    is a pipe and the variable names a Unix SOCK_SEQPACKET socket; else -1."""
    try:
        if not stat.S_ISFIFO(os.fstat(outfd).st_mode):
            return -1
    except OSError:
        return -1
    return _side_channel_fd()


def _side_channel_fd() -> int:
    """The fd ``BLOB_FD_ENV`` names if it is a Unix SOCK_SEQPACKET socket, else -1."""
    value = os.environ.get(BLOB_FD_ENV, "")
    if not value.isdigit():
        return -1
    return int(value) if _unix_socket_type(int(value)) == socket.SOCK_SEQPACKET else -1
