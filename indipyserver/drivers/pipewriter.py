"""The write end of an executable driver's stdin, as a lean asyncio write transport.

asyncio's own pipe transport would do, but the round trip's shortcut writes a client's
request to the driver itself (``DriverConnection.write_through``), and asyncio gives no public
way to write and learn in one call whether the transport took it: reaching into its private
attributes for that was the cost of a call a trip. `PipeWriter` is the core's `WriteHalf` on
the pipe (or a socket), as ``drivers.pipereader`` is its read half's counterpart:

* a write goes straight to the pipe (``os.write``); only what the pipe does not take waits,
  oldest first, and only then is a writer callback added, until it is all written;
* past the high-water mark the protocol is paused (``drivers.outbound.WriteGate``, which
  keeps the rest in the connection's bounded queue), resumed at the low-water mark;
* `write_open` is the shortcut's write: one call, False when the transport is closing;
* a write error (EPIPE: the driver closed its stdin or died) ends the transport with that
  error, given to ``connection_lost``, never raised nor reported to the loop as a crash; and,
  as asyncio's pipe transport does, the pipe is watched for its reader's end, so a driver that
  is gone ends its transport before anything is written to it (with BrokenPipeError when bytes
  were waiting for it, which are dropped; else quietly).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import BinaryIO

from indipycore.writehalf import WriteHalf
from indipycore.writehalf import WriteHalfCalls

__all__ = ["PipeWriter"]

logger = logging.getLogger("indipyserver.pipewriter")  # the name users' logs know


class PipeWriter(WriteHalfCalls, asyncio.WriteTransport):
    """Writes to `pipe` (non-blocking) for `protocol` until closed, aborted or the reader is
    gone (module doc). `pipe` is closed at the end; `protocol` is told ``connection_made``
    now and ``connection_lost`` once, after the call that ended the transport."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pipe: BinaryIO | socket.socket,
                 protocol: asyncio.BaseProtocol) -> None:
        super().__init__({"pipe": pipe})
        self._loop = loop
        self._pipe = pipe
        self._fd = fd = pipe.fileno()
        os.set_blocking(fd, False)
        self._watching = True
        self._writes = WriteHalf(loop, fd, protocol, pipe, self._unwatch, fail=self._failed)
        #: `write`, answering whether it was taken (False: closing, nothing written): the
        #: ``WriteHalf``'s own, so the shortcut's write is one Python call.
        self.write_open = self._writes.write
        # The pipe's reader's end shows as an error on the write end (EPOLLERR: readable).
        loop.add_reader(fd, self._reader_gone)
        protocol.connection_made(self)

    def __repr__(self) -> str:
        return f"<PipeWriter fd={self._fd} buffered={self._writes.buffered}>"

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._writes.write(data)

    def can_write_eof(self) -> bool:
        return False

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._writes.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        protocol = self._writes.protocol
        assert isinstance(protocol, asyncio.BaseProtocol)
        return protocol

    def _unwatch(self) -> None:
        if self._watching:
            self._watching = False
            self._loop.remove_reader(self._fd)

    def _reader_gone(self) -> None:
        """The pipe's reader closed it (a write end is never readable otherwise)."""
        writes = self._writes
        if writes.buffered:
            logger.debug("%r: the reader is gone, %d bytes dropped", self, writes.buffered)
            writes.abort(BrokenPipeError("the reader closed the pipe"))
        else:
            writes.abort()

    def _failed(self, exc: OSError) -> None:
        """A write failed (EPIPE: the reader is gone): the end, with that error."""
        logger.debug("%r: writing failed: %s", self, exc)
        self._writes.abort(exc)
