"""`Coalescer`: a bounded queue of change notices that keeps only the latest per key.

A browser (or the hub) that reads slowly is never queued for without limit: a second notice for
a vector already waiting replaces nothing and adds nothing (the fragment is rendered from the
current state when the reader gets to it), so the queue holds at most one entry per key. Past
`max_keys` distinct keys the whole queue collapses into one `overflow` notice, which the reader
answers by re-rendering everything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["Coalescer"]

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    """Insertion-ordered pending keys plus a wake-up event. One reader, any number of writers
    on the same event loop."""

    def __init__(self, max_keys: int = 1000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._pending: dict[K, None] = {}
        self._wake = asyncio.Event()
        self.overflowed = False
        self.coalesced = 0  # notices merged into one already waiting (for tests and benches)

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, key: K) -> None:
        if self.overflowed or key in self._pending:
            self.coalesced += 1
        elif len(self._pending) >= self.max_keys:
            self._pending.clear()
            self.overflowed = True
        else:
            self._pending[key] = None
        self._wake.set()

    def take(self) -> tuple[list[K], bool]:
        """Everything waiting now, oldest first, and whether it overflowed (then the list is
        empty and the reader must refresh everything)."""
        keys = list(self._pending)
        overflowed = self.overflowed
        self._pending.clear()
        self.overflowed = False
        self._wake.clear()
        return keys, overflowed

    async def get(self) -> tuple[list[K], bool]:
        """Wait until something is waiting, then `take` it."""
        while not self._pending and not self.overflowed:
            self._wake.clear()
            await self._wake.wait()
        return self.take()
