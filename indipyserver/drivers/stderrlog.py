"""What an executable driver writes on its stderr, logged a line at a time and bounded.

A driver's stderr is text for people, not INDI, and not ours to trust: ``drivers.executable``
hands the stream to `log_stderr` for the life of the process, which logs each line with the
driver's name as indiserver prints it, and keeps a driver printing in a loop, or one huge
line, from filling memory or the disk with log.
"""

from __future__ import annotations

import asyncio
import logging

from indipycore.logbudget import WarningBudget
from indipyserver.drivers.driverconnection import DriverConnection

__all__ = ["MAX_STDERR_LINE", "STDERR_LINES", "STDERR_LINE_SHOWN", "log_stderr", "stderr_logger"]

#: What drivers write on stderr, one record per line (``Driver <name>: ...`` as indiserver
#: prints it); the ``indipyserver`` command shows it without ``-v``, as indiserver does.
stderr_logger = logging.getLogger("indipyserver.driver_stderr")

MAX_STDERR_LINE = 64 * 1024

#: Characters of one stderr line shown in the log, and lines logged per 10 s (``log_stderr``).
STDERR_LINE_SHOWN = 2000
STDERR_LINES = 200


async def log_stderr(stream: asyncio.StreamReader, driver: DriverConnection) -> None:
    """Log each stderr line with the driver's name (as indiserver's ``Driver <name>:``).

    Bounded, as what a driver prints is not ours to trust: a line is cut to
    STDERR_LINE_SHOWN characters (saying how long it was; one longer than MAX_STDERR_LINE
    is not even held, its rest skipped), and at most STDERR_LINES lines are logged per
    10 s, the next one logged saying how many were left out: a driver printing in a loop
    must not fill the disk with log.
    """
    budget = WarningBudget(STDERR_LINES, 10.0, noun="more lines of its stderr")
    pending = b""
    skipping = 0  # bytes of an overlong line dropped so far (0: not in one)
    while chunk := await stream.read(65536):
        if skipping:
            end = chunk.find(b"\n")
            if end < 0:
                skipping += len(chunk)
                continue
            _log_stderr_line(driver, pending, budget, skipping + end)
            pending, skipping = b"", 0
            chunk = chunk[end + 1:]
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _log_stderr_line(driver, line, budget, len(line))
        if len(pending) > MAX_STDERR_LINE:
            skipping = len(pending)
            pending = pending[:STDERR_LINE_SHOWN]
    if pending or skipping:
        _log_stderr_line(driver, pending, budget, skipping or len(pending))


def _log_stderr_line(driver: DriverConnection, line: bytes, budget: WarningBudget,
                     length: int) -> None:
    """Log `line` (the start of one `length` bytes long) if the budget allows."""
    if (note := budget.take()) is not None:
        text = line[: STDERR_LINE_SHOWN * 4].decode("utf-8", "replace").rstrip()
        if length > STDERR_LINE_SHOWN:
            text = f"{text[:STDERR_LINE_SHOWN]}... ({length} bytes)"
        stderr_logger.info("Driver %s: %s%s", driver.label, text, note)
