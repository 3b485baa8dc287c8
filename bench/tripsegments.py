"""Where a round trip goes inside each server and its driver, from their syscalls (Linux, perf).

    python bench/tripsegments.py ours=/tmp/rt-base ours            # 81ee8a9 against this tree
    python bench/tripsegments.py ours ours=/tmp/pipe-copy -r 3      # any servers of ours

`roundtrip_ab.py` says which server is faster; this says where. The servers are started and
their trips rotated as there (one client, the traffic driver), while ``perf record`` takes
every syscall's entry and exit of each server and its driver. A server's clean trip is the
sequence epoll_wait -> read (the client's request) -> write (to the driver) -> sched_yield ->
read or recvmsg (the driver's answer, first try) -> write (to the client) -> sched_yield ->
epoll_wait, and the gaps between those events are its segments, in microseconds (median and
mean over the clean trips): the syscalls themselves (``*_call``, kernel time) and the Python
between them (``pre``: from the request's read to the write to the driver; ``post``: from the
answer's read to the write to the client; ``leftover``: after handing the client the CPU,
until the server sleeps again, which in an A/B falls into the other server's trip when the
two share a CPU). ``yield1`` is the driver's turn as the server sees it. The driver's
``drv_work`` (its read to its write) and ``drv_write`` (its write, kernel) come from its own
syscalls. Trips with a failed first read (the answer not there yet) are left out and counted.
perf's tracing makes every syscall slower; compare servers within one run. Standard library
only; needs ``perf`` and permission to trace the servers.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run
from indirequests import new_number
from rawclient import Hub
from roundtrip_ab import _start

NR_READ, NR_WRITE, NR_YIELD, NR_RECVMSG, NR_EPOLL_WAIT = 0, 1, 24, 47, 232  # x86-64
_EVENT = re.compile(
    r"^\s*(\d+)\s+\[\d+\]\s+([\d.]+):\s+raw_syscalls:sys_(enter|exit):\s+NR (\d+) (.*)$"
)

Call = tuple[str, int, int, float]  # ("enter" | "exit", syscall number, fd or result, us)

#: A server's segments, by the events of a clean trip they lie between: 0 epoll_wait's exit,
#: 1-2 the request's read, 3-4 the write to the driver, 5-6 sched_yield, 7-8 the answer's read,
#: 9-10 the write to the client, 11-12 sched_yield, 13 epoll_wait's entry.
SEGMENTS = {"wake_to_read": (0, 1), "read_call": (1, 2), "pre": (2, 3), "wd_call": (3, 4),
            "to_yield1": (4, 5), "yield1": (5, 6), "to_answer": (6, 7), "answer_call": (7, 8),
            "post": (8, 9), "wc_call": (9, 10), "to_yield2": (10, 11), "leftover": (12, 13),
            "request_to_answer": (2, 9)}


def calls(perf_data: Path, tids: set[int]) -> dict[int, list[Call]]:
    """Each task's syscalls, in order."""
    out = subprocess.run(
        ["perf", "script", "--ns", "-i", str(perf_data), "-F", "tid,cpu,time,event,trace"],
        capture_output=True, text=True, check=True,
    ).stdout
    found: dict[int, list[Call]] = collections.defaultdict(list)
    for line in out.splitlines():
        m = _EVENT.match(line)
        if m is None or int(m[1]) not in tids:
            continue
        rest = m[5]
        if m[3] == "enter":
            value = int(rest.split(",")[0].lstrip("("), 16)  # the first argument: an fd
        else:
            value = int(rest.split("=")[1])  # the result
        found[int(m[1])].append((m[3], int(m[4]), value, float(m[2]) * 1e6))
    return found


def server_segments(seq: list[Call]) -> tuple[dict[str, list[float]], int]:
    """The segments of each clean trip of one server, and how many trips had a failed read."""
    seg: dict[str, list[float]] = collections.defaultdict(list)
    failed = 0
    i = 0
    while i < len(seq):
        kind, nr, value, t = seq[i]
        i += 1
        if not (kind == "exit" and nr == NR_EPOLL_WAIT and value > 0):
            continue
        want = [("enter", (NR_READ,)), ("exit", (NR_READ,)), ("enter", (NR_WRITE,)),
                ("exit", (NR_WRITE,)), ("enter", (NR_YIELD,)), ("exit", (NR_YIELD,)),
                ("enter", (NR_READ, NR_RECVMSG)), ("exit", (NR_READ, NR_RECVMSG)),
                ("enter", (NR_WRITE,)), ("exit", (NR_WRITE,)), ("enter", (NR_YIELD,)),
                ("exit", (NR_YIELD,)), ("enter", (NR_EPOLL_WAIT,))]
        times = [t]
        j = i
        for want_kind, nrs in want:
            while j < len(seq) and not (seq[j][0] == want_kind and seq[j][1] in nrs):
                if seq[j][:2] == ("enter", NR_EPOLL_WAIT):
                    break  # the server slept before the trip was whole
                j += 1
            if j == len(seq) or not (seq[j][0] == want_kind and seq[j][1] in nrs):
                break
            if len(times) == 8 and seq[j][2] < 0:  # the answer's first read found nothing
                failed += 1
                break
            times.append(seq[j][3])
            j += 1
        if len(times) != len(want) + 1:
            continue
        for name, (a, b) in SEGMENTS.items():
            seg[name].append(times[b] - times[a])
        i = j
    return seg, failed


