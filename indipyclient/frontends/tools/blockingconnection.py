"""A blocking connection to an INDI server for the command-line tools.

Bytes are framed and parsed by the protocol core (``indipycore.protocol``: ``Framer`` and
``parse_element``; there is no second parser), events are written with its ``serialise``. A
``pingRequest`` from the server is answered at once (indilib >= 1.9.7 drivers wait for the
reply). A malformed element is reported through ``on_error`` and skipped: the tools go on with
the next one, where indilib's tools exit 2.

The tools are short-lived processes, so this is plain blocking sockets with deadlines, no event
loop to start, and the protocol core is imported at the first use, not with this module: a tool
can connect and send its request first and let the server answer while Python loads it.

``arrived`` says when the bytes of the last event handed out reached this host: the kernel's
receive timestamp on Linux (``SO_TIMESTAMPNS``), elsewhere the moment ``recv`` returned them.
indi_getprop's quiet period runs from the arrival of the last definition because it parses as
bytes come; ours parses later, so its deadline is counted from ``arrived`` too.
"""

from __future__ import annotations

import collections
import os
import socket
import struct
import sys
import time
from collections.abc import Callable

from .toolerror import ToolError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    import ssl

    from indipycore.protocol import Event
    from indipycore.protocol import Framer

__all__ = ["Connection", "ServerClosed"]

READ_SIZE = 256 * 1024
_DRAIN_READS = 64  # at most this many reads taken before parsing (16 MiB)

# Linux's SO_TIMESTAMPNS (asm-generic value; Python has no name for it): a struct timespec of
# the receive time comes with each recvmsg. Only where that value is known to be right.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@ll")
_KERNEL_TIMESTAMPS = sys.platform.startswith("linux") and os.uname().machine in {
    "x86_64", "aarch64", "i686", "i386", "armv7l", "armv6l", "riscv64", "ppc64le", "s390x"}


#: Receive buffer asked for before connecting (the kernel caps it at net.core.rmem_max): a
#: getProperties answer of a thousand vectors is a few hundred kilobytes, which the server can
#: then send whole while the tool is still loading the protocol core, instead of waiting for
#: it to read. Its arrival starts the quiet period, so it is the tool's whole run time.
RECEIVE_BUFFER = 4 * 1024 * 1024


