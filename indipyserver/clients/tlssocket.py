"""A TLS client's transport once its handshake is done: an `ssl.SSLSocket` read and written
directly, instead of asyncio's TLS layer (``sslproto``).

asyncio's TLS transport decrypts through memory buffers in Python (`ssl.SSLObject` and two
`ssl.MemoryBIO`), a few layers of calls per read and per write; on a round trip of small
elements that cost was about half the time the whole trip took on the plain port. Here a
read is one ``recv`` (OpenSSL's SSL_read on the socket, in C) and a write one ``send``
(SSL_write), as a plain socket transport's are, so a TLS client costs little more than a
plain one.

What TLS asks of such a transport, and how it is met:

* a read or write that OpenSSL cannot finish yet (``SSLWantReadError``/``SSLWantWriteError``)
  is the socket's EAGAIN: tried again when the selector says so;
* OpenSSL may hold decrypted bytes the socket no longer shows as readable (``pending()``):
  they are read before the selector is waited on again, or the rest of an element would wait
  for the client's next message;
* a write that did not finish is retried with the same bytes first (the socket's
  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets them live elsewhere); nothing is written with
  ``sendmsg`` or from memory files: TLS encrypts what it sends;
* closing sends close_notify (TLS 1.3 has no renegotiation, so nothing else is read after).

It is an `asyncio.Transport` so that ``clients.clientconnection`` serves it unchanged; its
``sslcontext`` tells ``clients.writer`` to write through it, never to its descriptor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections import deque
from typing import Any

from indipyserver.loop.eventloop import inline_selector
from indipyserver.loop.readsizes import SMALL_READ_SIZE

__all__ = ["TLSSocketTransport"]

logger = logging.getLogger("indipyserver.clients")

#: Reads in one callback, at most (a read returns one record, and a BLOB's upload is many):
#: then the loop's other callbacks have their turn (the rest is read on the next one).
_MAX_READS_A_TURN = 64

#: A TLS record's most plaintext: a longer write is several records, several write(2).
_RECORD = 16 * 1024
#: Linux's TCP_CORK (0 elsewhere: not used).
_CORK: int = getattr(socket, "TCP_CORK", 0)

_WOULD_BLOCK = (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError, InterruptedError)


class TLSSocketTransport(asyncio.Transport):
    """A non-blocking, handshaken `ssl.SSLSocket` as an asyncio transport (module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: ssl.SSLSocket,
                 protocol: asyncio.Protocol, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._protocol = protocol
        # The server's own loop reads the socket from its selector, as a plain client's
        # (``loop.eventloop``); elsewhere asyncio's reader callback.
        self._inline = inline_selector(loop)
        #: Bytes a read asks for (``loop.readsizes`` adapts it, as on a socket transport).
        self.max_size = SMALL_READ_SIZE
        self._buffer: deque[bytes | memoryview] = deque()
        self._buffered = 0
        self._high = 64 * 1024
        self._low = 16 * 1024
        # Paused the protocol; reading; a writer armed; closing; closed; the peer's EOF read.
        self._protocol_paused = self._reading = self._writing = False
        self._closing = self._closed = self._eof = False

    def start(self) -> None:
        """Tell the protocol it is connected, then read (what OpenSSL holds already first)."""
        self._protocol.connection_made(self)
        if not self._closing:
            self.resume_reading()
            if self._sock.pending():
                self._loop.call_soon(self._read_ready)

    # -- reading ---------------------------------------------------------------------------

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        if self._reading and not self._closed:
            self._stop_reading()

    def resume_reading(self) -> None:
        if not self._reading and not self._closing and not self._eof:
            self._reading = True
            if self._inline is not None:
                self._inline.add_inline(self._fd, self._read_ready)
            else:
                self._loop.add_reader(self._fd, self._read_ready)

    def _stop_reading(self) -> None:
        self._reading = False
        if self._inline is not None:
            self._inline.remove_inline(self._fd)
        else:
            self._loop.remove_reader(self._fd)

    def _read_ready(self) -> None:
        sock = self._sock
        for _ in range(_MAX_READS_A_TURN):
            if not self._reading:
                return
            try:
                data = sock.recv(self.max_size)
            except ssl.SSLWantWriteError:
                return  # (not in TLS 1.3; the writer's callback, when armed, goes on)
            except _WOULD_BLOCK:
                break
            except (OSError, ssl.SSLError) as exc:
                self._fatal(exc)
                return
            if not data:
                self._eof_received()
                return
            self._protocol.data_received(data)
            if len(data) < _RECORD and not sock.pending():
                break  # (a whole record read: more are likely in the socket, a BLOB's)
        else:
            if sock.pending():  # the rest on the next turn: others have theirs meanwhile
                self._loop.call_soon(self._read_ready)
        if self._buffer and not self._writing:
            self._write_ready()  # a write that wanted a read (not in TLS 1.3)

    def _eof_received(self) -> None:
        self.pause_reading()
        self._eof = True
        if not self._protocol.eof_received():
            self.close()

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing or not data:
            return
        if not self._buffer:
            try:
                sent = self._send(data)
            except (OSError, ssl.SSLError) as exc:
                self._fatal(exc)
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
            self._arm_writer()
        self._buffer.append(bytes(data) if isinstance(data, bytearray) else data)
        self._buffered += len(data)
        self._maybe_pause()

    def _send(self, data: bytes | bytearray | memoryview) -> int:
        """As much of `data` as the socket takes now: SSL_write returns after each record
        (16 kB, partial writes), so it is called until all is sent or the socket is full."""
        send = self._sock.send
        size = len(data)
        if size <= _RECORD or not _CORK:
            try:
                sent = send(data)
            except _WOULD_BLOCK:
                return 0
            if sent == size:
                return sent
        else:
            sent = 0
        # Several records: each is its own write(2), and on a socket without Nagle (asyncio
        # sets TCP_NODELAY) its own segment that wakes the client; corked, they leave in
        # full segments.
        sock = self._sock
        if _CORK:
            sock.setsockopt(socket.IPPROTO_TCP, _CORK, 1)
        try:
            view = memoryview(data)
            while sent < size:
                sent += send(view[sent:])
        except _WOULD_BLOCK:
            pass
        finally:
            if _CORK:
                sock.setsockopt(socket.IPPROTO_TCP, _CORK, 0)
        return sent

    def _arm_writer(self) -> None:
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self._fd, self._write_ready)

    def _disarm_writer(self) -> None:
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._fd)

    def _write_ready(self) -> None:
        buffer = self._buffer
        while buffer:
            data = buffer[0]
            try:
                sent = self._send(data)
            except (OSError, ssl.SSLError) as exc:
                self._fatal(exc)
                return
            self._buffered -= sent
            if sent < len(data):
                buffer[0] = memoryview(data)[sent:]
                self._arm_writer()
                self._maybe_resume()
                return
            buffer.popleft()
        self._disarm_writer()
        self._maybe_resume()
        if self._closing:
            self._finish_close()

    def _maybe_pause(self) -> None:
        if self._buffered > self._high and not self._protocol_paused:
            self._protocol_paused = True
            self._protocol.pause_writing()

    def _maybe_resume(self) -> None:
        if self._protocol_paused and self._buffered <= self._low:
            self._protocol_paused = False
            if not self._closing:
                self._protocol.resume_writing()

    def get_write_buffer_size(self) -> int:
        return self._buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        high = 64 * 1024 if high is None else high
        low = high // 4 if low is None else low
        self._high, self._low = high, low
        self._maybe_pause()

    def can_write_eof(self) -> bool:
        return False  # TLS: close_notify ends both directions

    def write_eof(self) -> None:
        raise NotImplementedError("a TLS connection cannot half-close")

    # -- closing ---------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = protocol

    def close(self) -> None:
        """Close once what is buffered is written, with close_notify."""
        if self._closing:
            return
        self._closing = True
        self.pause_reading()
        if not self._buffer:
            self._finish_close()

    def abort(self) -> None:
        self._force_close(None)

    def _fatal(self, exc: BaseException) -> None:
        logger.debug("TLS connection %s: %s", self.get_extra_info("peername"), exc)
        self._force_close(exc if isinstance(exc, Exception) else None)

    def _finish_close(self) -> None:
        if not self._closed:
            try:
                # Sends close_notify; its answer is not waited for (WantRead, usually). If it
                # came already, the socket is handed back without TLS: closed here.
                self._sock.unwrap().close()
            except (OSError, ValueError, ssl.SSLError):
                pass
            self._force_close(None)

    def _force_close(self, exc: Exception | None) -> None:
        if self._closed:
            return
        self._closing = self._closed = True
        self._buffer.clear()
        self._buffered = 0
        if self._reading:
            self._stop_reading()
        self._disarm_writer()
        self._loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        """The protocol learns it is lost; the socket closes whatever it does meanwhile."""
        with contextlib.closing(self._sock):
            self._protocol.connection_lost(exc)
