"""A watchdog process that stops the bridge tests' servers if pytest itself dies.

Fixture teardown stops what a test started, but not when pytest is killed (a CI timeout's
SIGTERM or SIGKILL, a closed terminal): indiserver, redis-server and mosquitto run in sessions
of their own and would live on, holding ports and, for indiserver, its drivers. So each test
session starts one ``Reaper``: a small Python process in its own session, fed on a pipe with
the process groups the fixtures start (``watch``) and stop (``release``). When the pipe closes
-- pytest ended, however -- it sends SIGTERM to every group still listed, then SIGKILL to those
left after two seconds. A group is only signalled while its leader is the process that was
registered (the start time in ``/proc/<pid>/stat`` is checked), so a reused pid is left alone.
"""

from __future__ import annotations

import subprocess
import sys
from typing import IO

WATCHDOG = r"""
import os, signal, sys, time

signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is pytest's to handle; EOF is ours


def started(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


groups = {}
for line in sys.stdin:
    sign, pid = line[0], int(line[1:])
    if sign == "+":
        groups[pid] = started(pid)
    else:
        groups.pop(pid, None)
alive = {pid for pid, when in groups.items() if when is not None and started(pid) == when}
for sig in (signal.SIGTERM, signal.SIGKILL):
    for pid in alive:
        try:
            os.killpg(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + 2
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = {pid for pid in alive if started(pid) == groups[pid]}
"""


class Reaper:
    """See the module docstring. ``watch(pid)`` takes the pid of a process started with
    ``start_new_session=True`` (so its pid is its process group)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", WATCHDOG], stdin=subprocess.PIPE,
                                        start_new_session=True, text=True)
        assert self.process.stdin is not None
        self.pipe: IO[str] = self.process.stdin

    def watch(self, pid: int) -> None:
        self.pipe.write(f"+{pid}\n")
        self.pipe.flush()

    def release(self, pid: int) -> None:
        self.pipe.write(f"-{pid}\n")
        self.pipe.flush()

    def close(self) -> None:
        """End of the session: whatever is still listed is stopped now."""
        self.pipe.close()
        self.process.wait(10)
