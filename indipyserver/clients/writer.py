"""Writing one client's queue to its socket with as few copies and system calls as possible.

asyncio's socket transport (3.11) copies into its own buffer whatever the socket does not take
at once; a client reading as fast as it can keeps its socket full, so nearly every byte of a
BLOB was copied once more. So on a plain socket the queue's bytes are written with write(2)
straight from where they are, and the transport is kept only to tell us when the socket has
room again. Where that is not possible (TLS, not POSIX) the transport writes, and past its
high-water mark the rest waits in our queue, where it can still be coalesced.

A base class of `ClientConnection` rather than an object it owns: ``send_frame`` and the flush
read this state (``_tail``, ``_paused``) and call these methods once per message, where an
extra attribute lookup per message would show.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import struct
import termios
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indipyserver.clients.queue import ClientQueue
    from indipyserver.loop.flowcontrol import KeepingUp, LoopFlow

#: The ioctl that tells how many bytes wait in a socket's send queue (Linux: SIOCOUTQ, the
#: same number as TIOCOUTQ).
_SIOCOUTQ = getattr(termios, "TIOCOUTQ", 0x5411)

logger = logging.getLogger("indipyserver.clients")  # same logger as the connection it serves


class ClientWriter:
    """The writing half of one client connection (see module doc)."""

    #: Transport buffer limits: past HIGH_WATER the rest waits in our queue, where it can be
    #: coalesced. Large elements are written CHUNK bytes at a time.
    HIGH_WATER = 1024 * 1024
    LOW_WATER = 256 * 1024
    CHUNK = 256 * 1024

    #: Direct writes (`_write_direct`): bytes per write(2), and the most of an unsent rest
    #: handed to the transport so that it tells us (pause/resume) when the socket drains.
    DIRECT_CHUNK = 1024 * 1024
    HANDOFF = 64 * 1024

    # Set by the connection: its label, queue and transport, and whether the transport has
    # paused it (asyncio's pause_writing/resume_writing); `abort` closes it at once when a
    # write fails, after `_keep_last_words` has read what the client sent before it went.
    abort: Callable[[], None]
    _keep_last_words: Callable[[], None]
    label: str
    _queue: ClientQueue
    _transport: asyncio.Transport | None
    _paused: bool
    _flow: LoopFlow
    _keeping_up: KeepingUp
    congested: bool
    slow: bool
    soft_bytes: int

    def __init__(self) -> None:
        self._written = 0  # bytes handed to the transport or to write(2)
        # Direct writes: the socket's descriptor (-1: write through the transport only) and
        # the unsent rest of the last bytes taken from the queue.
        self._fd = -1
        self._tail: bytes | memoryview | None = None

    def _start_writing(self, transport: asyncio.Transport) -> None:
        """Choose direct writes or the transport's, once the connection is accepted."""
        self._fd = _direct_fd(transport)
        if self._fd >= 0:
            # The transport holds at most one HANDOFF piece: paused as soon as it holds
            # anything, resumed once it is empty (see _write_direct).
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
        sent = self._written - (transport.get_write_buffer_size() if transport else 0)
        if self._fd >= 0:
            try:
                unsent: int = struct.unpack("i", fcntl.ioctl(self._fd, _SIOCOUTQ, b"\0\0\0\0"))[0]
            except OSError:
                return sent
            return sent - unsent
        return sent

    def _write_queue(self, transport: asyncio.Transport, data: bytes | memoryview | None) -> None:
        """Write `data` (if any), then the queue, through the transport until it pauses us."""
        queue = self._queue
        chunk = self.CHUNK
        while not self._paused:
            if data is None:
                data = queue.take(chunk)
                if not data:
                    break
            self._written += len(data)
            transport.write(data)
            data = None
            if not queue.nbytes:  # all written: spare the call that would find nothing
                break

    def _write_direct(self, transport: asyncio.Transport) -> None:
        """Write the queue with write(2) on the socket itself, without the transport's copy.

        Only the unsent rest is kept (a view, no copy). Then at most HANDOFF bytes of it go
        to the transport: it pauses us while it holds them and resumes us
        (``resume_writing``, buffer limits 0/0) once the socket has taken them, which is when
        the socket has room again. The transport's buffer is always empty when we write
        ourselves, so the order of bytes is kept.
        """
        queue = self._queue
        tail = self._tail
        fd = self._fd
        while not self._paused:
            if tail is None:
                tail = queue.take(self.DIRECT_CHUNK)
                if not tail:
                    tail = None
                    break
            try:
                n = os.write(fd, tail)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as exc:
                self._tail = None
                logger.debug("client %s: write failed: %s", self.label, exc)  # it went away
                self._keep_last_words()
                self.abort()
                return
            self._written += n
            if n and not (self.congested or self.slow) and queue.nbytes <= self.soft_bytes:
                # This client keeps up (fallingbehind). Counted before a handoff below can
                # pause it, so what it counts itself is never news to its own pause.
                self._keeping_up.count += 1
            if n == len(tail):
                tail = None
                if not queue.nbytes:  # all written: spare the call that would find nothing
                    break
                continue
            rest = memoryview(tail)[n:]
            piece = rest[: self.HANDOFF]
            tail = rest[len(piece) :] if len(rest) > len(piece) else None
            self._written += len(piece)
            transport.write(piece)  # pauses us unless the socket took it at once
        self._tail = tail


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
