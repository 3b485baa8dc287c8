"""A TLS client's transport once its handshake is done: its own socket read and written as a
plain client's is, and OpenSSL encrypting and decrypting in memory (an `ssl.SSLObject` on two
`ssl.MemoryBIO`), instead of asyncio's TLS layer (``sslproto``) or an `ssl.SSLSocket`.

asyncio's TLS transport runs a few layers of Python calls per read and per write (on a round
trip of small elements about half of what a plain trip took). An `ssl.SSLSocket` lets OpenSSL
read the socket itself, and OpenSSL without read-ahead (which Python's ``ssl`` cannot turn on)
reads each record with two read(2)s, its 5-byte header and then its body, and writes each
16 kB record with a write(2) of its own. Here a read is one ``os.read`` of whatever the socket
holds, as on the plain port, and every whole record in it is decrypted from memory; a write
encrypts all its records into memory and goes out in one ``send``. The cryptography is
OpenSSL's in C either way.

What TLS asks of such a transport, and how it is met:

* a read may end inside a record: the rest stays in the incoming BIO until the socket brings
  it (the selector tells us, as it does for any read);
* what OpenSSL writes of its own accord (an alert, the answer to a key update) goes out after
  the read that caused it;
* what the socket does not take at once is kept encrypted and sent when it has room, before
  anything newer (the core's `WriteHalf`, ``indipycore.writehalf``, which also pauses the
  protocol past the high-water mark and ends the connection); nothing is written with
  ``sendmsg`` or from memory files;
* closing sends close_notify (TLS 1.3 has no renegotiation, so nothing else is read after).

It is an `asyncio.Transport` so that ``clients.clientconnection`` serves it unchanged; its
``sslcontext`` tells ``clients.writer`` to write through it, never to its descriptor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from typing import Any

from indipycore.writehalf import WriteHalf
from indipycore.writehalf import WriteHalfCalls
from indipyserver.loop.eventloop import inline_selector
from indipyserver.loop.readsizes import SMALL_READ_SIZE

__all__ = ["TLSSocketTransport"]

logger = logging.getLogger("indipyserver.clients")

#: A TLS record's most plaintext: what one ``SSLObject.read`` may return, and all it is asked
#: for (asking for more would allocate more for every small element).
_RECORD = 16 * 1024
#: Extra bytes a socket read asks for beyond the transport's `max_size`, per 64 parts: records
#: carry a few bytes more than their plaintext (22 in 16 kB in TLS 1.3), and a read whose
#: plaintext fills `max_size` is what tells the connection to read larger
#: (``loop.readsizes.adapt_read_size``).
_OVERHEAD_SHIFT = 6


class TLSSocketTransport(WriteHalfCalls, asyncio.Transport):
    """A handshaken TLS connection -- a non-blocking socket and the `ssl.SSLObject` that
    handshook over it -- as an asyncio transport (module doc). Its write half's plain calls
    (buffer size and limits, ``is_closing``, ``close``: close_notify once drained, ``abort``)
    are `WriteHalfCalls`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO,
                 protocol: asyncio.Protocol, extra: dict[str, Any]) -> None:
        """`incoming` and `outgoing` are the BIOs `tls` reads and writes; `incoming` may hold
        records already (sent with the end of the handshake), `outgoing` bytes not sent yet."""
        super().__init__(extra)
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._tls = tls
        # `ssl.SSLObject.read` and `.write` only pass their arguments on to the C object it
        # holds (CPython's ssl.py); calling that directly spares a Python call a record, on
        # both halves of the round trip. Anything else is called as it is.
        core = getattr(tls, "_sslobj", tls)
        self._decrypt_record = core.read
        self._encrypt = core.write
        self._incoming = incoming
        self._outgoing = outgoing
        self._protocol = protocol
        # The server's own loop reads the socket from its selector, as a plain client's
        # (``loop.eventloop``); elsewhere asyncio's reader callback.
        self._inline = inline_selector(loop)
        #: Bytes a read asks for (``loop.readsizes`` adapts it, as on a socket transport).
        self.max_size = SMALL_READ_SIZE
        # Reading; the peer's EOF read.
        self._reading = self._eof = False
        # The write half and the end: the core's (module doc). Its close ends with
        # close_notify; a write error, with the alert that says why if it goes.
        self._writes = writes = WriteHalf(loop, self._fd, protocol, sock, self._stop_reading,
                                          drained=self._finish_close, fail=self._fatal)
        self._send = writes.write

    def start(self) -> None:
        """Tell the protocol it is connected, then read (what came with the handshake first)."""
        self._protocol.connection_made(self)
        if self._outgoing.pending:
            self._send(self._outgoing.read())
        if not self._writes.closing:
            self.resume_reading()
            if self._incoming.pending:
                self._loop.call_soon(self._decrypt)

    # -- reading ---------------------------------------------------------------------------

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        self._stop_reading()

    def resume_reading(self) -> None:
        if not self._reading and not self._writes.closing and not self._eof:
            self._reading = True
            if self._inline is not None:
                self._inline.add_inline(self._fd, self._read_ready)
            else:
                self._loop.add_reader(self._fd, self._read_ready)
            if self._incoming.pending:  # records read before a pause, not decrypted yet
                self._loop.call_soon(self._decrypt)

    def _stop_reading(self) -> None:
        if not self._reading:
            return
        self._reading = False
        if self._inline is not None:
            self._inline.remove_inline(self._fd)
        else:
            self._loop.remove_reader(self._fd)

    def _read_ready(self) -> None:
        """The socket is readable: one read of what it holds, then its records decrypted."""
        size = self.max_size
        try:
            data = os.read(self._fd, size + (size >> _OVERHEAD_SHIFT))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fatal(exc)
            return
        if not data:
            self._eof_received()  # (a TCP end without close_notify: taken as the end too)
            return
        incoming = self._incoming
        incoming.write(data)
        # The first record decrypted here: when it was all (a small element's usual read),
        # it is handed on at once, without `_decrypt`'s call, list and checks.
        try:
            first = self._decrypt_record(_RECORD)
        except ssl.SSLWantReadError:
            if self._outgoing.pending:  # (a key update read alone: OpenSSL's answer)
                self._send(self._outgoing.read())
            return  # the rest of the record is still on its way
        except ssl.SSLError as exc:
            self._fatal(exc)
            return
        if first and not incoming.pending and not self._outgoing.pending:
            self._protocol.data_received(first)
            return
        self._decrypt(first)

    def _decrypt(self, first: bytes | None = None) -> None:
        """Every whole record the incoming BIO holds, decrypted and handed on in one piece
        (after `first`, the record `_read_ready` decrypted: b"" if it was close_notify)."""
        if not self._reading:
            return  # (paused since: `resume_reading` comes back here)
        incoming = self._incoming
        read = self._decrypt_record
        chunks: list[bytes] = [first] if first else []
        end = first == b""
        while incoming.pending and not end:
            try:
                chunk = read(_RECORD)
            except ssl.SSLWantReadError:
                break  # the rest of a record is still on its way
            except ssl.SSLError as exc:
                self._fatal(exc)
                return
            if not chunk:
                end = True  # close_notify
                break
            chunks.append(chunk)
        if self._outgoing.pending:  # OpenSSL's own answer (a key update's, an alert)
            self._send(self._outgoing.read())
        if chunks:
            self._protocol.data_received(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if end and not self._eof and not self._writes.lost:
            self._eof_received()

    def _eof_received(self) -> None:
        self.pause_reading()
        self._eof = True
        if not self._protocol.eof_received():
            self.close()

    # -- writing and closing: encrypted here, then the core's `WriteHalf` --------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._writes.closing or not data:
            return
        try:
            self._encrypt(data)
        except (ssl.SSLError, ValueError) as exc:
            self._fatal(exc)
            return
        self._send(self._outgoing.read())

    def can_write_eof(self) -> bool:
        return False  # TLS: close_notify ends both directions

    def write_eof(self) -> None:
        raise NotImplementedError("a TLS connection cannot half-close")

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.Protocol)
        self._protocol = self._writes.protocol = protocol

    def _fatal(self, exc: BaseException) -> None:
        logger.debug("TLS connection %s: %s", self.get_extra_info("peername"), exc)
        if self._outgoing.pending and not self._writes.buffered:  # the alert that says why
            with contextlib.suppress(OSError):
                os.write(self._fd, self._outgoing.read())
        self._writes.abort(exc if isinstance(exc, Exception) else None)

    def _finish_close(self) -> None:
        """Nothing waits any more: close_notify into the outgoing BIO (its answer is not
        waited for: WantRead, usually), onto the socket if it takes it now, and the end."""
        if not self._writes.lost:
            with contextlib.suppress(ssl.SSLError, ValueError):
                self._tls.unwrap()
            with contextlib.suppress(OSError):
                os.write(self._fd, self._outgoing.read())
            self._writes.abort()