def _connect(host: str, port: int, timeout: float | None) -> socket.socket:
    """`socket.create_connection`, with `RECEIVE_BUFFER` set before the connection is made
    (the TCP window scale is agreed then)."""
    error: OSError | None = None
    for family, kind, proto, _name, address in socket.getaddrinfo(
            host, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error if error is not None else OSError(f"no address for {host}")


def _handshake(context: ssl.SSLContext, sock: socket.socket, host: str,
               where: str) -> socket.socket:
    """`sock` wrapped in TLS, its handshake done (within the socket's timeout); a TLS
    failure is a ToolError in OpenSSL's words."""
    import ssl

    from indipycore.tls import tls_reason

    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as exc:
        sock.close()
        raise ToolError(f"cannot connect to {where}: TLS: {tls_reason(exc)}", 2) from None


def _reason(exc: OSError) -> str:
    """An error reading the socket in words: the OS's, or OpenSSL's for a TLS one."""
    if exc.strerror:
        return exc.strerror
    import ssl

    if isinstance(exc, ssl.SSLError):
        from indipycore.tls import tls_reason

        return f"TLS: {tls_reason(exc)}"
    return str(exc) or type(exc).__name__


class ServerClosed(ToolError):
    """The server closed the connection (exit status 2, like indilib's tools)."""


class Connection:
    """One connection: ``send`` events, ``next_event`` with a deadline."""

    def __init__(
        self, sock: socket.socket, where: str, on_error: Callable[[str], None] | None = None
    ) -> None:
        self.sock = sock
        self.where = where
        self._framer: Framer | None = None  # made at the first read (loads the protocol core)
        self._pending: collections.deque[tuple[Event, float]] = collections.deque()
        self._on_error = on_error
        self._closed = False
        #: time.monotonic() at which the last event handed out had arrived (see the module doc)
        self.arrived = time.monotonic()
        self._stamped = False
        # (A TLS socket has no recvmsg: it is read with recv, and stamped on return.)
        if _KERNEL_TIMESTAMPS and not hasattr(sock, "getpeercert"):
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self._stamped = True
            except OSError:
                pass

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        *,
        timeout: float | None = 10.0,
        on_error: Callable[[str], None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> Connection:
        """Connect to ``host:port`` (over TLS with `tls`: the server's certificate verified
        for `host`); raises ToolError (exit 2) saying why it could not."""
        where = f"{host}:{port}"
        try:
            sock = _connect(host, port, timeout)
            if tls is not None:
                sock = _handshake(tls, sock, host, where)
        except socket.gaierror as exc:
            raise ToolError(f"cannot find host {host!r}: {exc.strerror}", 2) from None
        except TimeoutError:
            raise ToolError(f"cannot connect to {where}: timed out", 2) from None
        except OSError as exc:
            raise ToolError(f"cannot connect to {where}: {exc.strerror or exc}", 2) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, where, on_error)

    @classmethod
    def from_fd(cls, fd: int, on_error: Callable[[str], None] | None = None) -> Connection:
        """A connection on a socket descriptor already open to a server (indilib's ``-d``)."""
        try:
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise ToolError(f"file descriptor {fd} is not an open socket: {exc.strerror}", 2) from None
        return cls(sock, f"fd {fd}", on_error)

    def send(self, *events: Event) -> None:
        """Write events to the server; raises ServerClosed when it is gone."""
        from indipycore.protocol import serialise

        self.send_bytes(b"".join(serialise(event) for event in events))

    def send_bytes(self, data: bytes) -> None:
        try:
            self.sock.settimeout(None)
            self.sock.sendall(data)
        except OSError as exc:
            # (A TLS server that refuses our certificate closes the connection once it has
            # judged it, which our first write may meet as well as our first read.)
            raise ServerClosed(f"cannot write to the server at {self.where}: {_reason(exc)}"
                               f"{self._refused_hint()}", 2) from None

    def shutdown_write(self) -> None:
        """Half-close: the server sees EOF after everything sent (as indi_setprop does).
        TLS has no half-close: its close_notify instead, after which the server has read
        everything sent (bounded by a few seconds)."""
        if hasattr(self.sock, "unwrap"):
            try:
                self.sock.settimeout(2.0)
                self.sock.unwrap()
            except (OSError, ValueError):
                pass
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()

    def idle(self) -> bool:
        """True when every event read so far has been handed out (a good moment to flush)."""
        return not self._pending

    def next_event(self, deadline: float | None) -> Event | None:
        """The next event from the server, or None once ``deadline`` (``time.monotonic()``) passes.

        A ``deadline`` of None waits for ever. Raises ServerClosed at end of stream. What
        arrived by the deadline is returned even when the tool reads it later (a busy machine
        let it run late): bytes read after the deadline count by when they came (packet
        timestamps, Linux), as indi_getprop's select() would have seen them.
        """
        while not self._pending:
            if self._closed:
                raise ServerClosed(f"the INDI server at {self.where} closed the connection"
                                   f"{self._refused_hint()}", 2)
            late = False
            if deadline is None:
                self.sock.settimeout(None)
            else:
                remaining = deadline - time.monotonic()
                late = remaining <= 0
                self.sock.settimeout(max(remaining, 0.0))
            try:
                data, arrived = self._recv()
            except (TimeoutError, BlockingIOError):  # BlockingIOError: nothing there at 0 s
                return None
            except OSError as exc:
                raise ServerClosed(
                    f"reading from the INDI server at {self.where} failed: {_reason(exc)}"
                    f"{self._refused_hint()}", 2) from None
            if not data:
                self._closed = True
                continue
            for piece, when in self._drain(data, arrived):
                self._take(piece, when)
            if late and deadline is not None and arrived > deadline:
                return None  # read late and it came late too (kept for a later call)
        event, self.arrived = self._pending.popleft()
        return event

    def _refused_hint(self) -> str:
        """Why a TLS connection may end before a word of INDI: a server that requires a
        client certificate closes it once it has judged ours (TLS 1.3 says nothing more)."""
        if self._framer is None and hasattr(self.sock, "getpeercert"):
            return (" before a word of INDI: it did not accept our certificate (give or check "
                    "--tls-cert/--tls-key; the server's log says why)")
        return ""

    def _drain(self, data: bytes, arrived: float) -> list[tuple[bytes, float]]:
        """``data`` and whatever else the socket holds already, each read with its arrival
        time, before any of it is parsed: the server's answer to a getProperties (hundreds of
        kilobytes) is then never held up by a full receive buffer while we parse, and its last
        bytes -- whose arrival starts the quiet period -- come as soon as the server sends
        them."""
        reads = [(data, arrived)]
        self.sock.settimeout(0.0)
        while len(reads) < _DRAIN_READS:
            try:
                more, when = self._recv()
            except OSError:  # nothing more now (or trouble, which the next read reports)
                break
            if not more:
                self._closed = True
                break
            reads.append((more, when))
        return reads

    def _recv(self) -> tuple[bytes, float]:
        """Bytes from the socket and the time.monotonic() at which they had arrived."""
        if not self._stamped:
            data = self.sock.recv(READ_SIZE)
            return data, time.monotonic()
        data, ancillary, _flags, _address = self.sock.recvmsg(
            READ_SIZE, socket.CMSG_SPACE(_TIMESPEC.size))
        now = time.monotonic()
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack(payload[: _TIMESPEC.size])
                age = time.time() - (seconds + nanoseconds / 1e9)
                if 0 <= age < 3600:  # a clock step makes it nonsense: then "now" it is
                    return data, now - age
        return data, now

    def _take(self, data: bytes, arrived: float) -> None:
        from indipycore.protocol import Framer
        from indipycore.protocol import PingReply
        from indipycore.protocol import PingRequest
        from indipycore.protocol import ProtocolError
        from indipycore.protocol.parser import parse_element

        if self._framer is None:
            self._framer = Framer()
        replies: list[Event] = []
        for frame in self._framer.feed(data):
            if isinstance(frame, ProtocolError):
                self._error(f"skipped malformed data from {self.where}: {frame}")
                continue
            try:
                event = parse_element(frame.data)
            except ProtocolError as exc:
                self._error(f"skipped a malformed <{frame.tag}> from {self.where}: {exc}")
                continue
            if event is None:
                continue
            if isinstance(event, PingRequest):
                replies.append(PingReply(uid=event.uid))
                continue
            self._pending.append((event, arrived))
        if replies:
            self.send(*replies)

    def _error(self, text: str) -> None:
        if self._on_error is not None:
            self._on_error(text)
