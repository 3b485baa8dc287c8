"""The read end of an executable driver's stdout, as a lean asyncio read transport.

asyncio's own pipe transport (3.11) can only ``os.read`` into a new bytes object per read.
`PipeReader` does that too while reads are small (the round-trip path is unchanged: one
``os.read``, one ``data_received``), but once reads are large (``max_size`` above
`SMALL_READ`, set by the protocol while reads come back full) it reads into a buffer the
protocol lends (``get_buffer``/``buffer_updated``, the `asyncio.BufferedProtocol` calls), so
a BLOB's pieces can be forwarded from reused memory (``indipycore.readbuffers``).
`SocketReader` does the same on a driver's stdout socket (every driver's, unless
``--shared-blobs off``) with ``recvmsg``, to receive the descriptors of its attached BLOBs
too (``blobs.attached``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from typing import Any
from typing import BinaryIO

from indipycore.sharedblobs import MAX_ATTACHED
from indipycore.sharedblobs import RECV_FDS_SPACE
from indipycore.sharedblobs import RECV_FLAGS
from indipycore.sharedblobs import close_all
from indipycore.sharedblobs import received_fds
from indipycore.writehalf import ReadPausing
from indipycore.writehalf import WriteHalf
from indipyserver.loop.eventloop import inline_selector

__all__ = ["PipeReader", "SocketReader"]

logger = logging.getLogger("indipyserver.pipereader")  # the name users' logs know

#: Read sizes up to this use ``os.read`` and ``data_received``.
SMALL_READ = 1 << 16


class PipeReader(ReadPausing, asyncio.ReadTransport):
    """Reads `pipe` (non-blocking) into `protocol` until EOF, an error or `close`.

    `protocol` is an `asyncio.Protocol` that also has ``get_buffer(sizehint) -> bytearray``
    and ``buffer_updated(nbytes)`` (as `drivers.inbound.InboundProtocol`), used once ``max_size`` is
    raised above `SMALL_READ`. Paused and resumed as `ReadPausing` does (its end: `_end`).
    """

    max_size = SMALL_READ  # bytes per read; the protocol may change it between reads

    def __init__(
        self, loop: asyncio.AbstractEventLoop, pipe: BinaryIO, protocol: asyncio.Protocol
    ) -> None:
        super().__init__({"pipe": pipe})
        self._init(loop, pipe, protocol)

    def _init(
        self,
        loop: asyncio.AbstractEventLoop,
        pipe: BinaryIO | socket.socket,
        protocol: asyncio.Protocol,
    ) -> None:
        self._loop = loop
        self._inline = inline_selector(loop)
        self._pipe = pipe
        self._fd = pipe.fileno()
        os.set_blocking(self._fd, False)
        self._protocol = protocol
        self._paused = False
        self._reading = False
        # Nothing is written here: the core's `WriteHalf` is this transport's end, closed
        # and lost in the order the writing transports' are.
        self._end = WriteHalf(loop, self._fd, protocol, pipe, self._stop_reading)
        protocol.connection_made(self)
        if self.is_reading():
            self._watch(True)

    def _watch(self, on: bool) -> None:
        # On the server's own loop the selector calls `_read_ready` itself (``loop.eventloop``).
        if on and not self._reading:
            if self._inline is not None:
                self._inline.add_inline(self._fd, self._read_ready)
            else:
                self._loop.add_reader(self._fd, self._read_ready)
        elif not on and self._reading:
            if self._inline is not None:
                self._inline.remove_inline(self._fd)
            else:
                self._loop.remove_reader(self._fd)
        self._reading = on

    def _read_ready(self) -> bool:
        """Read what the pipe holds; False when it held nothing yet (the read would block)."""
        size = self.max_size
        protocol: Any = self._protocol
        try:
            if size > SMALL_READ:
                buf = protocol.get_buffer(size)
                n = self._read_into(buf)
                if n:
                    protocol.buffer_updated(n)
                    return True
            else:
                data = self._read(size)
                if data:
                    protocol.data_received(data)
                    return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            return self._read_failed(exc)
        self._eof()
        return True

    def _stop_reading(self) -> None:
        self._watch(False)

    def _read_failed(self, exc: OSError) -> bool:
        """A read error ends the pipe, with that error; True, as for any read that ended it."""
        logger.debug("reading %r failed: %s", self._pipe, exc)
        self._end.abort(exc)
        return True

    def _eof(self) -> None:
        """The writer closed its end (the driver exited). As asyncio's pipe transport,
        whatever eof_received answers: there is nothing more to read."""
        self._end.abort()  # (connection_lost comes soon: after eof_received)
        self._protocol.eof_received()

    def read_now(self) -> bool:
        """Read at once what the driver has already written, if anything, as the selector
        would once it saw the pipe readable (``fastpath.shortcut``: a driver handed the CPU after a request
        has usually answered by the time the server runs again). Nothing while paused or
        closing; an error goes to the loop's exception handler, as from the selector.
        False only when the pipe held nothing yet (the driver has not answered)."""
        if not self._reading or self._end.closing:
            return True
        try:
            return self._read_ready()
        except Exception as exc:  # noqa: BLE001  # reported, as the selector reports its readers'
            self._report_read_error(exc)
            return True

    def _report_read_error(self, exc: Exception) -> None:
        self._loop.call_exception_handler(
            {"message": "Exception reading a driver's output", "exception": exc,
             "transport": self}
        )

    def _read(self, size: int) -> bytes:
        return os.read(self._fd, size)

    def _read_into(self, buf: bytearray) -> int:
        return os.readv(self._fd, [buf])

    def is_closing(self) -> bool:
        return self._end.closing

    def close(self) -> None:
        self._end.close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = self._end.protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol


#: Descriptors per read, as indiserver's ``MsgQueue::doRead`` (a driver sends at most 16).
MAX_FDS = MAX_ATTACHED


class SocketReader(PipeReader):
    """A `PipeReader` for an AF_UNIX socket that also receives descriptors (SCM_RIGHTS).

    The descriptors of a read go to `on_fds` before its bytes go to the protocol, so that
    they are there when the elements that refer to them are framed (``blobs.attached``).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol: asyncio.Protocol,
        on_fds: Callable[[list[int]], None],
    ) -> None:
        asyncio.ReadTransport.__init__(self, {"socket": sock})
        self._sock = sock
        self._recvmsg = sock.recvmsg
        self._on_fds = on_fds
        self._init(loop, sock, protocol)

    def _read_ready(self) -> bool:
        # `PipeReader._read_ready` with its small read written out: the driver's answer on
        # the round trip is read here (`read_now`), one Python call fewer before the
        # client's write.
        size = self.max_size
        if size > SMALL_READ:
            return super()._read_ready()
        try:
            data, ancdata, flags, _ = self._recvmsg(size, RECV_FDS_SPACE, RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            return self._read_failed(exc)
        if ancdata:
            self._take_fds(ancdata, flags)
        if data:
            self._protocol.data_received(data)
            return True
        self._eof()
        return True

    def read_now(self) -> bool:
        # `PipeReader.read_now` with `_read_ready`'s small read written out: the driver's
        # answer read on the round trip (``fastpath.shortcut``), one Python call fewer
        # before the client's write. An error goes where `PipeReader.read_now` sends it.
        if not self._reading or self._end.closing:
            return True
        try:
            size = self.max_size
            if size > SMALL_READ:
                return super()._read_ready()
            try:
                data, ancdata, flags, _ = self._recvmsg(size, RECV_FDS_SPACE, RECV_FLAGS)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                return self._read_failed(exc)
            if ancdata:
                self._take_fds(ancdata, flags)
            if data:
                self._protocol.data_received(data)
                return True
            self._eof()
            return True
        except Exception as exc:  # noqa: BLE001  # reported, as the selector reports its readers'
            self._report_read_error(exc)
            return True

    def _read(self, size: int) -> bytes:
        data, ancdata, flags, _ = self._recvmsg(size, RECV_FDS_SPACE, RECV_FLAGS)
        if ancdata:
            self._take_fds(ancdata, flags)
        return data

    def _read_into(self, buf: bytearray) -> int:
        n, ancdata, flags, _ = self._sock.recvmsg_into([buf], RECV_FDS_SPACE, RECV_FLAGS)
        if ancdata:
            self._take_fds(ancdata, flags)
        return n

    def _take_fds(self, ancdata: list[tuple[int, int, bytes]], flags: int) -> None:
        fds = received_fds(ancdata)
        if flags & socket.MSG_CTRUNC:
            # More than MAX_FDS at once: some were lost, so these cannot be matched either.
            logger.error("%r sent more descriptors than %d; %d closed", self._sock, MAX_FDS,
                         len(fds))
            close_all(fds)
            return
        if fds:
            self._on_fds(fds)
