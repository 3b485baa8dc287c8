"""`MeasureWorker`: light frames measured (`framemeasure.measure_frame`) in a process of their
own, one per night, so the agent's event loop never waits behind sep (issue 93 item 1).

sep holds the GIL while it extracts: measured in a thread, a 1280x1024 frame kept every other
thread (the event loop that must ask the next exposure among them) from running for up to
21.5 ms at a time. In a process only the frame's bytes go out and its `FrameMeasure` comes back.

The process is spawned (not forked: the agent's threads and sockets stay its own) at the first
frame measured and ended by `close` (the run's end); it imports numpy and sep once. It dies
with the agent (Linux's parent-death signal, a watcher thread elsewhere), so a killed agent
leaves none behind. A worker that dies mid-frame raises `WorkerLost` for that frame, and the
next frame is measured by a new one.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and sep are imported in the worker only
    from .framemeasure import FrameMeasure

logger = logging.getLogger(__name__)

#: Linux's prctl option: a signal sent to this process when its parent dies.
PR_SET_PDEATHSIG = 1


class WorkerLost(RuntimeError):
    """The measuring process died (killed, out of memory) before its frame's measure."""


class MeasureWorker:
    """One process measuring frames, started at the first `measure`, ended by `close`."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    async def measure(self, data: bytes) -> FrameMeasure:
        """`data` (a FITS frame) measured in the worker; its errors raised here (`FITSError`,
        ValueError: not a frame), `WorkerLost` when the worker died meanwhile."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_watch_parent, initargs=(os.getpid(),))
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, _measure, data)
        except BrokenProcessPool as error:
            if self._pool is pool:  # the next frame spawns a new worker
                self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerLost(f"the measuring worker died: {error}") from error

    def pid(self) -> int | None:
        """The worker's process id (None: none started): the tests kill it."""
        processes = getattr(self._pool, "_processes", None) or {}
        return next(iter(processes), None)

    def close(self) -> None:
        """The worker ended (after the frame it measures, if any); a later `measure` starts
        another."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _measure(data: bytes) -> FrameMeasure:
    from .framemeasure import measure_frame
    return measure_frame(data)


def _watch_parent(parent: int) -> None:
    """The worker's start: it dies with the agent (`parent`), and numpy and sep imported now,
    before the first frame."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    else:
        threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the agent died before the signal was asked for
        os._exit(1)
    from . import framemeasure  # noqa: F401 - imported once per night, not per frame


def _orphaned(parent: int) -> None:
    """Ends the worker once its agent is gone (no parent-death signal)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
