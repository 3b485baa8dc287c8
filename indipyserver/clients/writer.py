"""Writing one client's queue to its socket with as few copies and system calls as possible.

asyncio's socket transport (3.11) copies into its own buffer whatever the socket does not take
at once; a client reading as fast as it can keeps its socket full, so nearly every byte of a
BLOB was copied once more. So on a plain socket the queue's bytes are written with write(2)
straight from where they are, and the transport is kept only to tell us when the socket has
room again. Where that is not possible (TLS, not POSIX) the transport writes, and past its
high-water mark the rest waits in our queue, where it can still be coalesced.

An object each `ClientConnection` holds; it reads the connection's flags through
`WritingClient`.

An element whose BLOBs are memory files (`Attached`, for a client on the Unix socket) goes out
with ``sendmsg`` and its descriptors as SCM_RIGHTS on its first bytes, which is how the client
knows whose they are. Those bytes are never handed to the transport (it cannot pass
descriptors): while the socket is full the writer tries again shortly instead. A memory file
in flight costs the client's socket a few hundred bytes but holds a whole image, so at most
`ATTACHED_IN_FLIGHT` such elements are sent before the client has read everything sent
(SIOCOUTQ 0); the next waits in the queue, where it counts with its images' bytes (``-m``)
and a client that is behind has superseded ones dropped.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import logging
import os
import socket
import struct
import termios
from typing import TYPE_CHECKING
from typing import Protocol

from indipyserver.routing.ports import Attached

if TYPE_CHECKING:
    from indipyserver.clients.queue import ClientQueue
    from indipyserver.loop.flowcontrol import KeepingUp

#: The ioctl that tells how many bytes wait in a socket's send queue (Linux: SIOCOUTQ, the
#: same number as TIOCOUTQ).
_SIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)

logger = logging.getLogger("indipyserver.clients")  # same logger as the connection it serves


class WritingClient(Protocol):
    """What a `ClientWriter` reads of its connection, and the two calls it makes on it."""

    label: str
    #: The transport paused the connection (asyncio's pause_writing/resume_writing).
    _paused: bool
    congested: bool
    slow: bool
    soft_bytes: int

    def abort(self) -> None: ...
    def _keep_last_words(self) -> None: ...
    def _write_later(self) -> None: ...


class ClientWriter:
    """The writing half of one client connection (see module doc), held by the connection."""

    #: Transport buffer limits: past HIGH_WATER the rest waits in our queue, where it can be
    #: coalesced. Large elements are written CHUNK bytes at a time.
    HIGH_WATER = 1024 * 1024
    LOW_WATER = 256 * 1024
    CHUNK = 256 * 1024

    #: Direct writes (`write_direct`): bytes per write(2), and the most of an unsent rest
    #: handed to the transport so that it tells us (pause/resume) when the socket drains.
    DIRECT_CHUNK = 1024 * 1024
    HANDOFF = 64 * 1024

    #: writev(2) the queue's large pieces as they are (`write_direct`); False: join them
    #: and write(2), the path of platforms without ``os.writev`` (tests run both). At most
    #: GATHER_PIECES a call (IOV_MAX is 1024 on Linux); pieces of GATHER_MIN bytes or less
    #: on average are joined (small elements).
    GATHER = hasattr(os, "writev")
    GATHER_PIECES = 64
    GATHER_MIN = 16 * 1024

    #: Elements with memory files sent and not yet read by the client (module doc).
    ATTACHED_IN_FLIGHT = 2

    def __init__(self, client: WritingClient, queue: ClientQueue, keeping_up: KeepingUp) -> None:
        self.client = client
        self.queue = queue
        self.keeping_up = keeping_up
        self._transport: asyncio.Transport | None = None
        self.written = 0  # bytes handed to the transport or to write(2)
        # Direct writes: the socket's descriptor (-1: write through the transport only) and
        # the unsent rest of the last bytes taken from the queue.
        self.fd = -1
        self.pending: list[bytes | memoryview] = []
        self.pending_bytes = 0
        self.gather = self.GATHER
        self.attached_in_flight = 0  # sent since the client last had read everything

    def start(self, transport: asyncio.Transport) -> None:
        """Choose direct writes or the transport's, once the connection is accepted."""
        self._transport = transport
        self.fd = _direct_fd(transport)
        if self.fd >= 0:
            # The transport holds at most one HANDOFF piece: paused as soon as it holds
            # anything, resumed once it is empty (see write_direct).
            transport.set_write_buffer_limits(high=0, low=0)
        else:
            transport.set_write_buffer_limits(high=self.HIGH_WATER, low=self.LOW_WATER)

    def sent(self) -> int:
        """Bytes that have left us for the client so far: the progress of its reading.

        Not only what the kernel has taken: while the socket is full, the kernel takes
        more only once a third or so of its send buffer is free again (several MB on
        loopback), so a client reading steadily but below that pace looked like one that
        does not read at all. Bytes still in the socket's send queue (SIOCOUTQ, Linux)
        are not counted: they drain as the client reads.
        """
        transport = self._transport
        sent = self.written - (transport.get_write_buffer_size() if transport else 0)
        if self.fd >= 0:
            try:
                unsent = _unsent(self.fd)
            except OSError:
                return sent
            return sent - unsent
        return sent

    def write_queue(self, transport: asyncio.Transport, data: bytes | memoryview | None) -> None:
        """Write `data` (if any), then the queue, through the transport until it pauses us."""
        queue = self.queue
        client = self.client
        chunk = self.CHUNK
        while not client._paused:
            if data is None:
                data = queue.take(chunk)
                if not data:
                    break
            self.written += len(data)
            transport.write(data)
            data = None
            if not queue.nbytes:  # all written: spare the call that would find nothing
                break

    def write_direct(self, transport: asyncio.Transport) -> None:
        """Write the queue with write(2) on the socket itself, without the transport's copy.

        With `gather` (where ``os.writev`` exists) the queue's large pieces, a streamed BLOB's
        views of the driver's reads, go to the kernel in one writev(2) as they are instead
        of being joined into a fresh megabyte first (`ClientQueue.take_pieces`); without it,
        they are joined and written with write(2) (the fallback the tests run too).

        Only the unsent rest is kept (views, no copy). Then at most HANDOFF bytes of it go
        to the transport: it pauses us while it holds them and resumes us
        (``resume_writing``, buffer limits 0/0) once the socket has taken them, which is when
        the socket has room again. The transport's buffer is always empty when we write
        ourselves, so the order of bytes is kept.
        """
        queue = self.queue
        client = self.client
        pending = self.pending
        fd = self.fd
        gather = self.gather
        while not client._paused:
            if not pending:
                if gather:
                    pending = queue.take_pieces(self.DIRECT_CHUNK, self.GATHER_PIECES,
                                                self.GATHER_MIN)
                else:
                    data = queue.take(self.DIRECT_CHUNK)
                    pending = [data] if data else []
                if not pending:
                    break
                self.pending_bytes = sum(map(len, pending)) if len(pending) > 1 else len(pending[0])
            first = pending[0]
            try:
                if type(first) is Attached and first.fds:
                    sent = self._send_attached(fd, first)
                    if sent is None:
                        break
                    n = sent
                else:
                    n = os.write(fd, first) if len(pending) == 1 else os.writev(fd, pending)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                self.pending = pending
                self.drop_pending()
                logger.debug("client %s: write failed: %s", client.label, exc)  # it went away
                client._keep_last_words()
                client.abort()
                return
            self.written += n
            if n and not (client.congested or client.slow) and queue.nbytes <= client.soft_bytes:
                # This client keeps up (fallingbehind). Counted before a handoff below can
                # pause it, so what it counts itself is never news to its own pause.
                self.keeping_up.count += 1
            if n == self.pending_bytes:
                pending = []
                self.pending_bytes = 0
                if not queue.nbytes:  # all written: spare the call that would find nothing
                    break
                continue
            if not self._hand_off_rest(pending, n, transport):
                break
        self.pending = pending

    def _send_attached(self, fd: int, first: Attached) -> int | None:
        """An element with descriptors sent alone with them (`ClientQueue`): the bytes the
        kernel took, or None while the client has yet to read the ones before."""
        if self.attached_in_flight >= self.ATTACHED_IN_FLIGHT:
            if _unsent(fd):
                self.client._write_later()  # the client has yet to read them
                return None
            self.attached_in_flight = 0
        n = send_with_fds(fd, first, first.fds)
        if n:
            first.sent_fds()
            self.attached_in_flight += 1
        return n

    def _hand_off_rest(self, pending: list[bytes | memoryview], n: int,
                       transport: asyncio.Transport) -> bool:
        """The kernel took `n` bytes, not all: drop them from `pending` (in place) and give
        the transport at most HANDOFF bytes of the rest, which pauses us until the socket has
        room; False when the rest must wait instead (an attached head none of which went)."""
        self.pending_bytes -= n
        while n:  # drop what the kernel took
            first = pending[0]
            if n >= len(first):
                n -= len(first)
                del pending[0]
            else:
                pending[0] = memoryview(first)[n:]
                n = 0
        head = pending[0]
        if type(head) is Attached and head.fds:
            # Nothing of it went: its descriptors must leave with its first bytes, which
            # the transport cannot send. Tried again shortly (a client this far behind
            # is not kept waiting by a few milliseconds).
            self.client._write_later()
            return False
        rest = memoryview(head)
        piece = rest[: self.HANDOFF]
        if len(piece) == len(rest):
            del pending[0]
        else:
            pending[0] = rest[len(piece) :]
        self.pending_bytes -= len(piece)
        self.written += len(piece)
        transport.write(piece)  # pauses us unless the socket took it at once
        return True

    def write_alone(self, data: bytes | memoryview, transport: asyncio.Transport) -> None:
        """`hold` and `write_direct` for one element while nothing waits and the client keeps
        up (the write-through paths): one write(2) that takes it all, the usual case, goes
        without the loop (this is on the round trip, before the client is woken); anything
        else is the loop's."""
        try:
            n = os.write(self.fd, data)
        except OSError:
            n = -1
        if n == len(data):
            self.written += n
            self.keeping_up.count += 1  # as `write_direct` counts a client that keeps up
            return
        self.wrote_part(data, n, transport)

    def wrote_part(self, data: bytes | memoryview, n: int, transport: asyncio.Transport) -> None:
        """`write_alone` after its write(2) took `n` bytes of `data`, not all (-1: it failed):
        the rest is the loop's. (``ClientConnection.write_through`` writes itself and calls
        this only then.)"""
        if n > 0:
            self.written += n
            self.keeping_up.count += 1
            self.hold(memoryview(data)[n:])
        else:
            self.hold(data)  # the loop writes again: a full socket, or the error it reports
        self.write_direct(transport)

    def hold(self, data: bytes | memoryview) -> None:
        """`data` is the next to write, before anything queued (the write-through paths)."""
        self.pending = [data]
        self.pending_bytes = len(data)

    def drop_pending(self) -> None:
        """Forget the unsent rest (the connection is closing)."""
        for piece in self.pending:
            if type(piece) is Attached:
                piece.close()
        self.pending = []
        self.pending_bytes = 0


