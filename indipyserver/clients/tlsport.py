"""The server's TLS port: clients whose connection is encrypted, identified by their certificate.

Beside the plain port, not instead of it: the plain path reads and writes its sockets itself
(``loop.eventloop``, ``clients.writer``), and nothing here touches it. A TLS client is the
same `ClientConnection` on a transport of its own (``clients.tlssocket``): its socket read
from the server's selector and written as a plain socket is, with OpenSSL encrypting and
decrypting in memory (``clients.writer`` sees the transport's ``sslcontext`` and never writes
the socket itself). asyncio's TLS transport (``loop.start_tls``, which this port used first)
cost the round trip about half of a plain trip, an `ssl.SSLSocket` two reads a record
(bench/RESULTS.md).

Each accepted socket is taken from the listener's transport and held by a `_Handshake` until
its handshake is done (``do_handshake()`` on the loop's reader and writer callbacks): bounded in time
(`HANDSHAKE_TIMEOUT`), and in number (`MAX_HANDSHAKES` at once; one more takes the place of
the oldest once that one has had a quarter of the timeout, so connections that never finish
cannot lock real clients out, and is refused before, so a burst of real clients is not cut
short). Whatever goes wrong -- a plain
client on this port, a certificate no CA here signed, none where one is required, a handshake
that never ends -- closes that connection and is logged with the peer and the reason (a few
lines a window, the rest counted: ``logbudget``); the other clients never notice. Only then
is the `ClientConnection` made, with its `identity`: the subject CN of the client's
certificate when the port requires one (``--tls-client-ca``), else ``anonymous``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipycore.logbudget import WarningBudget
from indipycore.tls import common_name
from indipyserver.clients.tlssocket import TLSSocketTransport

if TYPE_CHECKING:
    from indipyserver.clients.clientconnection import ClientConnection

__all__ = ["HANDSHAKE_TIMEOUT", "MAX_HANDSHAKES", "TLSPort"]

logger = logging.getLogger("indipyserver.clients")  # the name users' logs know

#: Seconds a client has to finish its TLS handshake once connected.
HANDSHAKE_TIMEOUT = 10.0
#: Handshakes under way at once (each holds a socket and OpenSSL's buffers).
MAX_HANDSHAKES = 128
#: The share of the handshake timeout after which a handshake may lose its place to a newcomer.
EVICTABLE_AFTER = 0.25

#: OpenSSL's reasons for a peer that does not speak TLS at all (plain INDI begins with "<").
_NOT_TLS = {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE",
            "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_RECORD"}

#: Alerts a client sends when it will not accept *this server's* certificate (a client that
#: connects by a name the certificate does not hold, or does not trust its CA, aborts the
#: handshake itself): said as that, not as a fault of the client's own certificate.
_CLIENT_REFUSED_OURS = {
    "SSLV3_ALERT_BAD_CERTIFICATE": "bad certificate: most often a host name or address it "
                                   "does not name",
    "TLSV1_ALERT_UNKNOWN_CA": "unknown CA",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "certificate unknown",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "it has expired",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "unsupported certificate",
    "TLSV1_ALERT_ACCESS_DENIED": "access denied",
}


class TLSPort:
    """What the TLS listener shares among its handshakes: the context, the limits, the counts."""

    def __init__(
        self,
        context: ssl.SSLContext,
        factory: Callable[[], ClientConnection],
        *,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        max_handshakes: int = MAX_HANDSHAKES,
    ) -> None:
        """`factory` makes the client connection a finished handshake is handed to."""
        if handshake_timeout <= 0 or max_handshakes < 1:
            raise ValueError("the TLS handshake timeout must be positive and at least one "
                             "handshake allowed at once")
        self.context = context
        self.factory = factory
        self.handshake_timeout = handshake_timeout
        self.max_handshakes = max_handshakes
        #: Whether a client must present a certificate (its CN is then its identity).
        self.requires_certificates = context.verify_mode == ssl.CERT_REQUIRED
        self.pending: dict[_Handshake, None] = {}  # oldest first
        #: Connections refused or timed out, and clients handed on: for logs and tests.
        self.refused = 0
        self.accepted = 0
        self._warnings = WarningBudget(noun="TLS refusals")

    async def listen(self, host: str, port: int) -> asyncio.Server:
        """Listen on (`host`, `port`) (0: the system picks)."""
        loop = asyncio.get_running_loop()
        # The kernel's queue of connections not yet accepted holds as many as may handshake
        # at once (asyncio's default, 100, drops a burst's last SYNs for a second).
        return await loop.create_server(lambda: _Handshake(self), host, port,
                                        backlog=max(100, self.max_handshakes))

    def close(self) -> None:
        """The server stops: the handshakes under way are dropped."""
        for handshake in list(self.pending):
            handshake.give_up("")

    def refuse(self, label: str, why: str) -> None:
        """Count and log one connection that never became a client."""
        self.refused += 1
        note = self._warnings.take()
        if note is None:
            logger.debug("TLS client %s refused: %s", label, why)
        else:
            logger.warning("TLS client %s refused: %s%s", label, why, note)

    def why(self, exc: BaseException | None) -> str:
        """A failed handshake's reason, as a user reads it."""
        if exc is None or isinstance(exc, (ssl.SSLEOFError, ConnectionResetError,
                                           BrokenPipeError)):
            return ("it closed the connection during the TLS handshake (as a client does that "
                    "will not accept this server's certificate: a name it does not hold, a CA "
                    "it does not trust)")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return f"its certificate does not verify: {exc.verify_message}"
        if isinstance(exc, ssl.SSLError):
            reason = exc.reason or ""
            if reason in _NOT_TLS:
                return ("it does not speak TLS (a plain INDI client on the TLS port?): "
                        f"{reason.replace('_', ' ').lower()}")
            if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
                return "it presented no certificate, and this port requires one"
            if reason in _CLIENT_REFUSED_OURS:
                return (f"it refused this server's certificate "
                        f"({_CLIENT_REFUSED_OURS[reason]}): check the name the client "
                        "connects to is in the certificate's subjectAltName and that it "
                        "trusts the CA that signed it")
            if reason:
                return f"TLS error: {reason.replace('_', ' ').lower()}"
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _Handshake(asyncio.Protocol):
    """One accepted connection until its handshake is done: its socket is taken from the
    listener's transport and handshaken (`_Session`) on the loop's reader and writer
    callbacks, then served by ``clients.tlssocket``."""

    def __init__(self, port: TLSPort) -> None:
        self.port = port
        self.label = "?"
        self.sock: socket.socket | None = None
        self.task: asyncio.Task[None] | None = None
        self.reason: str | None = None  # set by `give_up`
        self.since = time.monotonic()
        self.begun = False  # the handshake's task has begun

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        # The socket is ours from here: a duplicate of its descriptor is kept, the listener's
        # transport dropped (closing its descriptor ends nothing while the duplicate lives).
        transport.pause_reading()
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.label = f"{peer[0]}:{peer[1]}"
        port = self.port
        if len(port.pending) >= port.max_handshakes:
            oldest = next(iter(port.pending))
            if self.since - oldest.since < port.handshake_timeout * EVICTABLE_AFTER:
                transport.abort()
                port.refuse(self.label, f"{port.max_handshakes} TLS handshakes were under way, "
                                        "the most at once")
                return
            oldest.give_up(f"{port.max_handshakes} TLS handshakes were under way and a new "
                           f"connection ({self.label}) took the place of this oldest one")
        raw = transport.get_extra_info("socket")
        try:
            sock = socket.socket(fileno=os.dup(raw.fileno()))
        except OSError as exc:
            transport.abort()
            port.refuse(self.label, f"its socket could not be taken over: {exc}")
            return
        transport.abort()
        sock.setblocking(False)
        self.sock = sock
        port.pending[self] = None
        self.task = asyncio.get_running_loop().create_task(self._handshake(sock),
                                                           name=f"TLS handshake {self.label}")

    def connection_lost(self, exc: Exception | None) -> None:
        """The listener's transport let go of the socket (`connection_made`): nothing ends."""

    # -- the handshake ---------------------------------------------------------------------

    def give_up(self, reason: str) -> None:
        """Drop this handshake now (`reason` logged; empty: the server stops, nothing to say),
        whether or not its task has begun (a hundred connections accepted in one turn of the
        loop evict handshakes whose task has not run yet)."""
        if self.reason is not None:
            return
        self.reason = reason
        self.port.pending.pop(self, None)
        if reason:
            self.port.refuse(self.label, reason)
        if self.task is not None:
            self.task.cancel()  # once begun, it closes the socket when it stops waiting on it
        if not self.begun and self.sock is not None:
            self.sock.close()  # (a task cancelled before it begins runs none of its code)

    async def _handshake(self, sock: socket.socket) -> None:
        self.begun = True
        port = self.port
        loop = asyncio.get_running_loop()
        tls = _Session(port.context)
        try:
            async with asyncio.timeout_at(loop.time() + port.handshake_timeout
                                          - (time.monotonic() - self.since)):
                await tls.handshake(loop, sock)
        except asyncio.CancelledError:
            _close(sock)
            if self.reason is None:
                raise  # not ours: the task is cancelled from outside
            return  # `give_up`'s, which said why
        except TimeoutError:
            _close(sock)
            port.refuse(self.label, f"it did not finish its TLS handshake within "
                                    f"{port.handshake_timeout:g} s")
            return
        except Exception as exc:  # noqa: BLE001  # whatever the peer did: it is refused, logged
            tls.send_alert(sock)
            _close(sock)
            port.refuse(self.label, port.why(exc))
            return
        finally:
            port.pending.pop(self, None)
        self._hand_over(loop, sock, tls)

    def _hand_over(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                   tls: _Session) -> None:
        """The handshake is done: the client connection is served on the TLS socket."""
        port = self.port
        identity = "anonymous"
        peercert = tls.obj.getpeercert()
        if port.requires_certificates:
            name = common_name(peercert)
            if not name:
                _close(sock)
                port.refuse(self.label, "its certificate has no subject CN, which would be "
                                        "its identity")
                return
            identity = name
        try:
            extra = {"peername": sock.getpeername(), "sockname": sock.getsockname(),
                     "socket": sock, "sslcontext": port.context, "ssl_object": tls.obj,
                     "peercert": peercert, "cipher": tls.obj.cipher()}
        except OSError as exc:  # gone as its handshake ended
            _close(sock)
            port.refuse(self.label, port.why(exc))
            return
        client = port.factory()
        client.identity = identity
        client.peer = self.label
        port.accepted += 1
        logger.info("TLS client %s connected as %s", self.label, identity)  # who: a key event
        TLSSocketTransport(loop, sock, tls.obj, tls.incoming, tls.outgoing, client,
                           extra).start()


