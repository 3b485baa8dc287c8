"""What the router needs of the connections it routes between, and nothing more.

The router never imports a connection class: the server's clients (``clients.clientconnection``),
drivers and remote servers (``drivers``) implement these protocols, and so do the test
doubles of the router's tests (checked by mypy), so a double cannot lack a method the router
calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameHead

__all__ = ["Attached", "ClientPort", "ClientSide", "DriverPort", "DriverSide", "Parts"]


class Parts:
    """One whole element held as the pieces it arrived in (read-only bytes, not copied): how
    cut-through (``blobs.cutthrough``) gives a streamed BLOB whole to a client that could not
    take it while it streamed, queued as it is (``clients.queue``)."""

    __slots__ = ("attrs", "parts", "size", "tag")

    def __init__(
        self, tag: str, attrs: dict[str, str], parts: list[bytes | memoryview]
    ) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parts = [p for p in parts if p]  # an empty piece would read as "nothing left"
        self.size = sum(len(p) for p in self.parts)
        if not self.parts:
            raise ValueError("an element has at least one byte")


class Attached(bytes):
    """An element whose BLOB data are memory files passed beside it (``attached='true'``
    members, SCM_RIGHTS), as indilib's C drivers send them (and our Python drivers, on a
    Unix-socket stdout or in-process): for a client on the Unix socket, which receives them
    so, as indiserver's do (``clients.unixsocket``).

    The bytes are the element as the driver wrote it; `fds` are this element's own
    descriptors (duplicates, one set per client), closed once the kernel has them
    (`sent_fds`) or the element is dropped (`close`)."""

    tag: str
    attrs: dict[str, str]
    fds: list[int]
    #: Bytes of the memory files: what the element holds in memory while it waits (a
    #: client's queue counts them, ``-m``).
    blob_bytes: int

    @classmethod
    def of(cls, data: bytes, tag: str, attrs: dict[str, str], fds: list[int]) -> Attached:
        """The element `data` with its own duplicates of `fds`."""
        element = cls(data)
        element.tag = tag
        element.attrs = attrs
        element.fds = []
        element.blob_bytes = 0
        try:
            for fd in fds:
                element.fds.append(os.dup(fd))
                element.blob_bytes += os.fstat(fd).st_size
        except OSError:
            element.close()
            raise
        return element

    def close(self) -> None:
        """Close the descriptors not yet sent (the element was dropped)."""
        fds, self.fds = self.fds, []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    sent_fds = close  # the kernel holds its own references once they are sent


class ClientPort(Protocol):
    """A client connection, as the router and the round trip's shortcut see it."""

    #: For logs: "127.0.0.1:50123", "unix socket", ...
    label: str
    #: Who it is, for the access rules and the audit trail (``routing.access``): "anonymous"
    #: on the plain TCP port, "unix:USER" on the Unix socket, a TLS certificate's CN. Set
    #: when it is accepted, before the router is told of it.
    identity: str
    #: Its address for the audit trail: "host:port", or the Unix socket's path.
    peer: str
    #: Whether the peer runs on this machine, so that a write wakes it here (``fastpath``).
    local: bool
    #: Takes BLOBs a driver attaches as memory files as they are (`send_attached`): a
    #: client on the Unix socket, as indiserver's.
    shares_blobs: bool

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting in its queue (how far it is behind)."""

    def send_frame(self, frame: Frame) -> None:
        """Queue one element to the client; never blocks."""

    def send_frames(self, frames: list[Frame]) -> None:
        """Queue consecutive sets of one property (a burst), coalesced as single puts would be."""

    def write_through(self, data: bytes) -> bool:
        """Write `data` at once if nothing is queued before it; False (nothing done) if not."""

    # -- a BLOB passed on while it arrives (``blobs.cutthrough``) --------------------------

    def stream_begin(self) -> bool:
        """Take the next element in pieces as it arrives? False: it comes whole at its end."""

    def stream_late(self, device: str, name: str) -> None:
        """A streamed BLOB of (device, name) will come whole at its end (`send_parts`)."""

    def stream_piece(self, data: bytes | memoryview) -> None:
        """The next piece of the element being streamed."""

    def stream_end(self, data: bytes | memoryview) -> None:
        """Its last piece: the element is complete (or closed well-formed if cut short)."""

    def send_parts(self, element: Parts) -> None:
        """A streamed element whole, as the pieces it arrived in."""

    def send_attached(self, element: Attached) -> None:
        """An element with its BLOBs attached (only where `shares_blobs`); it owns its fds."""


class DriverPort(Protocol):
    """A driver, an in-process driver or a remote server, as the router sees it."""

    #: For logs: "indi_simulator_ccd", "remote localhost:7625", the driver's class name.
    label: str
    #: A chained server: receives enableBLOB and device="*" getProperties.
    is_remote: bool
    #: A ``dev@host`` remote's one device (pre-registered as its owner); None for all others.
    device: str | None
    #: A remote asked for every BLOB by its own connection (``RemoteConnection``'s option):
    #: the router tells it no BLOB modes.
    blob_enable: bool
    #: Its elements were written by our own code (an in-process driver): not checked with expat.
    trusted_xml: bool
    #: Its framer streams large BLOBs (checked piece by piece as they arrive).
    streams_blobs: bool
    #: Whether the peer runs on this machine, so that a write wakes it here (``fastpath``).
    local: bool
    #: Whether a client's element may be written to it at once (`write_through`, the
    #: ``fastpath``): a peer's pipe or socket; never an in-process driver, which takes
    #: elements framed.
    takes_writes: bool
    #: `read_now`'s reader while the peer's output is read (None: nothing to read at once),
    #: which the ``fastpath`` calls itself: a call less on the round trip.
    reader_now: Callable[[], bool] | None

    def send(self, data: bytes) -> None:
        """Queue bytes to the driver; never blocks; bounded."""

    def send_frame(self, frame: Frame) -> None:
        """Queue an element the router framed: an in-process driver takes it as it is, a peer
        its bytes."""

    def write_through(self, data: bytes) -> bool:
        """Write `data` at once if nothing is queued before it; False (nothing done) if not."""

    def read_now(self) -> bool:
        """Read what the peer has written meanwhile, now rather than on the loop's next turn;
        False when it has written nothing yet."""


class DriverSide(Protocol):
    """The router, as a driver-side connection sees it (``drivers``, ``blobs.cutthrough``)."""

    def driver_ready(self, driver: DriverPort) -> None:
        """The driver is (re)connected: ask it for its properties."""

    def driver_frames(self, driver: DriverPort, frames: list[Frame]) -> None:
        """Elements read from the driver, in order."""

    def driver_lost(self, driver: DriverPort) -> None:
        """The driver is gone: its devices are deleted for the clients."""

    def route_head(self, driver: DriverPort, head: FrameHead) -> list[ClientPort] | None:
        """The clients a streamed element goes to, from its start tag; None: route it whole."""

    def stream_cut_short(self, driver: DriverPort, head: FrameHead) -> None:
        """A streamed element from `driver` ended before its closing tag."""

    def takes_attached(self, driver: DriverPort) -> bool:
        """Whether a client that takes memory files (`ClientPort.shares_blobs`) wants some
        BLOB of `driver`'s devices: an in-process driver attaches its BLOBs only then."""


class ClientSide(Protocol):
    """The router, as a client connection sees it (``clients.clientconnection``)."""

    def add_client(self, client: ClientPort) -> None:
        """A client connected."""

    def client_frames(self, client: ClientPort, frames: list[Frame]) -> None:
        """Elements read from a client, in order."""

    def client_lost(self, client: ClientPort) -> None:
        """A client disconnected."""
