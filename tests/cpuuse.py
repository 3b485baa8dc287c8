"""The CPU each test costs, with every process it starts (issue 90 item 6): the suite's wall
time on two cores is bound by its CPU as much as by its waits, and a test's wall time says
nothing of the simulators, servers and browsers it keeps busy.

``INDIPY_TEST_CPU=FOLDER`` makes every pytest process (each xdist worker) write one line per
test to ``FOLDER/cpu-<pid>.tsv``: seconds of CPU, seconds of wall, node id. A test's CPU is the
change, from its setup's start to its teardown's end, of: the worker's own CPU and that of the
children it reaped, plus the CPU of every process still below the worker (with what each of
those reaped: a server's drivers). A process that leaves the tree without being reaped by it
is kept: each pytest process is the subreaper of its tree (`_adopt_orphans`), so an orphan
becomes its child and, never reaped, still counts as a zombie. ``python tests/cpuuse.py
FOLDER`` prints the costliest tests and folders.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

_TICK = os.sysconf("SC_CLK_TCK")
_PR_SET_CHILD_SUBREAPER = 36


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, seconds of CPU with what it reaped) of a process, or None once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    # After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), counted from 1.
    return int(fields[1]), sum(int(f) for f in fields[11:15]) / _TICK


def tree_cpu(root: int | None = None) -> float:
    """Seconds of CPU of this process, what it reaped, and every live process below it."""
    root = os.getpid() if root is None else root
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(entry)) is not None:
            stats[int(entry)] = stat
    below: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in stats.items():
        below[ppid].append(pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    todo = list(below[root])
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(below[pid])
    return total


class CpuUse:
    """The plugin: one line per test in its worker's file."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"cpu-{os.getpid()}.tsv"

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        cpu, wall = tree_cpu(), time.monotonic()
        yield
        cpu, wall = tree_cpu() - cpu, time.monotonic() - wall
        with self.path.open("a") as out:
            out.write(f"{cpu:.2f}\t{wall:.2f}\t{item.nodeid}\n")


def _adopt_orphans() -> None:
    """Make this process the child subreaper of everything below it (prctl
    PR_SET_CHILD_SUBREAPER): a process whose parent dies first (a Chromium renderer, when the
    browser process is killed with its group on close) becomes our child instead of init's.
    Left unreaped, as a zombie it keeps its CPU in /proc, so `tree_cpu` still counts it; without
    this, closing a browser took ~2/3 of its CPU out of the tree (a negative test)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def register(config: pytest.Config) -> None:
    """Called from conftest's pytest_configure: on only when INDIPY_TEST_CPU names a folder."""
    folder = os.environ.get("INDIPY_TEST_CPU")
    if folder:
        _adopt_orphans()
        config.pluginmanager.register(CpuUse(Path(folder)), "indipy-cpuuse")


def report(folder: Path, top: int = 40) -> str:
    """The costliest tests, and the CPU per test folder, from a run's files."""
    rows: list[tuple[float, float, str]] = []
    for path in folder.glob("cpu-*.tsv"):
        for line in path.read_text().splitlines():
            cpu, wall, nodeid = line.split("\t", 2)
            rows.append((float(cpu), float(wall), nodeid))
    rows.sort(reverse=True)
    folders: dict[str, float] = defaultdict(float)
    for cpu, _, nodeid in rows:
        folders[str(Path(nodeid.split("::")[0]).parent)] += cpu
    lines = [f"{len(rows)} tests, {sum(r[0] for r in rows):.0f} s CPU, "
             f"{sum(r[1] for r in rows):.0f} s wall summed"]
    lines += [f"{cpu:7.1f} {wall:7.1f}  {nodeid}" for cpu, wall, nodeid in rows[:top]]
    lines += ["", "CPU by folder:"]
    lines += [f"{cpu:7.1f}  {name}" for name, cpu in
              sorted(folders.items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(report(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 40)
                     + "\n")
