"""Cheap raw INDI TCP clients for the benchmarks (standard library only).

A ``RawClient`` never parses XML: it counts occurrences of byte patterns (closing tags such as
``</setNumberVector>``, or marker text such as ``done r7``) in what it receives, correctly across
chunk boundaries, and records when it first and last saw each pattern.  A ``Hub`` reads many
clients from one thread with ``selectors``; a client made with ``read=False`` is never read
(a slow client), so the server has to queue or drop what it sends it. On a TLS port a client
reads and writes its socket as on a plain one, and encrypts in memory (`TLSSession`).
"""

from __future__ import annotations

import selectors
import socket
import ssl
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable

CLOSE_TAGS = {
    "setNumber": b"</setNumberVector>",
    "setBLOB": b"</setBLOBVector>",
    "setText": b"</setTextVector>",
    "defText": b"</defTextVector>",
    "defNumber": b"</defNumberVector>",
    "defSwitch": b"</defSwitchVector>",
    "defLight": b"</defLightVector>",
    "defBLOB": b"</defBLOBVector>",
}
DEF_KEYS = ("defText", "defNumber", "defSwitch", "defLight", "defBLOB")

#: Bytes a Hub asks for per recv. 1 MiB keeps the client far faster than a server; a client
#: as most are reads less at a time (libindi's BaseClient 48 KiB, asyncio's StreamReader
#: 64 KiB): `blobspeed.py --read-size` sets this to measure the servers behind such a client.
READ_SIZE = 1 << 20
#: A chunk longer than this without any `<` is taken to be element content (BLOB base64).
BODY_ONLY = 1024


class Counter:
    """Counts byte patterns in a stream fed chunk by chunk (see module doc)."""

    counts: dict[str, int]

    def __init__(self, name: str = "stream") -> None:
        self.name = name
        self.patterns: dict[str, bytes] = dict(CLOSE_TAGS)
        self._maxlen = max(len(p) for p in self.patterns.values())
        self._tail = b""
        self.eof = False
        self.error: str | None = None
        self.reset()

    # -- counting ---------------------------------------------------------------------------
    def watch(self, key: str, pattern: bytes) -> None:
        """Also count occurrences of pattern (e.g. a marker text) from now on."""
        self.patterns[key] = pattern
        self._maxlen = max(self._maxlen, len(pattern))
        self.counts.setdefault(key, 0)

    def focus(self, *keys: str) -> None:
        """Count only these patterns from now on (each pattern costs a scan of every chunk)."""
        self.patterns = {k: self.patterns[k] for k in keys}
        self._maxlen = max(len(p) for p in self.patterns.values())
        self._tail = self._tail[-(self._maxlen - 1):] if self._maxlen > 1 else b""
        self.counts = {k: self.counts.get(k, 0) for k in keys}

    def reset(self) -> None:
        """Zero the counters and timestamps (arm a measurement)."""
        self.counts = {k: 0 for k in self.patterns}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.nbytes = 0
        self.t_first_byte: float | None = None
        self.t_last_byte: float | None = None

    def defs(self) -> int:
        return sum(self.counts.get(k, 0) for k in DEF_KEYS)

    def _account(self, buf: bytes | bytearray, n: int, now: float) -> None:
        self.nbytes += n
        if self.t_first_byte is None:
            self.t_first_byte = now
        self.t_last_byte = now
        head = bytes(buf[:min(n, self._maxlen - 1)])
        # Most of a BLOB stream is base64 with no `<` at all. Every pattern counted here is
        # markup, or a short text inside an element, so a chunk longer than BODY_ONLY with no
        # `<` (one memchr-speed find) holds none of them whole: it is not scanned, which spares
        # a slow `bytes.count` per pattern (that kept this client busier than the servers).
        # Occurrences across chunk boundaries are still counted below.
        # A chunk that ends a BLOB is mostly base64 too: it is scanned from BODY_ONLY bytes
        # before its first `<` (a text's end is within that of its closing tag), unless a
        # `>` before that says the chunk began inside markup (base64 has none), which is
        # rare: then all of it. Scanning all of every such chunk once per pattern cost four
        # BLOB clients more CPU than the server they measured (bench/ccdrate.py).
        ranges: tuple[tuple[int, int], ...] = ((0, n),)
        if n > BODY_ONLY:
            lt = buf.find(b"<", 0, n)
            if lt < 0:
                ranges = ()
            elif lt > 2 * BODY_ONLY and buf.find(b">", 0, lt) < 0:
                ranges = ((lt - BODY_ONLY, n),)
        for key, pat in self.patterns.items():
            c = 0
            for start, stop in ranges:
                c += buf.count(pat, start, stop)
            if self._tail:
                k = len(pat) - 1        # an occurrence straddling the previous chunk boundary
                c += ((self._tail[-k:] if k else b"") + head[:k]).count(pat)
            if c:
                self.counts[key] += c
                self.first.setdefault(key, now)
                self.last[key] = now
        keep = self._maxlen - 1
        if n >= keep:
            self._tail = bytes(buf[n - keep:n])
        else:
            self._tail = (self._tail + bytes(buf[:n]))[-keep:]

    def feed(self, data: bytes, now: float | None = None) -> None:
        self._account(data, len(data), time.perf_counter() if now is None else now)


