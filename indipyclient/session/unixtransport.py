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
why. Writes go straight to the socket, and what it does not take waits (pausing the
protocol's writing above `HIGH_WATER`), as in asyncio's own transport: the core's
`WriteHalf` (``indipycore.writehalf``) does that, and closes as asyncio's does, once what
waits is written.

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
from indipycore.writehalf import HIGH_WATER
from indipycore.writehalf import ReadPausing
from indipycore.writehalf import WriteHalf
from indipycore.writehalf import WriteHalfCalls

from .unixaddress import shown
from .unixaddress import unix_address

__all__ = ["HIGH_WATER", "MAX_FDS", "FdProtocol", "UnixTransport", "open_unix"]

logger = logging.getLogger(__name__)

#: Descriptors one read can take: indiserver's ``MAXFD_PER_MESSAGE`` (a message carries at
#: most 16).
MAX_FDS = MAX_ATTACHED


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


class UnixTransport(WriteHalfCalls, ReadPausing, asyncio.Transport):
    """A connected, non-blocking AF_UNIX stream socket read into `protocol` with its
    descriptors (see the module docstring); owns the socket. Its writes, flow control and
    end are the core's `WriteHalf` (and its calls, `WriteHalfCalls`); this is the read half,
    paused and resumed as `ReadPausing` does."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 protocol: FdProtocol) -> None:
        super().__init__({"socket": sock})
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        self._paused = False
        sock.setblocking(False)
        self._writes = WriteHalf(loop, self._fd, protocol, sock, self._stop_reading)
        protocol.connection_made(self)
        self._watch(True)

    # -- reading ---------------------------------------------------------------------------

    def _read_ready(self) -> None:
        protocol = self._protocol
        buf = protocol.get_buffer(-1)
        try:
            n, ancdata, flags, _ = self._sock.recvmsg_into([buf], RECV_FDS_SPACE, RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._writes.abort(exc)
            return
        if ancdata or flags & socket.MSG_CTRUNC:
            fds = received_fds(ancdata)
            if flags & socket.MSG_CTRUNC:
                close_all(fds)
                self._writes.abort(ConnectionError(
                    "the server passed more descriptors than could be received at once "
                    f"(at most {MAX_FDS}, or the process has no more); their BLOBs cannot be "
                    "matched"))
                return
            if fds:
                protocol.fds_received(fds)
        if n:
            protocol.buffer_updated(n)
            return
        # The server's end: closed whatever eof_received answers (what waits is written
        # first), and connection_lost comes after eof_received.
        self._writes.close()
        protocol.eof_received()

    def _stop_reading(self) -> None:
        self._loop.remove_reader(self._fd)

    def _watch(self, on: bool) -> None:
        """Read the socket from now on, or no more (`ReadPausing`)."""
        if on:
            self._loop.add_reader(self._fd, self._read_ready)
        else:
            self._stop_reading()

    # -- writing and closing: the core's `WriteHalf` (`WriteHalfCalls`) ------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._writes.write(data)

    def can_write_eof(self) -> bool:
        return False

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
