"""`ClientSource`: the `DeviceSource` on an `indipyclient` connection (the default source).

`indipyclient.session.connect` keeps the connection up (its ``Retry``: backoff with jitter, or the one
passed as ``retry``; pings answered, BLOBs
saved atomically under safe names in the BLOB folder, enableBLOB restored after a reconnect),
keeps the model and checks outgoing values; this adapter turns its events into `Change`
notices, its model into the snapshot shape (indipyclient's own ``snapshot``), and its
``set(..., wait=True)`` into a `SetResult`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Mapping
from pathlib import Path
from ssl import SSLContext
from types import TracebackType
from typing import Self

import indipyclient
from indipyclient.model.changes import change_of
from indipyclient.model.snapshot import take_snapshot

from .source import Change
from .source import InvalidValue
from .source import SetResult
from .source import Snapshot
from .source import VectorDict
from .source import client_values
from .source import current_message
from .source import model_vector

__all__ = ["ClientSource"]

logger = logging.getLogger(__name__)

# The hub reads at once; the bound only matters if the loop stalls, and then the oldest
# notices go first (indipyclient logs it) while the model stays current.
MAX_EVENTS = 20_000


class ClientSource:
    """Connects to `host`:`port` with indipyclient; received BLOBs are saved in `blobfolder`
    (None: BLOBs are not asked for); ``retry`` is the reconnect policy (None: the client
    library's). Start it with ``async with source:``."""

    def __init__(self, host: str = "localhost", port: int = 7624,
                 blobfolder: str | Path | None = None, *,
                 retry: indipyclient.Retry | None = None,
                 ssl: SSLContext | None = None) -> None:
        """`ssl`: the server's TLS port (``indipyclient.connect``'s)."""
        self.host = host
        self.port = port
        if blobfolder is not None:
            Path(blobfolder).mkdir(parents=True, exist_ok=True)
        self.client = indipyclient.connect(host, port, blobfolder, connect_timeout=None,
                                           max_events=MAX_EVENTS, retry=retry, ssl=ssl)
        self._events: indipyclient.EventStream | None = None

    @property
    def connected(self) -> bool:
        return self.client.connected

    def snapshot(self) -> Snapshot:
        return take_snapshot(self.client.model, self.host, self.port,
                             self.client.connected).dictdump()

    def vector(self, device: str, name: str) -> VectorDict | None:
        return model_vector(self.client.model, device, name)

    async def changes(self) -> AsyncIterator[Change]:
        if self._events is None:
            raise RuntimeError("start the source first: async with source: ...")
        async for event in self._events:
            change = change_of(event)
            if change is not None:
                yield change

    async def set(self, device: str, vector: str, members: Mapping[str, object],
                  timeout: float = 10.0) -> SetResult:
        try:
            result = await self.client.set(device, vector, client_values(members), wait=True,
                                           timeout=timeout)
        except indipyclient.InvalidValue as exc:
            raise InvalidValue(str(exc)) from None
        except indipyclient.UnknownVector as exc:
            raise InvalidValue(str(exc)) from None
        # the answer's own message: the model's may be an earlier update's (`current_message`)
        answered = self.vector(device, vector)
        message = result.message if answered is None else current_message(
            {**answered, "state": str(result.state), "message": result.message})
        return SetResult(str(result.state), message, result.timed_out)

    async def __aenter__(self) -> Self:
        self._events = self.client.events()  # before connecting: nothing is missed
        await self.client.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()
        if self._events is not None:
            self._events.close()

