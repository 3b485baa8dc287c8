"""Reusable read buffers for a reader that lends its reads to a `Framer` (BLOBs in full reads).

A read into a new object per read (``os.read``, ``sock.recv``) gets memory malloc may have just
handed back to the kernel -- when the pieces of a BLOB are freed together, glibc does -- and the
next reads fault in fresh zeroed pages. In the server, a client that had stopped reading kept
one BLOB's pieces (``clients.queue.Parts``), so every BLOB's were freed together: about twice
the page faults, and the fast client beside the slow one lost a fifth of its speed. Reading
into buffers that are reused once nothing refers to them any more keeps the same pages in use.
The server reads an executable driver's stdout and a remote server's socket this way
(``indipyserver.drivers.inbound``), and the client its server's socket
(``indipyclient.session.serverstream``).

Whether anything still refers to a buffer is read off its reference count: the views a
`Framer` hands out for a lent buffer (``Framer.feed_lent``) each hold a reference to it, so a
buffer nobody else references can be read into again. That is CPython's reference counting;
without ``sys.getrefcount`` (other Pythons) every read gets a new buffer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["ReadBufferPool"]

_getrefcount: Callable[[object], int] | None = getattr(sys, "getrefcount", None)


def _references(buffers: list[bytearray], i: int) -> int:
    """References to buffers[i] besides this call's own (kept in one place: the baseline
    `ReadBufferPool` compares against is measured through this very function)."""
    assert _getrefcount is not None
    return _getrefcount(buffers[i])


class ReadBufferPool:
    """Buffers of one size, for one reader; at most `keep` of them are kept for reuse."""

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self.keep = keep
        self._buffers: list[bytearray] = []
        self._next = 0  # where the search for a free buffer starts (round robin)
        # References a buffer held only by the pool has, as counted by `_references`.
        probe = [bytearray(1)]
        self._free_refs = _references(probe, 0) if _getrefcount is not None else -1

    @property
    def pooled(self) -> int:
        """Buffers held (in use or free)."""
        return len(self._buffers)

    def get(self) -> bytearray:
        """A buffer of `size` bytes that nothing else references (its contents are stale)."""
        buffers = self._buffers
        count = len(buffers)
        start = self._next
        free = self._free_refs
        for k in range(count):
            i = (start + k) % count
            if _references(buffers, i) <= free:
                self._next = (i + 1) % count
                return buffers[i]
        buf = bytearray(self.size)
        if free >= 0 and count < self.keep:
            buffers.append(buf)
        return buf

    def shrink(self, keep: int = 1) -> None:
        """Let go of free buffers beyond `keep` (the peer has gone back to small reads)."""
        buffers = self._buffers
        free = self._free_refs
        kept: list[bytearray] = []
        spare = keep
        for i in range(len(buffers)):
            if _references(buffers, i) > free:
                kept.append(buffers[i])  # in use: its memory is held anyway
            elif spare > 0:
                spare -= 1
                kept.append(buffers[i])
        self._buffers = kept
        self._next = 0
