"""Cheap raw INDI TCP clients for the benchmarks (standard library only).

A ``RawClient`` never parses XML: it counts occurrences of byte patterns (closing tags such as
``</setNumberVector>``, or marker text such as ``done r7``) in what it receives, correctly across
chunk boundaries, and records when it first and last saw each pattern.  A ``Hub`` reads many
clients from one thread with ``selectors``; a client made with ``read=False`` is never read
(a slow client), so the server has to queue or drop what it sends it.
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
            if tls is not None:
                self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setblocking(False)

    # -- I/O --------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def drain(self, idle: float = 1.0, limit: float = 30.0) -> None:
        """Read until EOF or until nothing arrives for `idle` seconds (used on a slow client)."""
        hub = Hub([self], force=True)
        hub.run_until(lambda: self.eof, timeout=limit, idle=idle)


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
                n = c.sock.recv_into(self.buf, self.size)
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
