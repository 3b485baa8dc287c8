"""A connection from the server to one source of devices.

`DriverConnection` is the base of every driver-side connection (in-process drivers and
in-process remotes in `inprocess.py`, executable drivers in `executable.py`, remote servers in
`remote.py`). It owns the bounded outbound queue to the driver, so that a driver which stops
reading never grows the server's memory without bound (indiserver has no such limit, INDI
notes 2.4), and carries its server's `loop.flowcontrol.Congestion`, which holds up reading
from the driver while a client of that server is congested.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

from indipycore.protocol.framing import Frame
from indipyserver.drivers.pipewriter import PipeWriter
from indipyserver.loop.flowcontrol import Congestion
from indipyserver.loop.flowcontrol import LoopFlow
from indipyserver.loop.flowcontrol import flow_for
from indipyserver.routing.ports import DriverSide

if TYPE_CHECKING:
    from indipyserver.fastpath.shortcut import Shortcut

logger = logging.getLogger("indipyserver.driverconn")  # the name users' logs know

#: Default limit of bytes queued to one driver, the same figure as indiserver's client `-m`.
DEFAULT_DRIVER_QUEUE_BYTES = 128 * 1024 * 1024


class DriverConnection(ABC):
    """One source of devices seen by the router; subclasses start and restart the peer.

    The router calls `send` only; the subclass's `run` moves bytes from `outgoing()` to the
    peer and calls `router.driver_ready` / `driver_frames` / `driver_lost` from its side.
    """

    #: Chained server: receives enableBLOB and device="*" getProperties.
    is_remote: bool = False
    #: The peer runs on this machine (``fastpath.shortcut`` hands it the CPU after writing to it): always
    #: for an executable or in-process driver; a remote server's connection says (``remote``).
    local: bool = True
    #: Reads the peer's output at once if there is any (`read_now`): set by a subclass while
    #: its reader is open (a `PipeReader`'s or a remote's ``read_now``), else None.
    reader_now: Callable[[], bool] | None = None
    #: Its elements are well-formed XML without a check: only an in-process driver's, which
    #: our own serialiser wrote. Everything read from a peer is checked before it is passed
    #: on (``router``, ``wellformed``).
    trusted_xml: bool = False
    #: Its framer streams BLOB vectors (``blobs.cutthrough``), checking their member tags and markup
    #: as they arrive, so the router need not check a large one again. Every connection
    #: here streams (a driver's stdout socket too, ``blobs.attached``).
    streams_blobs: bool = True
    #: A client's element may be written to the peer at once (`write_through`): every
    #: connection to a peer; not an in-process driver.
    takes_writes: bool = True
    #: A ``dev@host`` remote's one device; None for every other connection (``remote``).
    device: str | None = None
    #: A remote asked for every BLOB by its own connection: told no BLOB modes (``remote``).
    blob_enable: bool = False
    #: The round trip's shortcut (``fastpath.shortcut``), given by the server to the
    #: connections that read a peer (executable drivers, remote servers); None: not taken.
    shortcut: Shortcut | None = None

    def __init__(
        self,
        label: str,
        *,
        is_remote: bool | None = None,
        max_queue_bytes: int = DEFAULT_DRIVER_QUEUE_BYTES,
    ) -> None:
        self.label = label
        if is_remote is not None:
            self.is_remote = is_remote
        self.max_queue_bytes = max_queue_bytes
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._wakeup = asyncio.Event()
        self._dropped = 0
        # Set by `attach_writer` (drivers.outbound.pump): queued bytes are then written straight to the
        # transport at the end of the current read batch, without waking a task.
        self._writer: asyncio.WriteTransport | None = None
        # A `PipeWriter`'s `write_open`, set with it: one call that writes and says whether
        # the transport took it (`write_through`); None for any other transport.
        self._write_open: Callable[[bytes], bool] | None = None
        self._flow: LoopFlow | None = None  # the writer's loop's, set with it
        self._writer_paused = False
        self._marked = False
        #: The congested clients that hold up reading from this driver: its server's, set by
        #: ``IPyServer.add_connection`` before `run`; alone (the tests), its own. A subclass
        #: registers the reader of its peer with it (``drivers.inbound.InboundProtocol``), and an
        #: in-process driver's writes wait on it.
        self.congestion = Congestion()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label!r}>"

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting to be written to the driver."""
        return self._pending_bytes

    def read_now(self) -> bool:
        """Take what the peer has already answered, without waiting for the loop's next turn.

        ``fastpath.shortcut`` calls this after writing a client's new vector and handing the peer the CPU:
        a driver that answers at once has usually written its set vector by then, and reading
        it here saves an ``epoll_wait`` and a turn of the event loop on the round trip.
        Nothing to read costs one read that would block. The reader is the subclass's (`reader_now`); none, nothing is done.
        False only when the peer has not answered yet (the read would have blocked).
        """
        reader = self.reader_now
        return reader() if reader is not None else True

    def write_through(self, data: bytes) -> bool:
        """Write `data` at once if nothing waits before it and the writer takes it now;
        False (nothing done) when it must go through `send` (``fastpath.shortcut``)."""
        writer = self._writer
        if (
            self._pending
            or self._dropped
            or self._writer_paused
            or writer is None
            or len(data) > self.max_queue_bytes
        ):
            return False
        write = self._write_open
        if write is not None:
            # An executable driver's `PipeWriter`: one os.write when its pipe takes it all (the
            # round trip, before the driver is woken); the rest waits in it, in order.
            return write(data)
        if writer.is_closing():  # another transport (a remote's socket)
            return False
        writer.write(data)
        return True

    def stop(self) -> bool:
        """Ask `run` to end for good (FIFO ``stop``); False when the connection cannot end it
        itself, and its task is cancelled instead (the default)."""
        return False

    def _over_limit(self, size: int) -> bool:
        """Whether a message of `size` bytes must be dropped (and the first one logged): a
        driver that does not read its input must not take the server down with it."""
        if self._pending_bytes + size <= self.max_queue_bytes:
            return False
        if self._dropped == 0:
            logger.warning(
                "%s is not reading its input fast enough: dropping messages (queue over %d "
                "bytes; this one %d)",
                self.label,
                self.max_queue_bytes,
                size,
            )
        self._dropped += 1
        return True

    def send_frame(self, frame: Frame) -> None:
        """Queue one element the router has framed; a peer takes its bytes (`send`)."""
        self.send(frame.data)

    def send(self, data: bytes) -> None:
        """Queue bytes to the driver; never blocks; drops (and logs) past `max_queue_bytes`."""
        if self._over_limit(len(data)):
            return
        flow = self._flow
        if flow is not None and data is flow.through and not (self._pending or self._dropped):
            # The one element of this batch, and nothing else queued for us: the write the
            # batch's end would make (`flush_marked`), made now, without queueing it first.
            writer = self._writer
            if not (self._writer_paused or writer is None or writer.is_closing()):
                writer.write(data)
                return
        self._pending.append(data)
        self._pending_bytes += len(data)
        if flow is None:
            self._wakeup.set()
        elif not (self._marked or self._writer_paused):
            self._marked = True
            flow.mark(self)

    # -- direct writing (see drivers.outbound.pump) ------------------------------------------------

    def attach_writer(self, transport: asyncio.WriteTransport) -> None:
        """Write queued bytes straight to `transport` from now on (batched per read)."""
        self._writer = transport
        self._write_open = transport.write_open if isinstance(transport, PipeWriter) else None
        self._flow = flow = flow_for()
        self._writer_paused = False
        if self._pending and not self._marked:
            self._marked = True
            flow.mark(self)

    def detach_writer(self) -> None:
        """Back to `outgoing()`: the transport is gone."""
        self._writer = None
        self._write_open = None
        self._flow = None
        self._marked = False

    def writer_paused(self, paused: bool) -> None:
        """Flow control of the attached transport: stop/restart writing to it."""
        self._writer_paused = paused
        flow = self._flow
        if not paused and self._pending and not self._marked and flow is not None:
            self._marked = True
            flow.mark(self)

    def flush_marked(self) -> None:
        """The LoopFlow's call: one write of everything queued, unless paused."""
        self._marked = False
        writer = self._writer
        pending = self._pending
        if writer is None or self._writer_paused or not pending or writer.is_closing():
            return
        if len(pending) == 1 and not self._dropped:  # `_take`, inlined: once per read
            data = pending[0]
            pending.clear()
            self._pending_bytes = 0
        else:
            data = self._take()
        writer.write(data)

    async def outgoing(self) -> bytes:
        """Wait for queued bytes and take them all as one batch (one write to the peer)."""
        while not self._pending:
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._take()

    def _take(self) -> bytes:
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        self._pending_bytes = 0
        if self._dropped:
            logger.warning("%s: %d messages were dropped", self.label, self._dropped)
            self._dropped = 0
        return data

    def discard_outgoing(self) -> None:
        """Forget queued bytes; call before `router.driver_ready` when a peer is restarted."""
        self._pending.clear()
        self._pending_bytes = 0

    @abstractmethod
    async def run(self, router: DriverSide) -> None:
        """Run for the life of the server: connect the peer and feed the router."""