class RawClient(Counter):
    def __init__(self, host: str, port: int, name: str = "client", read: bool = True,
                 rcvbuf: int | None = None, timeout: float = 10.0,
                 unix_path: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        """`unix_path`: connect to a server's Unix socket (``-u``; abstract on Linux, as both
        servers bind it) instead of host:port. Descriptors passed there (BLOBs as memfds)
        are not taken: the kernel closes them as their bytes are read. `tls`: the port is a
        TLS port (bench/tls.py), the handshake done here."""
        super().__init__(name)
        self.read = read
        if unix_path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(("\0" if sys.platform.startswith("linux") else "") + unix_path)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        #: The TLS session of a client on a TLS port (`TLSSession`), None on a plain one.
        self.tls = None if tls is None else TLSSession(self.sock, tls, host)
        #: Reads what the server sent into a buffer (`Hub.poll`): the socket's own recv_into,
        #: or the TLS session's decrypting one (the same socket reads under it).
        self.recv_into: Callable[[bytearray, int], int] = (
            self.sock.recv_into if self.tls is None else self.tls.recv_into)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setblocking(False)

    # -- I/O --------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.tls is not None:
            data = self.tls.encrypt(data)
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            if self.tls is not None:
                self.tls.close(self.sock)
            self.sock.close()
        except OSError:
            pass

    def drain(self, idle: float = 1.0, limit: float = 30.0) -> None:
        """Read until EOF or until nothing arrives for `idle` seconds (used on a slow client)."""
        hub = Hub([self], force=True)
        hub.run_until(lambda: self.eof, timeout=limit, idle=idle)


class TLSSession:
    """A TLS client's session over its own plain socket: encrypted and decrypted in memory
    (`ssl.SSLObject` and two `ssl.MemoryBIO`), so that a TLS client reads and writes its socket
    exactly as a plain one does -- one ``recv_into`` of all that is there, one ``sendall`` a
    message -- and only adds the cryptography. An `ssl.SSLSocket` reads a record at a time,
    each with two read(2)s (its 5-byte header, then its body: no read-ahead), and its
    ``sendall`` is a Python loop: that measured the bench's client on top of the server, in
    the round trip and, one 16 kB record a wake-up, as the bottleneck of a BLOB stream."""

    #: Ciphertext read at a time is this much less than the caller's buffer (of more than
    #: twice this), so that all the plaintext it completes fits with the part of a record
    #: left from the read before.
    RESERVE = 20 * 1024

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, host: str) -> None:
        """The handshake, on `sock` (blocking, with its timeout)."""
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(self.outgoing.read())
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("the server closed the connection in the handshake")
                self.incoming.write(data)
        sock.sendall(self.outgoing.read())  # (TLS 1.3: the client's certificate and Finished)
        # (SSLObject's read and write only pass their arguments on to its C object: called
        # directly, a Python call a record less, as the server does.)
        core = getattr(self.obj, "_sslobj", self.obj)
        self._read, self._write = core.read, core.write
        self.sock = sock
        #: The server's close_notify was read (the socket may stay open: nothing else comes).
        self.ended = False

    def encrypt(self, data: bytes) -> bytes:
        """`data` as the records that carry it."""
        self._write(data)
        return self.outgoing.read()

    def recv_into(self, buf: bytearray, size: int) -> int:
        """``socket.recv_into`` through TLS: one read of the socket, then every whole record in
        it decrypted into `buf`; 0 at the end. SSLWantReadError: no record whole yet."""
        n = self.sock.recv_into(buf, size - self.RESERVE if size > 2 * self.RESERVE else size // 2)
        if not n:
            return 0
        view = memoryview(buf)
        incoming = self.incoming
        incoming.write(view[:n])
        read = self._read
        got = 0
        while True:
            try:
                k: int = read(size - got, view[got:])  # type: ignore[assignment]  # (a count)
            except ssl.SSLWantReadError:
                if got:
                    break
                raise
            if not k:
                self.ended = True  # close_notify: the end (0), after this read's records
                break
            got += k
            if not incoming.pending:
                break  # (all decrypted: spares the exception a last read would raise)
        return got

    def close(self, sock: socket.socket) -> None:
        """Say goodbye (close_notify), without waiting for the server's."""
        try:
            self.obj.unwrap()
        except (ssl.SSLError, ValueError):
            pass
        try:
            sock.send(self.outgoing.read())
        except OSError:
            pass


class Hub:
    """Reads a set of RawClients from the calling thread."""

    def __init__(self, clients: Iterable[RawClient], force: bool = False) -> None:
        self.sel = selectors.DefaultSelector()
        self.clients = [c for c in clients if c.read or force]
        for c in self.clients:
            if not c.eof:
                self.sel.register(c.sock, selectors.EVENT_READ, c)
        self.size = READ_SIZE
        self.buf = bytearray(self.size)
        self.view = memoryview(self.buf)

    def close(self) -> None:
        self.sel.close()

    def poll(self, timeout: float) -> int:
        """One select + read round; returns bytes read."""
        total = 0
        for key, _ in self.sel.select(timeout):
            c: RawClient = key.data
            try:
                n = c.recv_into(self.buf, self.size)
            except (BlockingIOError, ssl.SSLWantReadError):  # (a TLS record not whole yet)
                continue
            except OSError as exc:
                c.error = repr(exc)
                n = 0
            if n == 0:
                c.eof = True
                self.sel.unregister(c.sock)
                continue
            c._account(self.buf, n, time.perf_counter())
            total += n
            if c.tls is not None and c.tls.ended:  # close_notify after these records
                c.eof = True
                self.sel.unregister(c.sock)
        return total

    def run_until(self, done: Callable[[], bool], timeout: float,
                  idle: float | None = None) -> bool:
        """Poll until done() is true (returns True), timeout, or `idle` seconds of silence."""
        end = time.perf_counter() + timeout
        last_data = time.perf_counter()
        while not done():
            now = time.perf_counter()
            if now >= end:
                return False
            if idle is not None and now - last_data >= idle:
                return False
            if not self.sel.get_map():
                return done()
            wait = min(end - now, 0.2)
            if self.poll(wait):
                last_data = time.perf_counter()
        return True
