"""The link protocols: what a driver and an in-process server see of the bytes between them.

A `Link` moves bytes; a `FramedLink` (an in-process server's) exchanges elements framed, a
`DescriptorLink` receives descriptors with its bytes (indiserver's shared BLOBs), and an
`AttachingLink` sends descriptors with the bytes it writes (a driver's BLOBs as memfds). The
driver framework's links (`indipydriver.links`) implement them; the server's in-process
connections and the MQTT bridge's in-process remote use them without importing a driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from typing import runtime_checkable

from .protocol.frames import Frame

__all__ = ["AttachingLink", "DescriptorLink", "FramedLink", "Link"]


class Link(Protocol):
    async def read(self) -> bytes:
        """Next chunk of bytes from the peer, b"" at EOF."""
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes, waiting while the peer is behind (back-pressure)."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class FramedLink(Link, Protocol):
    """A link that exchanges elements framed (an in-process server's), so that neither side
    frames again what the other has just framed."""

    async def read_frames(self) -> list[Frame]:
        """The elements sent to the driver since its last read, as the server framed them;
        [] at EOF (instead of `read`)."""
        ...

    async def write_frame(self, frame: Frame) -> None:
        """Send one element the driver framed as it wrote it (instead of `write`)."""
        ...


@runtime_checkable
class DescriptorLink(Link, Protocol):
    """A link that may receive descriptors with its bytes (indiserver's shared BLOBs)."""

    def take_fds(self) -> list[int]:
        """Descriptors received with what `read` returned so far, in order; the caller owns
        and closes them."""
        ...


@runtime_checkable
class AttachingLink(Link, Protocol):
    """A link that may pass descriptors with the bytes it writes: a driver's BLOB data in memory
    files (memfds) beside its element, as libindi's drivers send theirs on a Unix socket."""

    @property
    def attaches_blobs(self) -> bool:
        """Whether the driver's BLOBs go by `write_attached` now (stdout is a Unix socket; an
        in-process server's link: a client of the server takes memory files)."""
        ...

    async def write_attached(self, data: bytes, fds: Sequence[int]) -> None:
        """Send `data` (an element whose attached members' memory files are `fds`, and what
        follows it in the same write: the driver's pingRequest) with `fds` passed (SCM_RIGHTS)
        on its first bytes, whole and in order with every other write. The descriptors stay the caller's, to close once this returns,
        even cancelled: what has to wait is queued with duplicates of them."""
        ...
