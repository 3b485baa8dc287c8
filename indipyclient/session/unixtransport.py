"""The client's end of an INDI server's Unix socket: an asyncio transport that also receives
the descriptors passed beside the bytes (SCM_RIGHTS).

asyncio's own transports read with ``recv`` and drop ancillary data, so the memory files
indiserver passes with a C driver's BLOBs (``attachedblobs``) would be lost, and left open.
`UnixTransport` reads with ``recvmsg_into`` straight into the buffer its protocol lends (the
``asyncio.BufferedProtocol`` calls ``ServerStream`` answers, so the reads stay bounded, paused
and lent as on TCP) and gives each read's descriptors to the protocol first
(``fds_received``), so they wait beside the bytes they came with. (One ``recvmsg`` returns
at most what the server's socket buffer held, about 208 KiB on Linux, so a BLOB's reads are
rarely large enough to be lent whole, and are copied once instead: filling a buffer with
several did not change that against a server in another process, the reader draining the
socket faster than the server fills it. The memfds are what spares copies here.) A read
that was cut short
of descriptors (more than `MAX_FDS` at once, or none left to the process) cannot be matched
to its members: its descriptors are closed and the connection dropped, with an error saying
why. Writes go straight to the socket, and what it does not take waits here (pausing the
protocol's writing above `HIGH_WATER`), as in asyncio's own transport.

`open_unix` connects to a path as libindiclient does (``unixaddress``: abstract on Linux).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any
from typing import Protocol

from indipycore.sharedblobs import MAX_ATTACHED
from indipycore.sharedblobs import RECV_FDS_SPACE
from indipycore.sharedblobs import RECV_FLAGS
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import received_fds

from .unixaddress import shown
from .unixaddress import unix_address

__all__ = ["HIGH_WATER", "MAX_FDS", "FdProtocol", "UnixTransport", "open_unix"]

logger = logging.getLogger(__name__)

#: Descriptors one read can take: indiserver's ``MAXFD_PER_MESSAGE`` (a message carries at
#: most 16).
MAX_FDS = MAX_ATTACHED
#: Bytes waiting to be written past which the protocol's writing pauses (asyncio's default).
HIGH_WATER = 64 * 1024


class FdProtocol(Protocol):
    """What `UnixTransport` calls on its protocol (``ServerStream`` is one)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None: ...
    def get_buffer(self, sizehint: int) -> bytearray: ...
    def fds_received(self, fds: list[int]) -> None: ...
    def buffer_updated(self, nbytes: int) -> None: ...
    def eof_received(self) -> bool | None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...
    def pause_writing(self) -> None: ...
    def resume_writing(self) -> None: ...


class UnixTransport(asyncio.Transport):
    """A connected, non-blocking AF_UNIX stream socket read into `protocol` with its
    descriptors (see the module docstring); owns the socket."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 protocol: FdProtocol) -> None:
        super().__init__({"socket": sock})
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._out = bytearray()  # written and not yet taken by the socket
        self._writing = False  # a writer callback is registered
        self._write_paused = False
        self._paused = False
        self._closing = False
        self._lost = False
        sock.setblocking(False)
        protocol.connection_made(self)
        loop.add_reader(self._fd, self._read_ready)

    # -- reading ---------------------------------------------------------------------------

    def _read_ready(self) -> None:
        protocol = self._protocol
        buf = protocol.get_buffer(-1)
        try:
            n, ancdata, flags, _ = self._sock.recvmsg_into([buf], RECV_FDS_SPACE, RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._close(exc)
            return
        if ancdata or flags & socket.MSG_CTRUNC:
            fds = received_fds(ancdata)
            if flags & socket.MSG_CTRUNC:
                close_all(fds)
                self._close(ConnectionError(
                    "the server passed more descriptors than could be received at once "
                    f"(at most {MAX_FDS}, or the process has no more); their BLOBs cannot be "
                    "matched"))
                return
            if fds:
                protocol.fds_received(fds)
        if n:
            protocol.buffer_updated(n)
            return
        self._loop.remove_reader(self._fd)
        self._closing = True
        protocol.eof_received()
        self._close(None)

    def is_reading(self) -> bool:
        return not (self._paused or self._closing)

    def pause_reading(self) -> None:
        if self._closing or self._paused:
            return
        self._paused = True
        self._loop.remove_reader(self._fd)

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        self._loop.add_reader(self._fd, self._read_ready)

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if not self._out:
            try:
                sent = self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._close(exc)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        self._out += data
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._write_ready)
        if not self._write_paused and len(self._out) > HIGH_WATER:
            self._write_paused = True
            self._protocol.pause_writing()

    def _write_ready(self) -> None:
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._close(exc)
            return
        del self._out[:sent]
        if not self._out:
            self._writing = False
            self._loop.remove_writer(self._fd)
        if self._write_paused and len(self._out) <= HIGH_WATER // 4:
            self._write_paused = False
            self._protocol.resume_writing()

    def get_write_buffer_size(self) -> int:
        return len(self._out)

    def can_write_eof(self) -> bool:
        return False

    # -- closing ---------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._close(None)

    def abort(self) -> None:
        self._close(None)

    def _close(self, exc: Exception | None) -> None:
        self._closing = True
        if self._lost:
            return
        self._lost = True
        self._loop.remove_reader(self._fd)
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)
        self._out.clear()
        self._loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            self._sock.close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        raise NotImplementedError("a UnixTransport keeps its protocol")

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol  # type: ignore[return-value]


async def open_unix(path: str, factory: Callable[[], Any]) -> tuple[UnixTransport, Any]:
    """Connect to the INDI server's socket `path` (``unixaddress``: abstract on Linux) and
    read it into ``factory()``; OSError as for TCP (no such socket: ``Connection refused``,
    or ``No such file or directory`` for a filesystem path)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, unix_address(path))
    except BaseException:
        sock.close()
        raise
    logger.debug("connected to the Unix socket %s", shown(path))
    protocol = factory()
    return UnixTransport(loop, sock, protocol), protocol
