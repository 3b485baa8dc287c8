"""BLOB stream speed and each process's CPU time, for several servers or libraries alternated.

    python bench/blobspeed.py                                   # indiserver and this checkout
    python bench/blobspeed.py indiserver ours=/tmp/a ours=/tmp/b -r 6
    python bench/blobspeed.py --style oneline
    python bench/blobspeed.py --writes libindi --read-size 65536   # a libindi driver, a typical client

`run.py -s blob` gives the speed ratio; this also says where the time went: the CPU time
(``/proc/PID/stat``, all threads) of the server, of its driver and of the client (this
process) during each stream, so a change to the server's BLOB path can be judged by the
server's own CPU, which moves less than the speed on a shared machine. Each rep runs every
library once, in alternating order, on fresh servers as `run.py`'s blob scenario does (same
driver, BLOBs and -m). Standard library only.

The traffic driver is a script that writes its BLOBs as base64 itself, and stands for an
indilib driver too: ours gives it by default (``--shared-blobs auto``) its stdout on a
socketpair, as it gives an indilib driver and indiserver every driver, the servers then
relaying the same bytes from the same kind of descriptor (and the side channel beside it, on
which an ``IPyDriver`` would ask for a pipe; this driver does not). ``on`` gives it the same
socket without the side channel, as ``auto`` did before ``31241fb`` and does for an ELF
program; ``off`` a pipe, which costs the server and the driver more kernel time a byte
(RESULTS.md, "BLOBs back where they were"). Checkouts from ``31241fb`` to issue 79 gave a
script under ``auto`` a pipe: ``--shared-blobs on`` measures them on the socket.

``--writes libindi`` makes the driver write each BLOB in the pieces a libindi driver writes
(4096 bytes on a pipe, 64 KiB on the socketpair; `trafficdriver.py`; ``--shared-blobs off``
gives it a pipe under ours), and
``--read-size`` makes the client read that many bytes at a time, as clients other than the
bench's do: together they are the harness of issue 45 (RESULTS.md, "BLOBs on an independent
harness").
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rawclient
import run


def cpu_ms(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads) so far, in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def measure(kind: str, style: str, cfg: run.Config, writes: str = "whole",
            shared: str = "on") -> tuple[float, float, float, float]:
    """(MB/s, server CPU ms, driver CPU ms, client CPU ms) of one stream on a fresh server
    (`shared`: our ``--shared-blobs``)."""
    args = (*run.BIG_QUEUE, "--shared-blobs", shared) if kind == "ours" else run.BIG_QUEUE
    with run.Server(kind, args=args) as srv:
        (c,) = run.connect(srv, blobs=True)
        job = run.prepare(c, f"kind=blob count={cfg.blob_count} size={cfg.blob_size} "
                             f"style={style} ping=1 writes={writes}")
        kids = children(srv.proc.pid)
        s0, d0, c0 = cpu_ms(srv.proc.pid), sum(map(cpu_ms, kids)), time.process_time()
        r = run.stream(c, [c], job, "setBLOB", cfg.blob_count, timeout=300)
        s1, d1, c1 = cpu_ms(srv.proc.pid), sum(map(cpu_ms, kids)), time.process_time()
        c.close()
    speed = run.rate(r.counts[0] * cfg.blob_size / run.MB, r.ends[0] - r.t0)
    return speed, s1 - s0, d1 - d0, (c1 - c0) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("libraries", nargs="*", default=["indiserver", "ours"],
                    help="indiserver, ours (this checkout), ours=DIR (the indipyserver in DIR) "
                    "or sockfloor (floor.py's bare forwarder: no INDI server can beat it)")
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--style", choices=("libindi", "oneline"), default="libindi")
    ap.add_argument("--count", type=int, default=run.Config.blob_count, help="BLOBs a stream")
    ap.add_argument("--writes", choices=("whole", "libindi"), default="whole",
                    help="the driver writes a BLOB at once, or in libindi's pieces")
    ap.add_argument("--shared-blobs", choices=("auto", "on", "off"), default="auto",
                    help="ours: the driver's stdout a socketpair and a side channel where it "
                    "could ask for a pipe (auto, the default: what ours gives a script; "
                    "before issue 79, a pipe), a socketpair alone (on: what ours gives an "
                    "indilib driver, and indiserver every driver) or a pipe (off)")
    ap.add_argument("--read-size", type=int, default=rawclient.READ_SIZE,
                    help="bytes the client asks for per recv (default 1 MiB)")
    args = ap.parse_args(argv)
    rawclient.READ_SIZE = args.read_size
    cfg = run.Config(blob_count=args.count)
    libs = run.library_specs(args.libraries, ("indiserver", "ours", "sockfloor"))
    results: dict[str, list[tuple[float, float, float, float]]] = {}
    for i in range(args.reps):
        for spec, kind, root in libs if i % 2 == 0 else libs[::-1]:
            run.OURS_ROOT = root
            res = measure(kind, args.style, cfg, args.writes, args.shared_blobs)
            results.setdefault(spec, []).append(res)
            print(f"[rep {i + 1} {spec}] {res[0]:.0f} MB/s, CPU ms: server {res[1]:.0f}, "
                  f"driver {res[2]:.0f}, client {res[3]:.0f}", file=sys.stderr, flush=True)
    print(f"{args.reps} reps, {cfg.blob_count} BLOBs of {cfg.blob_size / 2**20:g} MiB, "
          f"{args.style} style, driver writes {args.writes}, ours --shared-blobs "
          f"{args.shared_blobs}, client reads {args.read_size:,} B;"
          f" medians (MB/s min-max); load {os.getloadavg()[0]:.1f}")
    print("| server | MB/s | MB/s min-max | x first | server CPU ms | driver CPU ms "
          "| client CPU ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    first = statistics.median(r[0] for r in results[libs[0][0]])
    for spec, _, _ in libs:
        runs = results[spec]
        speed, server, driver, client = (statistics.median(r[j] for r in runs) for j in range(4))
        lo, hi = min(r[0] for r in runs), max(r[0] for r in runs)
        print(f"| {spec} | {speed:,.0f} | {lo:,.0f}-{hi:,.0f} | {speed / first:.2f}x "
              f"| {server:,.0f} | {driver:,.0f} | {client:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
