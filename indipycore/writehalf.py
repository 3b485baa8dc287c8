"""The write half of the toolkit's hand-written asyncio transports, and their end, written once.

Three transports read their descriptor in ways asyncio's own cannot -- the client's Unix
socket with the descriptors beside the bytes (``indipyclient.session.unixtransport``), a TLS
client of the server decrypted in memory (``indipyserver.clients.tlssocket``), an executable
driver's stdout into lent buffers (``indipyserver.drivers.pipereader``) -- and a fourth writes
an executable driver's stdin with one call that says whether the write was taken, the
server's shortcut's (``indipyserver.drivers.pipewriter``); all write, hold back and end alike,
as asyncio's socket transport does:

* a write goes straight to the descriptor (``os.write``) while nothing waits; what it does not
  take waits here, oldest first, and a writer callback sends it when there is room;
* past the high-water mark the protocol is paused (``pause_writing``), and resumed at the
  low-water mark (the high mark's quarter unless set), not while closing;
* ``close`` stops reading at once and ends once what waits is written (`drained`: the TLS
  transport's close_notify goes then); ``abort`` ends at once, dropping it; a write error
  aborts with it (`fail`, which the TLS transport makes log and send its alert first);
* the end: reading stopped, the writer removed, then ``connection_lost`` called soon (never
  inside the call that ended it) and once only, then the socket or pipe closed even if it
  raised.

A transport holds a `WriteHalf` and keeps only its read half; a read-only one (the pipe
reader) holds one for its end alone, with nothing ever written. An object held, not a base
class: composition is the house rule, and it costs the hot path nothing that the transports
paid before (the TLS transport's write called its own send method as it now calls `write`; a
write that the descriptor takes whole is one ``os.write`` and two tests either way; a small
write through either transport was measured as fast as before), so a mixin holding the state
would buy nothing. Two stateless mixins only spare the transports the calls they would each
write alike: `WriteHalfCalls`, the transport calls the held `WriteHalf` answers alone (the
writing transports'), and `ReadPausing`, pausing and resuming the reads of a transport that
reads until it ends (the client's Unix socket and the pipe reader). Pieces
are kept as they are given (a TLS transport's encrypted bytes, a BLOB's 256 KiB chunks) rather
than copied into one buffer, so what a full socket makes wait is never copied; a mutable
piece is copied once, as the caller may reuse it. Standard library only, no asyncio import:
the loop is used only through the calls it is given.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Protocol

if TYPE_CHECKING:
    import asyncio

__all__ = ["HIGH_WATER", "Closable", "ReadPausing", "WriteHalf", "WriteHalfCalls",
           "WritingProtocol"]

#: Bytes waiting past which the protocol is paused, unless set otherwise (asyncio's default).
HIGH_WATER = 64 * 1024


class WritingProtocol(Protocol):
    """What a `WriteHalf` calls on its transport's protocol (any ``asyncio.Protocol``)."""

    def pause_writing(self) -> None: ...
    def resume_writing(self) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...


class Closable(Protocol):
    """What a transport reads and writes and closes at its end: a socket, a pipe's file."""

    def close(self) -> None: ...