class _Session:
    """A connection's TLS in memory (``clients.tlssocket``'s module doc says why): the
    `ssl.SSLObject` and its two BIOs, and the handshake run over the connection's socket."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=True)

    async def handshake(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        """``do_handshake()`` until done, sending what it writes and feeding it what the
        client sends, waiting for the socket as it must. What the client sends after its
        Finished may be read with it: it stays in `incoming` for the transport."""
        while True:
            try:
                self.obj.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            await self._send(loop, sock)
            if done:
                return
            await _ready(loop, sock.fileno(), loop.add_reader, loop.remove_reader)
            try:
                data = sock.recv(_HANDSHAKE_READ)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                raise ConnectionResetError("the client closed the connection")
            self.incoming.write(data)

    async def _send(self, loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
        """All OpenSSL wrote, onto the socket (waiting for room, rarely: a few kB)."""
        data = memoryview(self.outgoing.read())
        while data:
            try:
                data = data[sock.send(data):]
            except (BlockingIOError, InterruptedError):
                await _ready(loop, sock.fileno(), loop.add_writer, loop.remove_writer)

    def send_alert(self, sock: socket.socket) -> None:
        """The alert a failed handshake wrote (why, for the client), if the socket takes it."""
        with contextlib.suppress(OSError):
            sock.send(self.outgoing.read())


#: Bytes a handshake's read asks for (a client's certificate chain fits).
_HANDSHAKE_READ = 64 * 1024


async def _ready(loop: asyncio.AbstractEventLoop, fd: int,
                 add: Callable[..., None], remove: Callable[[int], object]) -> None:
    """Wait until `fd` is readable or writable (`add` and `remove` say which)."""
    ready = loop.create_future()
    add(fd, _set_done, ready)
    try:
        await ready
    finally:
        remove(fd)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _close(sock: socket.socket) -> None:
    """Close a socket that never became a client's (an alert, if any, was sent already)."""
    with contextlib.suppress(OSError):
        sock.close()
