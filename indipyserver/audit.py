"""The audit trail (``--audit FILE``): one JSON object a line for every new*Vector received.

Each line: ``time`` (ISO 8601, UTC), ``identity``, ``peer`` (address), ``device``, ``vector``,
``tag``, ``values`` (member name -> value as sent; a BLOB's ``{"size": bytes, "format": ...}``,
never its bytes) and ``allowed`` (what the access rules decided).

The event loop never writes the file: it puts the entry on a bounded queue (`record`) and a
thread of the trail's own writes and flushes what the queue holds. When the disk is slow and
the queue fills, nothing is dropped silently: `record` returns False and the command is
refused -- not passed to its driver, the client told why (``routing.access.ClientGuard``) --
and counted; the next line the trail writes says how many were refused so
(``{"refused_unrecorded": N, ...}``). Nothing is done to a device that the trail does not show. A
write that fails (disk full) is logged and retried each second, the queue filling meanwhile.
SIGHUP reopens the file (``reopen``), for logrotate.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from datetime import UTC
from datetime import datetime
from typing import Any

from indipycore.logbudget import WarningBudget
from indipycore.protocol.errors import ProtocolError
from indipycore.protocol.framing import Frame
from indipycore.protocol.memberevents import BLOB
from indipycore.protocol.parser import parse_element
from indipyserver.routing.ports import ClientPort

__all__ = ["AuditTrail", "audit_entry"]

logger = logging.getLogger("indipyserver.audit")

#: Entries waiting for the writer; past this, commands are refused until it catches up.
DEFAULT_QUEUE = 10_000
_STOP = object()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def audit_entry(client: ClientPort, frame: Frame, allowed: bool) -> dict[str, Any]:
    """The trail's line for a client's new*Vector (`frame`), as a dict."""
    attrs = frame.attrs
    values: dict[str, Any] = {}
    try:
        event = parse_element(bytes(frame.data))
    except ProtocolError as exc:
        values = {"unreadable": str(exc)[:200]}
    else:
        for member in getattr(event, "members", ()):
            if isinstance(member, BLOB):
                values[member.name] = {"size": len(member.data), "format": member.format}
            else:
                value = member.value
                values[member.name] = value if isinstance(value, str) else str(value.value)
    return {"time": _now(), "identity": client.identity, "peer": client.peer,
            "device": attrs.get("device", ""), "vector": attrs.get("name", ""),
            "tag": frame.tag, "values": values, "allowed": allowed}


class AuditTrail:
    """The file, its bounded queue and its writer thread. Open (an OSError: it cannot be
    written) at once, so a bad path stops the server at start."""

    def __init__(self, path: str | os.PathLike[str], queue_size: int = DEFAULT_QUEUE) -> None:
        if queue_size < 2:
            raise ValueError("the audit queue holds at least 2 entries")
        self.path = os.fspath(path)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  # held open
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._refused = 0  # commands refused since the last line written: the loop's count
        self._reopen = threading.Event()
        self._warnings = WarningBudget()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the writer (once; again after `close`, the file reopened)."""
        if self._file.closed:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        if self._thread is None:
            self._thread = threading.Thread(target=self._write_loop, name="indipyserver audit",
                                            daemon=True)
            self._thread.start()

    def __call__(self, client: ClientPort, frame: Frame, allowed: bool) -> bool:
        """`record` of a client's command (the router's guard calls this)."""
        return self.record(audit_entry(client, frame, allowed))

    def record(self, entry: dict[str, Any]) -> bool:
        """Queue `entry`; False (and counted, to be written later) when the queue is full."""
        try:
            if self._refused:
                self._queue.put_nowait({"time": _now(), "refused_unrecorded": self._refused})
                self._refused = 0
            self._queue.put_nowait(entry)
        except queue.Full:
            self._refused += 1
            if (note := self._warnings.take()) is not None:
                logger.error("audit trail %s is behind (its queue of %d is full): a command is "
                             "refused%s", self.path, self._queue.maxsize, note)
            return False
        return True

    def reopen(self) -> None:
        """Close and reopen the file before the next write (SIGHUP, after logrotate)."""
        self._reopen.set()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer and close the file."""
        if self._thread is not None:
            try:
                if self._refused:  # the refusals since the last line, said last
                    self._queue.put({"time": _now(), "refused_unrecorded": self._refused},
                                    timeout=timeout)
                    self._refused = 0
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                logger.error("audit trail %s: the writer did not catch up; closing", self.path)
            self._thread.join(timeout)
            self._thread = None
        self._file.close()

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            lines = "".join(json.dumps(e, ensure_ascii=False) + "\n"
                            for e in batch if e is not _STOP)
            self._write(lines)
            if stop:
                return

    def _write(self, lines: str) -> None:
        """Write and flush `lines`, retrying each second until the disk takes them."""
        while True:
            try:
                if self._reopen.is_set():
                    self._reopen.clear()
                    self._file.close()
                    self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
                if lines:
                    self._file.write(lines)
                    self._file.flush()
                return
            except (OSError, ValueError) as exc:
                logger.error("audit trail %s cannot be written (%s): retrying", self.path, exc)
                self._reopen.set()  # a fresh handle: the old one may be what failed
                threading.Event().wait(1.0)
