"""The servers found on the network, for the settings page: the browser cannot browse DNS-SD, so
the web client's own server does (``indipydiscovery``) and the page shows what it found.

One listing at a time, `LISTEN` seconds long, on the interfaces the command's
``--mdns-interface`` or ``INDIPY_MDNS_INTERFACES`` names (else every one with multicast on); its result is kept and handed out at once until it
is `FRESH` seconds old, when the next request starts another in the background (so a page
polling every few seconds never waits, and any number of open pages cost one listing). The
first request waits for the first listing. Without python-zeroconf (the extra
``[discovery]``) only Alpaca servers are listed and `Listing.note` says what to install;
a listing that fails (an interface this machine lacks) says why in the note, and typing a
host and port works as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from indipydiscovery.browse import EXTRA_HINT
from indipydiscovery.browse import discover_async
from indipydiscovery.browse import zeroconf_available
from indipydiscovery.interfaces import without_multicast
from indipydiscovery.service import KINDS
from indipydiscovery.service import Service

__all__ = ["FRESH", "LISTEN", "DiscoveredServers", "Listing"]

logger = logging.getLogger(__name__)

#: Seconds one listing listens.
LISTEN = 2.0
#: Seconds a listing is handed out before the next one is started.
FRESH = 5.0


@dataclass(frozen=True)
class Listing:
    """What one listing found, when it ended (``time.monotonic``), and a `note` for the page
    ("": nothing to say)."""

    services: tuple[Service, ...] = ()
    note: str = ""
    at: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict[str, object]:
        return {"services": [s.as_json() for s in self.services], "note": self.note}


class DiscoveredServers:
    """See the module docstring; `listen`, `fresh` in seconds (tests shorten them)."""

    def __init__(self, listen: float = LISTEN, fresh: float = FRESH,
                 interfaces: Sequence[str] | None = None) -> None:
        """`interfaces`: the names to list on (the command's ``--mdns-interface``; None:
        ``INDIPY_MDNS_INTERFACES``, else every one with multicast on)."""
        self.interfaces = interfaces
        self.listen = listen
        self.fresh = fresh
        self.last: Listing | None = None
        self._running: asyncio.Task[Listing] | None = None

    async def current(self) -> Listing:
        """The latest listing (the first one waited for); a stale one starts the next."""
        last = self.last
        if last is not None and time.monotonic() - last.at < self.fresh:
            return last
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._list(), name="indipyweb-discover")
        if last is not None:
            return last
        return await asyncio.shield(self._running)

    async def _list(self) -> Listing:
        kinds = KINDS
        note = ""
        if not zeroconf_available():
            kinds = ("alpaca",)
            note = (f"INDI and INDIGO servers are not listed: {EXTRA_HINT}. Type the host and "
                    f"port below.")
        else:
            note = _no_multicast(self.interfaces)
        try:
            found = await discover_async(self.listen, kinds=kinds, interfaces=self.interfaces)
        except (OSError, ValueError, ImportError) as exc:  # InterfaceError is a ValueError
            logger.warning("listing the servers on the network: %s", exc)
            listing = Listing((), f"Cannot list the servers on the network: {exc}. Type the "
                                  f"host and port below.")
        else:
            listing = Listing(tuple(found), note)
        self.last = listing
        return listing

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DiscoveredServers]:
        """For the app's life: a listing still running at its end is cancelled."""
        try:
            yield self
        finally:
            task = self._running
            if task is not None and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


def _no_multicast(names: Sequence[str] | None) -> str:
    """What the page says when no chosen interface can carry DNS-SD ("": one can)."""
    missing = without_multicast(names)
    if missing is None:
        return ""
    return (f"No interface with multicast ({missing}): INDI and INDIGO servers cannot be listed "
            f"here. Type the host and port below.")