"""`SwitchableSource`: the app's own `DeviceSource` (a `ClientSource`), which an admin can point
at another INDI server or BLOB folder while the app runs.

The pages keep reading one source; behind it the old connection is closed and a new one made.
Its `changes()` stream goes on across the switch (one bounded queue, fed by the current
connection), with a ``connection`` notice at the switch so every open page redraws.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from .settings import TLSFiles
from .source import Change
from .source import DeviceSource
from .source import SetResult
from .source import Snapshot
from .source import VectorDict

__all__ = ["SwitchableSource"]

logger = logging.getLogger(__name__)

MAX_QUEUED = 20_000
SWITCHED = Change("connection")

#: `make(host, port, blobfolder)`, and ``ssl=`` a context for a TLS port.
MakeSource = Callable[..., DeviceSource]


class SwitchableSource:
    """A `DeviceSource` made by `make(host, port, blobfolder)` (with ``ssl=`` for `tls`'s
    TLS port), remade by `switch`."""

    def __init__(self, make: MakeSource, host: str, port: int, blobfolder: Path | None,
                 tls: TLSFiles | None = None) -> None:
        self._make = make
        self.host, self.port, self.blobfolder, self.tls = host, port, blobfolder, tls
        self.inner = self._new(host, port, blobfolder, tls)
        self._queue: asyncio.Queue[Change] = asyncio.Queue(MAX_QUEUED)
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self.inner.connected

    def snapshot(self) -> Snapshot:
        return self.inner.snapshot()

    def vector(self, device: str, name: str) -> VectorDict | None:
        return self.inner.vector(device, name)

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult:
        return await self.inner.set(device, vector, members, timeout)

    async def changes(self) -> AsyncIterator[Change]:
        while True:
            yield await self._queue.get()

    def _put(self, change: Change) -> None:
        if self._queue.full():  # the oldest notice goes; the model itself stays current
            self._queue.get_nowait()
        self._queue.put_nowait(change)

    async def _read(self, source: DeviceSource) -> None:
        async for change in source.changes():
            self._put(change)

    def _start_pump(self) -> None:
        self._pump = asyncio.create_task(self._read(self.inner), name="indipyweb source")

    async def _stop_pump(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    def _new(self, host: str, port: int, blobfolder: Path | None,
             tls: TLSFiles | None) -> DeviceSource:
        if tls is None:
            return self._make(host, port, blobfolder)
        return self._make(host, port, blobfolder, ssl=tls.context())

    async def switch(self, host: str, port: int, blobfolder: Path | None,
                     tls: TLSFiles | None = None) -> None:
        """Close the present connection and connect to `host`:`port` (its TLS port with
        `tls`), BLOBs into `blobfolder`."""
        async with self._lock:
            new = self._new(host, port, blobfolder, tls)
            await self._stop_pump()
            old, self.inner = self.inner, new
            await new.__aenter__()
            self.host, self.port, self.blobfolder, self.tls = host, port, blobfolder, tls
            self._start_pump()
            with contextlib.suppress(Exception):
                await old.__aexit__(None, None, None)
            self._put(SWITCHED)
            logger.info("now connecting to the INDI server %s:%s", host, port)

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        self._start_pump()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._stop_pump()
        await self.inner.__aexit__(exc_type, exc, tb)
