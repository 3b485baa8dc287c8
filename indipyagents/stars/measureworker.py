"""`MeasureWorker`: light frames measured (`framemeasure.measure_frame`) in a process of their
own, one per night, so the agent's event loop never waits behind sep (issue 93 item 1).

sep holds the GIL while it extracts: measured in a thread, a 1280x1024 frame kept every other
thread (the event loop that must ask the next exposure among them) from running for up to
21.5 ms at a time. In a process only the frame's bytes go out and its `FrameMeasure` comes back.

The worker is ``python -m indipyagents.stars.measureworker`` (a plain child: no agent's main
module imported again, as multiprocessing's spawn does), started at the first frame measured
and ended by `close` (the run's end); it imports numpy and sep once. Frames go down its stdin
and figures come back on its stdout (each length-prefixed, pickled: the agent's own child), by
the event loop's pipes. It dies with the agent: its stdin's end, and on Linux the parent-death
signal, so a SIGKILLed agent leaves none behind. A worker that dies mid-frame raises
`WorkerLost` for that frame; the next frame starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pickle
import signal
import subprocess
import sys
from typing import TYPE_CHECKING
from typing import BinaryIO

if TYPE_CHECKING:  # numpy and sep are imported in the worker only
    from .framemeasure import FrameMeasure

logger = logging.getLogger(__name__)

#: Linux's prctl option: a signal sent to this process when its parent dies.
PR_SET_PDEATHSIG = 1
#: Each message's length, before it.
HEAD = 8
#: How long a worker asked to end may take before it is killed.
END_BOUND = 5.0


class WorkerLost(RuntimeError):
    """The measuring process died (killed, out of memory) before its frame's measure."""


class MeasureWorker:
    """One process measuring frames, one at a time, started at the first `measure`, ended by
    `close`."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()

    async def measure(self, data: bytes) -> FrameMeasure:
        """`data` (a FITS frame) measured in the worker; its errors raised here (`FITSError`,
        ValueError: not a frame), `WorkerLost` when the worker died meanwhile."""
        async with self._turn:
            process = self._process
            if process is None or process.returncode is not None:
                process = self._process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", __name__, str(os.getpid()),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    start_new_session=True)  # as a server starts its drivers: a ^C is the agent's
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(len(data).to_bytes(HEAD, "big") + data)
                await process.stdin.drain()
                size = int.from_bytes(await process.stdout.readexactly(HEAD), "big")
                ok, outcome = pickle.loads(await process.stdout.readexactly(size))
            except (OSError, asyncio.IncompleteReadError) as error:
                self._dropped(process)
                raise WorkerLost(f"the measuring worker died (exit {process.returncode}): "
                                 f"{error!r}") from error
            except BaseException:  # cancelled mid-frame: its answer would come to the next
                self._dropped(process)
                raise
        if not ok:
            raise outcome
        measured: FrameMeasure = outcome
        return measured

    def _dropped(self, process: asyncio.subprocess.Process) -> None:
        if self._process is process:
            self._process = None
        _reap(process)

    def pid(self) -> int | None:
        """The worker's process id (None: none running): the tests kill it."""
        return None if self._process is None else self._process.pid

    async def close(self) -> None:
        """The worker ended (its stdin closed: it ends after the frame it measures, killed
        past `END_BOUND`); a later `measure` starts another."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            await asyncio.wait_for(process.wait(), END_BOUND)
        finally:
            if process.returncode is None:  # late, or the run cancelled as its loop ends
                _reap(process)


def _reap(process: asyncio.subprocess.Process) -> None:
    """`process` killed and waited for here and now (a SIGKILLed child ends in a moment): a
    run cut short as its loop closes may never see the loop's watcher report it."""
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    transport = getattr(process, "_transport", None)  # asyncio says its Popen nowhere else
    popen = None if transport is None else transport.get_extra_info("subprocess")
    if isinstance(popen, subprocess.Popen):
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(END_BOUND)
    if transport is not None:
        transport.close()


def serve(parent: int, frames: BinaryIO, answers: BinaryIO) -> None:
    """The worker: each frame read from `frames` measured and its outcome written to
    `answers`, until `frames` ends (the agent closed it, or died)."""
    from .framemeasure import measure_frame
    while True:
        head = frames.read(HEAD)
        if len(head) < HEAD or os.getppid() != parent:
            return
        data = frames.read(int.from_bytes(head, "big"))
        try:
            reply = pickle.dumps((True, measure_frame(data)))
        except Exception as error:  # noqa: BLE001 - said to the agent, which logs it
            try:
                reply = pickle.dumps((False, error))
            except Exception:  # noqa: BLE001 - an error that does not pickle
                reply = pickle.dumps((False, ValueError(str(error))))
        answers.write(len(reply).to_bytes(HEAD, "big") + reply)
        answers.flush()


def main() -> None:
    """``python -m indipyagents.stars.measureworker PARENT_PID``: dies with its parent; its
    stdout kept for the answers (anything else printed goes to stderr)."""
    parent = int(sys.argv[1])
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the agent died before the signal was asked for
        return
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C is the agent's to act on
    serve(parent, sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
