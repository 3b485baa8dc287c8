"""A peer that stops half way through a BLOB streaming to clients: the BLOB is cut short.

Cut-through forwarding (``blobs.cutthrough``) passes a BLOB on while it arrives, and until the element
ends nothing else can be written to its receivers. So a driver or remote server that hangs half
way through an image would hold all their other traffic (a client's other devices frozen)
for as long as it stays silent. indiserver assembles every element
before it sends it, and has no such wait. `StallWatch` watches a reader while one of its BLOBs
streams and has it cut short once the peer has sent nothing for STALLED_BLOB_SECONDS while we
were reading: a pause of our own (clients congested, a C driver's BLOB being converted) is not
the peer's. But a pause for congested clients counts as ours only while the peer's bytes wait
unread in the kernel (`unread_bytes`): the client an image streams to is congested by
everything else that waits behind that image, and its stall would otherwise never be cut.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable

try:
    import fcntl
    import termios
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["STALLED_BLOB_SECONDS", "StallWatch", "unread_bytes"]

logger = logging.getLogger("indipyserver.peerio")  # the reader's own logger

#: Seconds without a byte from the peer, in the middle of a streaming BLOB, before it is cut.
STALLED_BLOB_SECONDS = 5.0


def unread_bytes(fd: int) -> int | None:
    """Bytes the kernel holds from the peer on `fd` (a socket or a pipe) that we have not read;
    None when that cannot be told."""
    if fd < 0 or fcntl is None:
        return None
    try:
        got = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    except OSError:
        return None
    return int(struct.unpack("i", got)[0])


class StallWatch:
    """The timer that watches one reader while a BLOB it reads streams."""

    __slots__ = ("_cut", "_label", "_mark", "_paused", "_reads", "_since", "_streaming", "_timer")

    def __init__(
        self,
        label: str,
        *,
        streaming: Callable[[], bool],
        reads: Callable[[], int],
        paused: Callable[[], bool],
        cut: Callable[[], None],
    ) -> None:
        """`streaming`: a BLOB is streaming; `reads`: reads of the peer so far; `paused`: we
        are not reading; `cut`: end the BLOB for its receivers and drop its rest."""
        self._label = label
        self._streaming = streaming
        self._reads = reads
        self._paused = paused
        self._cut = cut
        self._mark = 0  # reads when they last changed
        self._since = 0.0  # and when
        self._timer: asyncio.TimerHandle | None = None

    def watch(self) -> None:
        """A BLOB is streaming: watch it unless already watching."""
        if self._timer is None:
            self._mark = self._reads()
            self._since = self._arm()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> float:
        """Look again in a quarter of STALLED_BLOB_SECONDS; returns the loop's time now."""
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(STALLED_BLOB_SECONDS / 4, self._check)
        return loop.time()

    def _check(self) -> None:
        self._timer = None
        if not self._streaming():
            return
        now = asyncio.get_running_loop().time()
        reads = self._reads()
        if reads != self._mark or self._paused():
            self._mark = reads
            self._since = now
        elif now - self._since >= STALLED_BLOB_SECONDS:
            logger.warning("%s has sent nothing for %.1f s in the middle of a BLOB: it is cut "
                           "short for its clients, and the rest of it will be dropped",
                           self._label, now - self._since)
            self._cut()
            return
        self._arm()