def driver_segments(seq: list[Call]) -> dict[str, list[float]]:
    seg: dict[str, list[float]] = collections.defaultdict(list)
    for a, b, c in zip(seq, seq[1:], seq[2:]):
        if (a[:2] == ("exit", NR_READ) and a[2] > 0 and b[:2] == ("enter", NR_WRITE)
                and c[0] == "exit"):
            seg["drv_work"].append(b[3] - a[3])
            seg["drv_write"].append(c[3] - b[3])
    return seg


def _child(pid: int) -> int:
    """The first child of process `pid` (a server's driver)."""
    return int(Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0])


def rep(specs: list[str], trips: int, first: int, work: Path,
        number: int) -> dict[str, dict[str, list[float]]]:
    """One rep: fresh servers, `trips` rotated trips under perf, each server's segments."""
    order = specs[first:] + specs[:first]
    found: dict[str, dict[str, list[float]]] = {}
    with contextlib.ExitStack() as stack:
        servers = {spec: stack.enter_context(_start(spec)) for spec in order}
        clients = {spec: run.connect(srv)[0] for spec, srv in servers.items()}
        time.sleep(run.RT_SETTLE)
        hubs = {spec: Hub([c]) for spec, c in clients.items()}
        drivers = {spec: _child(srv.proc.pid) for spec, srv in servers.items()}
        data = work / f"rep{number}.data"
        pids = ",".join(f"{srv.proc.pid},{drivers[spec]}" for spec, srv in servers.items())
        perf = subprocess.Popen(["perf", "record", "-q", "-o", str(data), "-e",
                                 "raw_syscalls:sys_enter,raw_syscalls:sys_exit", "-p", pids],
                                stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        for i in range(trips):
            for spec in order:
                c = clients[spec]
                want = c.counts["setNumber"] + 1
                c.send(new_number("Bench", "NUM", "v", i))
                if not hubs[spec].run_until(partial(run._has_sets, c, want), 10):
                    raise RuntimeError(f"round trip timed out on {spec}")
        perf.send_signal(signal.SIGINT)
        perf.wait()
        for hub in hubs.values():
            hub.close()
        for c in clients.values():
            c.close()
        seqs = calls(data, {srv.proc.pid for srv in servers.values()} | set(drivers.values()))
        for spec, srv in servers.items():
            seg, failed = server_segments(seqs[srv.proc.pid])
            seg.update(driver_segments(seqs[drivers[spec]]))
            seg["failed_first_read"] = [float(failed)]
            found[spec] = seg
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("servers", nargs="+", help="ours or ours=DIR, as roundtrip_ab.py takes them")
    ap.add_argument("-n", "--trips", type=int, default=2000, help="trips per server per rep")
    ap.add_argument("-r", "--reps", type=int, default=2)
    args = ap.parse_args(argv)
    total: dict[str, dict[str, list[float]]] = {
        s: collections.defaultdict(list) for s in args.servers
    }
    with tempfile.TemporaryDirectory(prefix="tripsegments-") as work:
        for number in range(args.reps):
            for spec, seg in rep(args.servers, args.trips, number % len(args.servers), Path(work),
                                 number).items():
                for name, values in seg.items():
                    total[spec][name] += values
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f}; {args.reps} reps x {args.trips} "
          "trips; us, median / mean over clean trips")
    print("| segment | " + " | ".join(args.servers) + " |\n|---|" + "---:|" * len(args.servers))
    for name in total[args.servers[0]]:
        cells = []
        for spec in args.servers:
            values = total[spec].get(name, [])
            if name == "failed_first_read":
                cells.append(f"{sum(values):.0f}")
            else:
                cells.append(f"{statistics.median(values):.2f} / {statistics.mean(values):.2f}"
                             if values else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
