"""`Coalescer`: what changed since a reader last looked, bounded by the keys, not the events.

A driver may set a vector a thousand times a second; a screen or a browser needs it a few
times a second, and draws it from the model's current values. So a reader that falls behind
is never queued for without limit: a second notice for a key already waiting adds nothing
(the reader draws the current state when it gets to it), and the queue holds at most one entry
per key. Past `max_keys` distinct keys the whole queue collapses into one *overflow*, which the
reader answers by redrawing everything.

The terminal keeps one `Coalescer` of `Change` notices between refreshes (`summarise` folds
what it takes into what to draw); the web client's hub keeps one per open page, of the parts of
that page. The keys are anything hashable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Generic
from typing import TypeVar

from indipyclient.model.changes import Change

__all__ = ["Changes", "Coalescer", "summarise"]

K = TypeVar("K", bound=Hashable)

VectorKey = tuple[str, str]


class Coalescer(Generic[K]):
    """Insertion-ordered pending keys and a wake-up event. One reader, any number of writers
    on one event loop (``put`` and ``take`` are plain calls; ``get`` waits)."""

    def __init__(self, max_keys: int = 1000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self._pending: dict[K, None] = {}
        self._wake = asyncio.Event()
        self.overflowed = False
        self.noted = 0      # every notice put, for the benchmarks and the status line
        self.coalesced = 0  # notices merged into one already waiting

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self) -> bool:
        """Whether anything is waiting (an overflow included)."""
        return bool(self._pending) or self.overflowed

    def put(self, key: K) -> None:
        self.noted += 1
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


@dataclass
class Changes:
    """What a reader drawing from the model has to redraw, from the notices it took.

    ``vectors``: vectors defined or set that the model still holds (in the order first seen),
    to be drawn from its current values; ``deleted``: vectors named by a notice that the model
    no longer holds; ``deleted_devices``: devices deleted whole (their screens are drawn again
    from the model); ``devices``: whether the list of devices may have changed; ``messages``:
    whether messages arrived; ``connection``: the connection changed, or the notices
    overflowed: everything is to be drawn again.
    """

    vectors: list[VectorKey] = field(default_factory=list)
    deleted: list[VectorKey] = field(default_factory=list)
    deleted_devices: list[str] = field(default_factory=list)
    devices: bool = False
    messages: bool = False
    connection: bool = False

    def __bool__(self) -> bool:
        return bool(self.vectors or self.deleted or self.deleted_devices or self.devices
                    or self.messages or self.connection)


def summarise(notices: Iterable[Change], overflowed: bool,
              known: Callable[[str, str], bool]) -> Changes:
    """Fold the notices taken from a `Coalescer` into `Changes`; ``known(device, vector)``
    says whether the model holds the vector now. Since the reader draws the model's current
    state, the order of the notices does not matter: a vector set and then deleted is
    `deleted`, one deleted and defined again is drawn."""
    changes = Changes(connection=overflowed, devices=overflowed, messages=overflowed)
    named: dict[VectorKey, None] = {}
    whole: dict[str, None] = {}
    for notice in notices:
        kind, device, vector = notice.kind, notice.device, notice.vector
        if kind == "connection":
            changes.connection = changes.devices = changes.messages = True
        elif kind == "message":
            changes.messages = True
        elif device is not None:
            if kind != "set":
                changes.devices = True
            if vector is None:
                if kind == "delete":
                    whole[device] = None
            else:
                named[(device, vector)] = None
    for key in named:
        (changes.vectors if known(*key) else changes.deleted).append(key)
    changes.deleted_devices = list(whole)
    return changes
