"""The night's journal on disk: append-only, one record a line, each line on disk (fsynced)
before the call returns, so a SIGKILL or a power cut loses at most the line being written.

A night is a few hundred lines, so the cost of an fsync a line does not matter and the file is
read whole. Opening it for writing cuts a torn last line off (the record a killed writer left
half written) and takes an exclusive lock, so two agents never write one journal; the lock
goes with the process, so a killed writer leaves none behind.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable
from collections.abc import Sequence
from datetime import UTC
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from typing import Self

from .durable import fsync_folder
from .durable import sync
from .records import JournalError
from .records import JournalState
from .records import Record
from .records import decode
from .records import encode
from .records import fold
from .records import plan_digest

log = logging.getLogger(__name__)


class Journal:
    """The journal at `path`. Reading (`records`, `state`) needs no lock; the first record
    written opens the file, repairs a torn tail and locks it until `close`.

    `before_write` sees each record just before it is written: what it raises stops the
    write, nothing of the record on disk (how a test kills the writer between two records,
    as a SIGKILL would, without reaching into the writing itself). `clock` stamps each record's
    ``time`` (a test's night drawn at fixed hours: `timeline`).

    `watchers` see each record once it is on disk (the night told to its owner,
    `indipyagents.notify`): what one raises is logged, never the writer's failure."""

    def __init__(self, path: str | os.PathLike[str], *,
                 before_write: Callable[[Record], None] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self.before_write = before_write
        self.clock = clock or (lambda: datetime.now(UTC))
        self.watchers: list[Callable[[Record], None]] = []
        self._fd: int | None = None

    # --- reading ---------------------------------------------------------------------------

    def records(self) -> list[Record]:
        """Every whole record, in order; a torn last line is left out, a corrupt line raises
        `JournalError` naming it."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return decode(data, str(self.path))[0]

    def state(self) -> JournalState:
        return fold(self.records())

    # --- writing ---------------------------------------------------------------------------

    def start(self, plan_name: str, plan_text: str) -> None:
        """The night begins: the plan's name, its text whole (a restart runs the very same
        plan) and its sha256. A journal holds one plan: a second start is refused."""
        self._open()
        state = self.state()
        if state.started:
            raise JournalError(str(self.path), 0,
                               f"already holds the plan {state.plan_name!r}: resume it, or "
                               "start the night in a new journal")
        self._append({"kind": "start", "plan": plan_name, "sha256": plan_digest(plan_text),
                      "text": plan_text})

    def begin(self, step_id: str) -> None:
        self._append({"kind": "begin", "step": step_id})

    def frame_saved(self, step_id: str, file: str, size: int, sha256: str, *,
                    recovered: bool = False) -> None:
        """A frame is on disk under `file` (after `FrameStore.save` returned); `recovered`:
        found on disk at a restart, its record lost to the crash."""
        record: Record = {"kind": "frame", "step": step_id, "file": file, "size": size,
                          "sha256": sha256}
        if recovered:
            record["recovered"] = True
        self._append(record)

    def frame_graded(self, step_id: str, file: str, measure: dict[str, Any], verdict: str,
                     reasons: Sequence[str] = ()) -> None:
        """The frame `file` of `step_id` (as its ``frame`` record names it) measured and
        judged: `verdict` "accepted" or "rejected" (then for `reasons`; its step is no longer
        done, `records.fold`)."""
        self._append({"kind": "graded", "step": step_id, "file": file, "measure": measure,
                      "verdict": verdict, "reasons": list(reasons)})

    def done(self, step_id: str) -> None:
        self._append({"kind": "done", "step": step_id})

    def note(self, kind: str, **data: Any) -> None:
        """The sequencer's own bookkeeping (e.g. ``note("autofocus", position=..., time=...)``):
        the latest data of each `kind` is in `JournalState.notes`."""
        self._append({"kind": "note", "note": kind, "data": data})

    def paused(self, reason: str) -> None:
        self._append({"kind": "paused", "reason": reason})

    def resumed(self) -> None:
        self._append({"kind": "resumed"})

    def aborted(self, reason: str) -> None:
        self._append({"kind": "aborted", "reason": reason})

    def finished(self) -> None:
        self._append({"kind": "finished"})

    def close(self) -> None:
        """Release the file and its lock (a killed process releases them too)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _append(self, record: Record) -> None:
        if self.before_write is not None:
            self.before_write(record)
        line = encode({**record, "time": self.clock().isoformat(timespec="milliseconds")})
        fd = self._open()
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view):]
        sync(fd)
        for watcher in self.watchers:
            try:
                watcher(record)
            except Exception:
                log.exception("a watcher of %s failed", self.path)

    def _open(self) -> int:
        """The file opened for appending and locked, its torn tail (if any) cut off."""
        if self._fd is not None:
            return self._fd
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(str(self.path), 0, "another process is writing it") from None
        try:
            self._repair(fd)
        except BaseException:
            os.close(fd)
            raise
        if created:
            fsync_folder(self.path.parent)
        self._fd = fd
        return fd

    def _repair(self, fd: int) -> None:
        """Cut a torn last line off, so the next record starts a line of its own; refuse to
        append to a journal with a corrupt line."""
        data = self.path.read_bytes()
        whole = decode(data, str(self.path))[1]
        if whole < len(data):
            os.ftruncate(fd, whole)
            sync(fd)
            log.warning("%s: cut off a torn last line (%d bytes), a record whose writer was "
                        "killed", self.path, len(data) - whole)