class WriteHalf:
    """One transport's writes, flow control and end (module doc), on descriptor `fd`.

    `stop_reading` stops the transport's reads (called by ``close`` and ``abort``; it must be
    harmless when they are stopped already). `drained` ends a closing transport once nothing
    waits (default: ``abort()``); `fail` takes a write's OSError (default: ``abort(exc)``).
    ``closing`` and ``lost`` (``connection_lost`` is on its way) and ``buffered`` (bytes
    waiting) are for the transport to read, never to set.
    """

    __slots__ = ("_armed", "_drained", "_fail", "_fd", "_high", "_loop", "_low", "_paused",
                 "_pieces", "_resource", "_stop_reading", "buffered", "closing", "lost",
                 "protocol")

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, protocol: WritingProtocol,
                 resource: Closable, stop_reading: Callable[[], object], *,
                 drained: Callable[[], object] | None = None,
                 fail: Callable[[OSError], object] | None = None) -> None:
        self._loop = loop
        self._fd = fd
        #: The transport's protocol (``set_protocol`` changes it here too).
        self.protocol = protocol
        self._resource = resource
        self._stop_reading = stop_reading
        self._drained: Callable[[], object] = drained if drained is not None else self.abort
        self._fail: Callable[[OSError], object] = fail if fail is not None else self.abort
        self._pieces: deque[bytes | memoryview] = deque()  # not taken by the descriptor yet
        self.buffered = 0  # their bytes
        self._high = HIGH_WATER
        self._low = HIGH_WATER // 4
        self._armed = False  # the writer callback is registered
        self._paused = False  # the protocol is paused
        self.closing = False
        self.lost = False

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> bool:
        """Write `data` now, as much as the descriptor takes; the rest after what waits.
        False when closing (nothing written), else True (a write error ends it: `fail`)."""
        if self.closing:
            return False
        if not data:
            return True
        if not self._pieces:
            try:
                sent = os.write(self._fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._fail(exc)
                return True
            if sent == len(data):
                return True
            if not self._armed:
                self._armed = True
                self._loop.add_writer(self._fd, self._write_ready)
            if sent:
                data = memoryview(data)[sent:]
        # Kept as it is when immutable; a piece the caller may change again, copied.
        piece = data if type(data) is bytes or (
            type(data) is memoryview and data.readonly) else bytes(data)
        self._pieces.append(piece)
        self.buffered += len(piece)
        if self.buffered > self._high and not self._paused:
            self._paused = True
            self.protocol.pause_writing()
        return True

    def _write_ready(self) -> None:
        """The descriptor has room: what waits, oldest first, until it is full again."""
        pieces = self._pieces
        fd = self._fd
        while pieces:
            data = pieces[0]
            try:
                sent = os.write(fd, data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self._fail(exc)
                return
            self.buffered -= sent
            if sent < len(data):
                if sent:
                    pieces[0] = memoryview(data)[sent:]
                self._maybe_resume()
                return
            pieces.popleft()
        self._disarm()
        self._maybe_resume()
        if self.closing:
            self._drained()

    def _maybe_resume(self) -> None:
        if self._paused and self.buffered <= self._low:
            self._paused = False
            if not self.closing:
                self.protocol.resume_writing()

    def _disarm(self) -> None:
        if self._armed:
            self._armed = False
            self._loop.remove_writer(self._fd)

    def limits(self) -> tuple[int, int]:
        """(low, high): ``asyncio.WriteTransport.get_write_buffer_limits``."""
        return self._low, self._high

    def set_limits(self, high: int | None = None, low: int | None = None) -> None:
        """As ``asyncio.WriteTransport.set_write_buffer_limits``: `high` 64 KiB, `low` its
        quarter unless given; ValueError unless ``high >= low >= 0``."""
        high = HIGH_WATER if high is None else high
        low = high // 4 if low is None else low
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        if self.buffered > high and not self._paused:
            self._paused = True
            self.protocol.pause_writing()

    # -- the end ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop reading; end once what waits is written (`drained`)."""
        if self.closing:
            return
        self.closing = True
        self._stop_reading()
        if not self._pieces:
            self._drained()

    def abort(self, exc: Exception | None = None) -> None:
        """End now: what waits dropped, reading and writing stopped, then, soon and once,
        ``connection_lost(exc)`` and the descriptor closed."""
        self.closing = True
        if self.lost:
            return
        self.lost = True
        self._pieces.clear()
        self.buffered = 0
        self._stop_reading()
        self._disarm()
        self._loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        """The protocol learns it is lost; the socket or pipe closes whatever it does."""
        try:
            self.protocol.connection_lost(exc)
        finally:
            self._resource.close()


# -- what the transports would each write alike ----------------------------------------------


class WriteHalfCalls:
    """The asyncio transport calls a writing transport's `WriteHalf`, held as `_writes`,
    answers alone (a mixin before ``asyncio.Transport``; the state stays in the `WriteHalf`)."""

    __slots__ = ()
    _writes: WriteHalf

    def get_write_buffer_size(self) -> int:
        return self._writes.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._writes.limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._writes.set_limits(high, low)

    def is_closing(self) -> bool:
        return self._writes.closing

    def close(self) -> None:
        """Stop reading; end once what waits is written (`WriteHalf.close`: the TLS
        transport's close_notify goes then)."""
        self._writes.close()

    def abort(self) -> None:
        self._writes.abort()


class _Pausable(Protocol):
    """What `ReadPausing` asks of its transport."""

    _paused: bool

    def is_closing(self) -> bool: ...
    def _watch(self, on: bool) -> None: ...


class ReadPausing:
    """``is_reading``, ``pause_reading`` and ``resume_reading`` of a transport that reads until
    it is paused or ends (a mixin before ``asyncio.Transport``): `_paused` is its flag,
    ``is_closing`` its end, and ``_watch(on)`` adds or removes its reader. Neither call does
    anything once the transport is closing, as asyncio's own transports."""

    __slots__ = ()

    def is_reading(self: _Pausable) -> bool:
        return not (self._paused or self.is_closing())

    def pause_reading(self: _Pausable) -> None:
        if self.is_closing() or self._paused:
            return
        self._paused = True
        self._watch(False)

    def resume_reading(self: _Pausable) -> None:
        if self.is_closing() or not self._paused:
            return
        self._paused = False
        self._watch(True)
