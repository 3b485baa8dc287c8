"""Write batching per event loop, and driver-read throttling per server.

Two jobs, both about latency and bounded memory without an extra event-loop turn per message:

* **Flushing** (`LoopFlow`, one per event loop). A connection that has something to write
  marks itself dirty. A read callback routes everything it read between ``flow.begin()`` and
  ``flow.end()``, and the dirty connections are flushed when the batch ends, in the same
  callback: one
  ``transport.write`` per receiver per read, and no ``call_soon`` round trip (which costs a
  whole loop iteration, i.e. an extra ``epoll_wait`` and the latency of everything else that
  is ready). Marks made outside a read callback (timers, in-process drivers) are flushed by one
  ``call_soon`` for all of them. Per loop on purpose: a batch is one read callback of the
  loop, whoever's connection it reads, and sharing it between servers holds nobody up (it
  only groups writes).
* **Throttling** (`Congestion`, one per server). A client that reads, but more slowly than a
  driver writes, while no other client keeps up, is *congested*: while any client of a server
  is, every driver-side reader of that server is paused, so the driver waits in its own pipe or
  socket (like a plain TCP forwarder) instead of the server queueing or dropping for it. A
  client that makes no progress at all, or falls behind while others of its server keep up
  (`KeepingUp`), is not allowed to hold the others up: its owner declares it slow (it then
  coalesces) and un-congests it (``clients.fallingbehind``).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Protocol

__all__ = ["Congestion", "Flushable", "KeepingUp", "LoopFlow", "Throttleable", "flow_for"]


class Flushable(Protocol):
    """A connection that writes what it has queued when asked."""

    def flush_marked(self) -> None:
        """Write queued bytes (called once per mark)."""


class Throttleable(Protocol):
    """A reader of a driver-side peer that can stop and restart reading."""

    def throttle(self, paused: bool) -> None:
        """Stop (True) or restart (False) reading because of congested clients."""


class KeepingUp:
    """Counts writes whose bytes the socket took, to clients of one server that are not
    behind (``clients.writer``): a client stuck while this moves is behind while others keep up
    (``clients.fallingbehind``). One per server, not per loop: two servers in one process (a chain,
    the tests) have unrelated clients, and one's fast client must not make the other's look
    slow."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class Congestion:
    """The congested clients of one server, and the driver-side readers they hold up.

    One per server, not per loop, for the reason `KeepingUp` is: two servers in one process (a
    chain, the tests) serve unrelated clients and drivers, and a client congested on one must
    not pause the other's drivers. The server gives the same object to its clients (through
    ``clients.fallingbehind``, which calls `congest`/`decongest`), to its driver connections
    (``DriverConnection.congestion``: in-process drivers' writes wait on it) and through them to
    the readers of their peers' pipes and sockets (``drivers.inbound.InboundProtocol``). An object built
    alone (the tests) gets a standalone one, which nothing else shares.
    """

    __slots__ = ("_cleared", "_clients", "_readers", "congested")

    def __init__(self) -> None:
        self._readers: set[Throttleable] = set()
        self._clients: set[object] = set()
        #: Whether any client is congested: a plain attribute, since an in-process driver
        #: reads it on every write.
        self.congested = False
        # Set when the congestion ends; made per congested spell, inside the loop that runs
        # it, so that a server object is never tied to the event loop of an earlier run.
        self._cleared: asyncio.Event | None = None

    def add_reader(self, reader: Throttleable) -> None:
        """`reader` reads a driver-side peer of this server: paused while it is congested."""
        self._readers.add(reader)
        if self.congested:
            reader.throttle(True)

    def remove_reader(self, reader: Throttleable) -> None:
        self._readers.discard(reader)

    def congest(self, client: object) -> None:
        """`client` is behind but reading: pause this server's driver reads until it catches up."""
        clients = self._clients
        if client in clients:
            return
        clients.add(client)
        if len(clients) == 1:
            self.congested = True
            self._cleared = asyncio.Event()
            for reader in list(self._readers):
                reader.throttle(True)

    def decongest(self, client: object) -> None:
        """`client` caught up, became slow or went away."""
        clients = self._clients
        if client not in clients:
            return
        clients.discard(client)
        if not clients:
            self.congested = False
            cleared, self._cleared = self._cleared, None
            if cleared is not None:
                cleared.set()
            for reader in list(self._readers):
                reader.throttle(False)

    async def wait_uncongested(self) -> None:
        """For in-process drivers: their `write` waits here while a client is congested, as an
        executable driver waits on its pipe."""
        cleared = self._cleared
        if cleared is not None:
            await cleared.wait()


class LoopFlow:
    """The dirty connections of one event loop, flushed once per batch."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._dirty: list[Flushable] = []
        self._scheduled = False
        self._hold = 0
        #: Inside a batch that routes exactly one element (``begin(through=...)``): that
        #: element's bytes. A receiver handed these very bytes with nothing else queued may
        #: write them at once: that is the one write the batch's end would make, only sooner.
        #: Anything else routed in the batch (replies, replays) is queued and flushed as usual.
        self.through: bytes | None = None

    # -- flushing ----------------------------------------------------------------------------

    def mark(self, conn: Flushable) -> None:
        """Flush `conn` at the end of the current batch (or soon, outside any batch).

        The caller guarantees one mark per pending flush (it keeps its own flag).
        """
        self._dirty.append(conn)
        if not self._hold and not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._run_scheduled)

    def _run_scheduled(self) -> None:
        self._scheduled = False
        if not self._hold:
            self.flush()

    def flush(self) -> None:
        """Flush every marked connection (flushing may mark more: loop until none)."""
        while self._dirty:
            dirty = self._dirty
            self._dirty = []
            for conn in dirty:
                conn.flush_marked()

    def begin(self, through: bytes | None = None) -> None:
        """Open a batch: route one read between this and `end`, and its writes go out together
        when it ends. `through`: the bytes of the batch's only element (see ``through``);
        ignored inside an enclosing batch."""
        if not self._hold:
            self.through = through
        self._hold += 1

    def end(self) -> None:
        """Close a ``begin()``: flush what the batch marked."""
        self._hold -= 1
        if not self._hold:
            self.through = None
            while self._dirty:  # `flush`, inlined: this runs once per read
                dirty = self._dirty
                self._dirty = []
                for conn in dirty:
                    conn.flush_marked()


_flows: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopFlow] = (
    weakref.WeakKeyDictionary()
)


def flow_for(loop: asyncio.AbstractEventLoop | None = None) -> LoopFlow:
    """The `LoopFlow` of `loop` (default: the running loop); one per loop, so servers in
    different threads or successive test loops never share state."""
    if loop is None:
        loop = asyncio.get_running_loop()
    flow = _flows.get(loop)
    if flow is None:
        flow = _flows[loop] = LoopFlow(loop)
    return flow
