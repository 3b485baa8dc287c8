"""The benchmarks' child processes: stopping one started in a session of its own, and what
/proc says of one (CPU seconds, resident memory). Standard library only."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any


def stop_group(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """SIGTERM to the process group of `proc` (started with ``start_new_session=True``, so its
    own children go too), SIGKILL after `timeout` seconds; `proc` is reaped."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """A process's resident memory now, MiB (0.0 when /proc does not say)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
