"""Coalescing a client's stream of events into screen refreshes (no textual, no I/O).

A driver may send a vector a thousand times a second; the screen needs it a few times a second.
:class:`Coalescer` remembers only *which* vectors changed since the screen last looked (a set,
so its size is bounded by the number of vectors, whatever the event rate), and the screen reads
the current values from the client when it refreshes. :class:`NumberHistory` keeps a bounded
window of each number's values for the sparklines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Changes", "Coalescer", "NumberHistory"]

VectorKey = tuple[str, str]


@dataclass
class Changes:
    """What changed since the last :meth:`Coalescer.take`.

    ``vectors``: vectors defined or set (in the order first seen), to be drawn from the client's
    current values; ``deleted``: vectors deleted and not defined again since; ``devices``: whether
    the list of devices may have changed; ``messages``: whether new messages arrived;
    ``connection``: whether the connection state changed.
    """

    vectors: list[VectorKey] = field(default_factory=list)
    deleted: list[VectorKey] = field(default_factory=list)
    deleted_devices: list[str] = field(default_factory=list)
    devices: bool = False
    messages: bool = False
    connection: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.vectors or self.deleted or self.deleted_devices or self.devices or self.messages
            or self.connection
        )


class Coalescer:
    """Accumulates changes between refreshes; every method is O(1) and memory is bounded by the
    number of distinct vectors and devices, never by how many events arrived."""

    def __init__(self) -> None:
        self._vectors: dict[VectorKey, None] = {}  # insertion-ordered set
        self._deleted: dict[VectorKey, None] = {}
        self._deleted_devices: dict[str, None] = {}
        self._devices = False
        self._messages = False
        self._connection = False
        self.events = 0  # events seen in all, for the benchmark and the status line

    def vector_changed(self, device: str, vector: str, *, defined: bool = False) -> None:
        """A def or set arrived for the vector (a def may also add a device).

        The screen draws it from what the client holds when it refreshes, so a set after a
        delete also cancels the delete: a vector the client no longer knows is removed then.
        """
        self.events += 1
        key = (device, vector)
        self._vectors[key] = None
        self._deleted.pop(key, None)
        if defined:
            self._deleted_devices.pop(device, None)
            self._devices = True

    def vector_deleted(self, device: str, vector: str | None) -> None:
        """A delProperty arrived: for one vector, or (vector None) for the whole device."""
        self.events += 1
        self._devices = True
        if vector is None:
            self._deleted_devices[device] = None
            for key in [k for k in self._vectors if k[0] == device]:
                del self._vectors[key]
            for key in [k for k in self._deleted if k[0] == device]:
                del self._deleted[key]
            return
        key = (device, vector)
        self._vectors.pop(key, None)
        self._deleted[key] = None

    def message_arrived(self) -> None:
        self.events += 1
        self._messages = True

    def connection_changed(self) -> None:
        """Connected or lost: everything on the screen is to be checked again."""
        self.events += 1
        self._connection = True
        self._devices = True
        self._messages = True

    def pending(self) -> bool:
        return bool(
            self._vectors or self._deleted or self._deleted_devices or self._devices
            or self._messages or self._connection
        )

    def take(self) -> Changes:
        """Everything changed since the last call, and start afresh."""
        changes = Changes(
            vectors=list(self._vectors),
            deleted=list(self._deleted),
            deleted_devices=list(self._deleted_devices),
            devices=self._devices,
            messages=self._messages,
            connection=self._connection,
        )
        self._vectors.clear()
        self._deleted.clear()
        self._deleted_devices.clear()
        self._devices = self._messages = self._connection = False
        return changes


class NumberHistory:
    """The last `length` values of each number member, one value per screen refresh.

    Sampled when the screen draws a changed vector rather than on every set: a sparkline then
    spans a similar stretch of time whatever the driver's rate, and the cost is bounded by the
    refresh rate.
    """

    def __init__(self, length: int = 48) -> None:
        if length < 2:
            raise ValueError("a history needs at least two values")
        self.length = length
        self._values: dict[tuple[str, str, str], deque[float]] = {}

    def record(self, device: str, vector: str, member: str, value: float) -> Sequence[float]:
        """Add a value; returns the member's history, oldest first."""
        key = (device, vector, member)
        history = self._values.get(key)
        if history is None:
            history = self._values[key] = deque(maxlen=self.length)
        history.append(value)
        return history

    def values(self, device: str, vector: str, member: str) -> list[float]:
        return list(self._values.get((device, vector, member), ()))

    def forget(self, device: str, vectors: Iterable[str] | None = None) -> None:
        """Drop the histories of a device's vectors (all of them when `vectors` is None)."""
        wanted = None if vectors is None else set(vectors)
        for key in [k for k in self._values if k[0] == device and (wanted is None or k[1] in wanted)]:
            del self._values[key]

    def __len__(self) -> int:
        return len(self._values)
