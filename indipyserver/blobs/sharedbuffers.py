"""The descriptors an indilib C driver passed with its BLOBs, kept until claimed, then closed.

A driver with shared BLOBs (``drivers.executable``) sends each BLOB's data as a memfd with SCM_RIGHTS;
the socket reader (``drivers.pipereader.SocketReader``) pushes them here in arrival order and
``blobs.attached`` takes them, oldest first, for the ``attached`` members it converts. Whoever
holds a descriptor closes it: `SharedBuffers.close_all` when the driver goes, `release` once a
member is converted -- in a thread when it is large, because closing the last descriptor of a
memfd frees its pages on the spot.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Iterable

__all__ = ["CLOSER", "CLOSE_IN_THREAD", "SharedBuffers", "release"]

logger = logging.getLogger("indipyserver.attachedblobs")  # part of the attached BLOBs' work


class SharedBuffers:
    """The descriptors received from one driver and not yet claimed, oldest first; owns them."""

    def __init__(self) -> None:
        self._fds: deque[int] = deque()

    def push(self, fds: Iterable[int]) -> None:
        self._fds.extend(fds)

    def pop(self) -> int | None:
        return self._fds.popleft() if self._fds else None

    def __len__(self) -> int:
        return len(self._fds)

    def close_all(self) -> None:
        """Close what is left (the driver died or restarted): they would never be claimed."""
        while self._fds:
            _close(self._fds.popleft())


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError as exc:
        logger.debug("closing shared buffer %d: %s", fd, exc)


#: Closing the last descriptor of a memfd frees its pages, which holds the loop for a time in
#: proportion to its size: from this size on it is closed by `_Closer`'s thread (close releases
#: the GIL). Smaller ones are closed at once.
CLOSE_IN_THREAD = 4 << 20


class _Closer:
    """One daemon thread that closes large memfds off the event loop, in the order given.

    Started once per process, when the first driver with shared BLOBs starts, rather than in
    the middle of a BLOB. A daemon: descriptors still queued when the process exits are closed
    by the exit itself.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="indipyserver memfd closer", daemon=True
                )
                self._thread.start()

    def close(self, fd: int) -> None:
        self.start()
        self._queue.put(fd)

    def _run(self) -> None:
        while True:
            _close(self._queue.get())


CLOSER = _Closer()


def release(fd: int, size: int) -> None:
    """Close `fd`, a memfd of `size` bytes: by the closer thread if it is large, else at once."""
    if size >= CLOSE_IN_THREAD:
        CLOSER.close(fd)
    else:
        _close(fd)
