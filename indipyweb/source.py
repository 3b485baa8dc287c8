"""Where the web client's device state comes from, and where new values go: `DeviceSource`.

The pages, the SSE streams and the JSON API know nothing of sockets: they read a `DeviceSource`.
Today's implementation is `clientsource.ClientSource` (an indipyclient connection); the redis bridge
adds another (state kept in redis by a bridge) behind the same five members:

- `connected`: whether the source reaches its INDI server now (a lost link is shown on every page);
- `snapshot()`: everything known, in indipyclient 0.9.4's `Snap.dictdump()` JSON shape (the shape
  of `GET /api`; ``devices -> vectors -> members``, see ``docs/web_client.rst``);
- `vector(device, name)`: one vector of that snapshot (or None), read on every update, so cheap;
- `changes()`: an endless stream of `Change` notices (the client library's,
  ``indipyclient.model.changes``), consumed by ONE reader (the app's hub,
  which fans out to the browsers): what changed, never the values (those are read back with
  `vector()`, so a source may coalesce notices freely);
- `set(device, vector, members, timeout)`: send new values and answer with the driver's final
  state and message; raises `InvalidValue` (nothing sent) for values the vector cannot take.

A source is started with ``async with source:`` (connects, reconnects by itself until closed).
Values given to `set` are already checked by the app against the snapshot (numbers parsed and
within min/max, switch rules); a source checks again where it can. Numbers are floats, switches
"On"/"Off", texts str, BLOB members `BlobUpload`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from typing import Protocol
from typing import Self
from typing import runtime_checkable

from indipyclient.model.changes import Change
from indipyclient.model.changes import ChangeKind
from indipyclient.model.snapshot import vector_dict
from indipyclient.model.tree import Model

__all__ = ["BlobUpload", "Change", "ChangeKind", "ChangeQueue", "DeviceSource", "InvalidValue",
           "SetResult", "Snapshot", "VectorDict", "client_values", "current_message",
           "model_vector"]

logger = logging.getLogger(__name__)

# The JSON shapes (indipyclient 0.9.4's dictdump): plain dicts, so they serialise as they are.
Snapshot = dict[str, Any]
VectorDict = dict[str, Any]

@dataclass(frozen=True, slots=True)
class SetResult:
    """The driver's answer to a `set`: its final state ("Ok", "Alert", "Busy" when it did not
    finish in time, ...), its message, and whether the wait timed out."""

    state: str
    message: str = ""
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class BlobUpload:
    """A file for a BLOB member: its bytes as read (never more than the app's upload limit) and
    its INDI format (".fits", ".png.z", ...): a format ending in ".z" asks the source to send
    `data` zlib-compressed (the size sent is always that of `data`)."""

    data: bytes
    format: str


class InvalidValue(ValueError):
    """The values cannot be sent to that vector (unknown device/vector/member, read-only, a
    number that does not parse or is out of range, a broken switch rule). Nothing was sent."""


@runtime_checkable
class DeviceSource(Protocol):
    """See the module docstring: the whole contract between the web app and the INDI side."""

    @property
    def connected(self) -> bool: ...

    def snapshot(self) -> Snapshot: ...

    def vector(self, device: str, name: str) -> VectorDict | None: ...

    def changes(self) -> AsyncIterator[Change]: ...

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...


# -- what the sources that keep a client `Model` share ---------------------------------------


def model_vector(model: Model, device: str, name: str) -> VectorDict | None:
    """`DeviceSource.vector` read from a client library `Model`."""
    found = model.vector(device, name)
    return None if found is None else vector_dict(found)


def current_message(vec: Mapping[str, Any]) -> str:
    """The vector's message as news of its present state: the one its last update carried.

    INDI 1.7 p.4: a message is commentary sent with one define or set; the client library's
    model keeps the last one received (``message_timestamp``) across the updates that carry
    none. Shown beside the state as it was, an old plan's refusal stayed beside a new plan's
    Ok. An earlier message is kept only while the vector is still Alert (its reason: a driver
    updating an Alert vector's numbers every second sends it once)."""
    message = str(vec.get("message") or "")
    carried = vec.get("message_timestamp")
    if not message or carried is None or carried == vec.get("timestamp"):
        return message
    return message if vec.get("state") == "Alert" else ""


def client_values(members: Mapping[str, object]) -> dict[str, object]:
    """The values of a `set` as the client library takes them: a `BlobUpload` becomes
    (data, size, format), which indipyclient zlib-compresses when the format ends in .z."""
    return {name: (value.data, len(value.data), value.format)
            if isinstance(value, BlobUpload) else value for name, value in members.items()}


class ChangeQueue:
    """The bounded queue behind `DeviceSource.changes` of a source that applies elements
    itself: past `maxsize` unread notices the oldest goes (a notice only names what changed;
    the model stays current), logged as `owner`."""

    def __init__(self, maxsize: int, owner: str) -> None:
        self._queue: asyncio.Queue[Change] = asyncio.Queue(maxsize)
        self._owner = owner

    def put(self, change: Change) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            logger.warning("%s: no one reads its changes fast enough; the oldest went",
                           self._owner)
        self._queue.put_nowait(change)

    async def changes(self) -> AsyncIterator[Change]:
        while True:
            yield await self._queue.get()