def _unsent(fd: int) -> int:
    """What the socket `fd` still holds for its peer (SIOCOUTQ: bytes on TCP; on a Unix
    socket the memory of the messages the peer has not read, 0 once it has read them all)."""
    unsent: int = struct.unpack("i", fcntl.ioctl(fd, _SIOCOUTQ, b"\0\0\0\0"))[0]
    return unsent


def send_with_fds(fd: int, data: bytes, fds: list[int]) -> int:
    """``sendmsg`` of `data` on the socket `fd` with `fds` as SCM_RIGHTS: bytes sent (the
    descriptors went with them if any did). Raises BlockingIOError if none."""
    sock = socket.socket(fileno=fd)  # a view of the connection's socket, detached after
    try:
        return sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                      array.array("i", fds))])
    finally:
        sock.detach()


def _direct_fd(transport: asyncio.BaseTransport) -> int:
    """The descriptor of a plain socket transport that `ClientWriter` may write to itself,
    or -1 (TLS, not POSIX, or not a socket: write through the transport)."""
    if os.name != "posix" or transport.get_extra_info("sslcontext") is not None:
        return -1
    sock = transport.get_extra_info("socket")
    if sock is None:
        return -1
    try:
        fd = sock.fileno()
    except (AttributeError, OSError):
        return -1
    return fd if isinstance(fd, int) and fd >= 0 else -1
