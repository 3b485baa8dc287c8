"""The tests' one raw watcher: an INDI client on a socket and a thread of its own that keeps,
in the order they came, what it is told to keep of every element the server sends. Changes
too quick to poll (a re-park of 0.1 s, a Busy between two Oks) are seen this way; what it saw
is read at any time, and waited for with `waiting.wait_for`."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Generic
from typing import TypeVar

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import Framer

R = TypeVar("R")


class FrameWatcher(Generic[R]):
    """A raw INDI client of `port`: sends `request` (a getProperties), then hands each element
    the server sends to `keep`; what `keep` returns, unless None, is recorded."""

    def __init__(self, port: int, keep: Callable[[Frame], R | None],
                 request: bytes = b'<getProperties version="1.7"/>\n',
                 host: str = "127.0.0.1") -> None:
        self.port = port
        self._keep = keep
        self._seen: list[R] = []
        self._lock = threading.Lock()
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.sendall(request)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        framer = Framer()
        self.sock.settimeout(None)
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            for frame in framer.feed(data):
                if not isinstance(frame, Frame):
                    continue
                kept = self._keep(frame)
                if kept is not None:
                    with self._lock:
                        self._seen.append(kept)

    def records(self) -> list[R]:
        """What was kept so far, in order."""
        with self._lock:
            return list(self._seen)

    def mark(self) -> int:
        """How many records there are now: a `since` for what comes next."""
        with self._lock:
            return len(self._seen)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)
