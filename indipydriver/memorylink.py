"""An in-memory byte pipe between a driver and its peer, for tests and the driver harness.

`MemoryLink.pair()` gives both ends; a driver given one end runs as it would on stdin/stdout
(``links.StdioLink``), its peer reading and writing the other.
"""

from __future__ import annotations

import asyncio

__all__ = ["MemoryLink"]


class MemoryLink:
    """One end of an in-memory byte pipe; `MemoryLink.pair()` gives both ends.

    Writes never block (an unbounded queue): tests and the harness read everything anyway.
    """

    def __init__(self) -> None:
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.peer: MemoryLink | None = None
        self.closed = False
        self._eof = False

    @classmethod
    def pair(cls) -> tuple[MemoryLink, MemoryLink]:
        a, b = cls(), cls()
        a.peer, b.peer = b, a
        return a, b

    async def read(self) -> bytes:
        if self._eof:
            return b""
        data = await self._incoming.get()
        if not data:
            self._eof = True
        return data

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("link is closed")
        if data and self.peer is not None and not self.peer.closed:
            self.peer._incoming.put_nowait(data)

    async def close(self) -> None:
        """Close this end: the peer reads EOF."""
        if not self.closed:
            self.closed = True
            if self.peer is not None:
                self.peer._incoming.put_nowait(b"")
            self._incoming.put_nowait(b"")
