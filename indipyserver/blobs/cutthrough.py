"""Cut-through forwarding: a BLOB from a driver goes on to its clients as it arrives.

indiserver (and this server before) stores a whole ``setBLOBVector`` before routing it: a 13 MB
element is read, assembled and only then written, so the clients wait while the server reads
and the server idles while the clients read. Here the framer of a driver-side connection
(``Framer(stream_tags={"setBLOBVector"})``) hands such an element out in pieces
(`FrameHead`, `FrameChunk`..., `FrameEnd`); the router picks its clients from the start tag
alone (`Router.route_head`) and every piece is queued to them at once. The element is never
assembled in the server, and each read of the driver is passed on without a copy.

Per receiver the choice is made once, before the first piece (`ClientConnection.stream_begin`):

* a client that takes it gets every piece (even if it turns slow meanwhile: an element is never
  cut in half; ``-m`` still bounds its queue), and whatever else is sent to it meanwhile waits
  until the element is complete;
* a client that is slow, or already receiving another streamed element, is *late*: it gets the
  element whole at its end through ``send_parts`` -- the pieces as they were read, referenced,
  not copied -- (so superseded BLOBs are still dropped for it; a slow client's
  queued older BLOB of the property is dropped as soon as the new one starts, so that the
  server never holds both for it);
* when the router cannot decide from the start tag (snooping drivers, an unowned device) the
  element is assembled and routed whole with ``driver_frames``.

Pings: the driver's ``pingRequest`` after a BLOB comes after the element's `FrameEnd`, so it is
answered only once the whole BLOB has been queued to its receivers (INDI notes 2.7).
A driver that cuts an element short (or dies or stalls in the middle of it:
``blobs.stalled``) ends it with the framer's closing sequence (``FrameEnd.complete`` False): the
receivers' streams stay well-formed. Their image is truncated, though its end looks like any other, so every
client that wanted it is then sent the vector's state as Alert with a message saying so
(`Router.stream_cut_short`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from indipycore.protocol.framing import Frame
from indipycore.protocol.framing import FrameChunk
from indipycore.protocol.framing import FrameEnd
from indipycore.protocol.framing import FrameHead
from indipyserver.routing.ports import Attached
from indipyserver.routing.ports import ClientPort
from indipyserver.routing.ports import DriverPort
from indipyserver.routing.ports import DriverSide
from indipyserver.routing.ports import Parts

__all__ = ["STREAM_TAGS", "BlobForwarder"]

logger = logging.getLogger("indipyserver.cutthrough")  # the name users' logs know

#: Elements from drivers that are forwarded while they arrive.
STREAM_TAGS = frozenset({"setBLOBVector"})


class BlobForwarder:
    """Delivers the streamed elements read from one driver-side connection."""

    __slots__ = (
        "_driver",
        "_head",
        "_late",
        "_on_whole",
        "_parts",
        "_pieces",
        "_receivers",
        "_router",
        "_whole",
    )

    def __init__(
        self,
        router: DriverSide,
        driver: DriverPort,
        on_whole: Callable[[list[Frame]], None] | None = None,
    ) -> None:
        """`on_whole` routes an element that had to be assembled (default:
        ``router.driver_frames(driver, ...)``); a connection that filters what it reads
        passes its own frame handler."""
        self._router = router
        self._driver = driver
        self._on_whole = on_whole
        self._head: FrameHead | None = None
        self._receivers: list[ClientPort] = []  # clients taking the pieces
        self._late: list[ClientPort] = []  # clients given the element whole at its end
        self._whole = False  # routed whole by the router at its end
        # The element assembled, only when the router needs it whole (a bytearray: no second
        # copy at the end) ...
        self._parts: bytearray | None = None
        # ... or its pieces, only referenced, when clients that could not take it as it
        # streamed get it whole at its end (`ClientConnection.send_parts`): a slow client
        # costs no copy of every BLOB. The pieces are the ones written to the receivers.
        self._pieces: list[bytes | memoryview] | None = None

    @property
    def active(self) -> bool:
        """An element is being forwarded."""
        return self._head is not None

    @property
    def wants_pieces(self) -> bool:
        """The element begun has a receiver, a late client, or must be assembled: False
        when its pieces would go nowhere (``blobs.attached`` then skips encoding them)."""
        return self._head is not None and (self._whole or bool(self._receivers or self._late))

    @property
    def keeps_order(self) -> bool:
        """The element begun reaches every client that takes it as it streams, so whatever
        is routed to them meanwhile waits behind it in their queues: False when a late client
        gets it whole at its end, or the router gets it assembled (``blobs.attached`` then
        holds back what its driver sends meanwhile)."""
        return self._head is not None and not self._whole and not self._late

    def handle(self, item: FrameHead | FrameChunk | FrameEnd) -> None:
        if type(item) is FrameChunk:
            data = item.data
            for client in self._receivers:
                client.stream_piece(data)
            if self._parts is not None:
                self._parts += data
            elif self._pieces is not None:
                self._pieces.append(data)
        elif type(item) is FrameHead:
            self._begin(item)
        else:
            assert type(item) is FrameEnd
            self._end(item)

    def begin_attached(self, head: FrameHead, element: bytes, fds: list[int]) -> None:
        """`handle(head)` of an element whose BLOBs a driver attached as memory files
        (``blobs.attached``): a client that takes them so (`ClientPort.shares_blobs`, on the
        Unix socket) is sent `element` with its own duplicates of `fds` now, and not the
        pieces; the others get the pieces as they are encoded."""
        self._begin(head, (element, fds))

    def _begin(self, head: FrameHead, attached: tuple[bytes, list[int]] | None = None) -> None:
        self._head = head
        clients = self._router.route_head(self._driver, head)
        receivers = []
        late: list[ClientPort] = []
        if clients is None:
            self._whole = True
        else:
            self._whole = False
            for client in clients:
                if attached is not None and client.shares_blobs:
                    try:
                        element = Attached.of(attached[0], head.tag, head.attrs, attached[1])
                    except OSError as exc:  # out of descriptors: base64 as for the others
                        logger.warning("%s: %s goes inline: %s", client.label, head.tag, exc)
                    else:
                        client.send_attached(element)
                        continue
                if client.stream_begin():
                    receivers.append(client)
                else:
                    late.append(client)
                    client.stream_late(head.attrs["device"], head.attrs["name"])
        self._receivers = receivers
        self._late = late
        self._parts = bytearray(head.data) if self._whole else None
        self._pieces = [head.data] if late else None
        data = head.data
        for client in receivers:
            client.stream_piece(data)

    def _end(self, end: FrameEnd) -> None:
        head = self._head
        assert head is not None
        data = end.data
        receivers = self._receivers
        for client in receivers:
            client.stream_end(data)
        parts = self._parts
        pieces = self._pieces
        self._head = None
        self._receivers = []
        self._parts = None
        self._pieces = None
        late, self._late = self._late, []
        if not end.complete:
            # Cut short by the driver: nobody who would get it whole gets it at all, as an
            # element that never ends is never routed. Everyone who wanted it is told: the
            # receivers got a truncated image whose end looks like any other.
            logger.debug("incomplete %s from %s not delivered whole", head.tag, self._driver.label)
            self._router.stream_cut_short(self._driver, head)
            return
        if parts is None and pieces is None:
            return
        if parts is not None:
            parts += data
            frame = Frame(head.tag, head.attrs, parts)  # type: ignore[arg-type]  # read-only
            if self._on_whole is not None:
                self._on_whole([frame])
            else:
                self._router.driver_frames(self._driver, [frame])
            return
        assert pieces is not None
        pieces.append(data)
        element = Parts(head.tag, head.attrs, pieces)
        for client in late:
            client.send_parts(element)

    def abort(self, tail: bytes | None) -> None:
        """The connection is gone in the middle of an element: close it for its receivers."""
        if self._head is not None:
            self._end(FrameEnd(tail or b"", complete=False))
