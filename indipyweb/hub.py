"""`Hub`: reads the source's changes once and fans them out to every open page's SSE stream.

Each open page is a `Subscriber` that names what it shows (the instruments, the messages, one
device, the BLOBs) and holds a `Coalescer` of the parts of that page to re-render: a reader
that stops reading holds at most one entry per part (per vector on a device page), never a
growing queue. The writer of each stream renders the parts it takes from the current state
(`render_part`), so a burst of 100 sets of one vector becomes one fragment for a slow reader.
Rendered fragments are cached per part, version and role, so 50 browsers on one page cost one
render per change, not 50.

The hub also keeps each number's recent history (the client library's `ValueHistory`, a bounded
ring per number vector) for the live plots: `HISTORY` samples a vector of the devices a page
shows (or showed in the last ten minutes), and a share of `HISTORY_BUDGET` samples for every
other vector, so that a fleet of thousands of devices costs the same few megabytes as a small
observatory, whose vectors each keep `HISTORY` samples within the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from indipyclient.model.history import ValueHistory
from indipyclient.session.coalesce import Coalescer

from .source import Change
from .source import DeviceSource
from .views import vector_view

__all__ = ["HISTORY", "HISTORY_BUDGET", "Hub", "Part", "Subscriber"]

logger = logging.getLogger(__name__)

HISTORY = 300  # points kept per number vector for its plot
HISTORY_BUDGET = 60_000  # points kept over the vectors no page shows (about 17 MB)

# A part of a page that can be re-rendered on its own:
# ("conn",) the connection banner; ("devices",) the instruments table; ("messages",) the log;
# ("device", dev) a whole device page body; ("vector", dev, vec) one vector's live values;
# ("devmessages", dev) a device's messages; ("blobs",) the BLOB list.
Part = tuple[str, ...]


@dataclass(eq=False)
class Subscriber:
    """One open page: `page` is "devices", "messages", "device" (with `device`) or "blobs"."""

    page: str
    device: str | None = None
    can_set: bool = False
    parts: Coalescer[Part] = field(default_factory=lambda: Coalescer(max_keys=2000))

    def wants(self, change: Change) -> Iterator[Part]:
        if change.kind == "connection":
            yield ("conn",)
            yield from self.whole()
            return
        if self.page == "devices" and change.device is not None \
                and change.kind in ("define", "delete", "set", "message"):
            yield ("devices",)  # a device's message: its row shows the last one
        elif self.page == "messages" and change.kind == "message":
            yield ("messages",)
        elif self.page == "device" and self.device is not None and change.device == self.device:
            if change.kind in ("define", "delete"):
                yield ("device", self.device)
            elif change.kind == "set" and change.vector is not None:
                yield ("vector", self.device, change.vector)
            elif change.kind == "message":
                yield ("devmessages", self.device)
                if change.vector is not None:  # a refused set: the vector shows it, Alert
                    yield ("vector", self.device, change.vector)
        elif self.page == "blobs" and change.kind == "set":
            yield ("blobs",)

    def whole(self) -> Iterator[Part]:
        """Every part of the page: sent when a stream (re)connects, so nothing missed during a
        network blip stays stale."""
        if self.page == "devices":
            yield ("devices",)
        elif self.page == "messages":
            yield ("messages",)
        elif self.page == "device" and self.device is not None:
            yield ("device", self.device)
            yield ("devmessages", self.device)
        elif self.page == "blobs":
            yield ("blobs",)


class Hub:
    """`render(part, can_set)` turns a part into HTML (the app's templates)."""

    def __init__(self, source: DeviceSource, render: Callable[[Part, bool], str],
                 history: int = HISTORY, budget: int | None = HISTORY_BUDGET) -> None:
        self.source = source
        self._render = render
        self.subscribers: set[Subscriber] = set()
        self.history = ValueHistory(history, budget=budget)
        self._versions: dict[Part, int] = {}
        self._cache: dict[tuple[Part, bool], tuple[int, str]] = {}
        self.changes_seen = 0

    def subscribe(self, page: str, device: str | None, can_set: bool) -> Subscriber:
        sub = Subscriber(page, device, can_set)
        for part in sub.whole():
            sub.parts.put(part)
        sub.parts.put(("conn",))
        self.subscribers.add(sub)
        if sub.page == "device" and device is not None:
            self.history.show(device)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers and sub.page == "device" and sub.device is not None:
            self.history.hide(sub.device)
        self.subscribers.discard(sub)

    def render_part(self, part: Part, can_set: bool) -> str:
        if part == ("conn",):  # small, and it may show an age that grows with the clock
            return self._render(part, can_set)
        version = self._versions.get(part, 0)
        cached = self._cache.get((part, can_set))
        if cached is not None and cached[0] == version:
            return cached[1]
        html = self._render(part, can_set)
        self._cache[(part, can_set)] = (version, html)
        return html

    def _bump(self, part: Part) -> None:
        self._versions[part] = self._versions.get(part, 0) + 1

    def notice(self, change: Change) -> None:
        """Take one change: history, cache versions, every interested page."""
        self.changes_seen += 1
        if change.kind == "connection":
            self._versions.clear()
            self._cache.clear()
            if not self.source.connected:
                self.history.clear()
        elif change.device is not None:
            self._record(change)
            touched: list[Part] = [("devices",), ("messages",), ("device", change.device),
                                   ("devmessages", change.device), ("blobs",)]
            for part in touched:
                self._bump(part)
            if change.vector is not None:
                self._bump(("vector", change.device, change.vector))
        else:
            self._bump(("messages",))
        for sub in self.subscribers:
            for wanted in sub.wants(change):
                sub.parts.put(wanted)

    def blobs_changed(self) -> None:
        """The BLOB folder changed outside the source (a file deleted from the pages): the
        cached list is stale, and every open BLOB page is redrawn."""
        self._bump(("blobs",))
        for sub in self.subscribers:
            if sub.page == "blobs":
                sub.parts.put(("blobs",))

    def _record(self, change: Change) -> None:
        assert change.device is not None
        if change.kind == "delete":
            self.history.forget(change.device, change.vector)
            return
        if change.kind not in ("define", "set") or change.vector is None:
            return
        vec = self.source.vector(change.device, change.vector)
        if vec is None:
            return
        view = vector_view(vec)
        if not view.is_number:
            return
        values = {m.name: m.floatvalue for m in view.members if m.floatvalue is not None}
        self.history.record(change.device, change.vector, values,
                            restart=change.kind == "define")

    async def run(self) -> None:
        """Read the source's changes until cancelled."""
        async for change in self.source.changes():
            try:
                self.notice(change)
            except Exception:  # one bad vector must not stop every page's updates
                logger.exception("change %s not passed on", change)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="indipyweb hub")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
