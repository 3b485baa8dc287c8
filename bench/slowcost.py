"""What a never-reading client costs our server: its CPU and page faults while BLOBs stream.

    python bench/slowcost.py                          # this checkout, 10 rounds
    python bench/slowcost.py ours=/tmp/a ours=/tmp/b  # two libraries, alternating
    python bench/slowcost.py --streams 2              # a second stream on the same server

`run.py -s slow` judges the fast client's speed beside the stuck one against solo runs; one run
lasts about 0.35 s and its speed moves by 10-15 % from run to run, so a cost of a few percent
hides in it. The server's own CPU time (``/proc/PID/schedstat``, in ns) and page faults
(``minflt``) during the stream move far less. Each round starts, per library, a fresh server
alone with the fast client and one with the never-reading client beside it (as run.py's slow
scenario does: same driver, BLOBs, -m and pause before the stream), alternating the order, and
this prints the medians. With ``--streams 2`` each server streams twice: the second stream shows
what remains once the server's memory has grown (a long-running server grows it once).
Standard library only.
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

import run


def usage(pid: int) -> tuple[float, int]:
    """(CPU ms, minor page faults) of process `pid` so far."""
    with open(f"/proc/{pid}/schedstat") as f:
        ns = int(f.read().split()[0])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return ns / 1e6, int(fields[7])


def measure(beside: bool, cfg: run.Config, streams: int) -> list[tuple[float, float, int]]:
    """(fast client MB/s, server CPU ms, server page faults) of each stream on one server."""
    spec = f"kind=blob count={cfg.slow_count} size={cfg.blob_size} style=libindi ping=1"
    out = []
    with run.Server("ours", args=() if beside else run.BIG_QUEUE) as srv:
        (fast,) = run.connect(srv, blobs=True)
        clients = [fast]
        if beside:
            clients += run.connect(srv, blobs=True, read=False)
        for _ in range(streams):
            time.sleep(run.SETTLE)
            job = run.prepare(fast, spec)
            cpu0, faults0 = usage(srv.proc.pid)
            r = run.stream(fast, clients, job, "setBLOB", cfg.slow_count, timeout=300,
                           require_done=False)
            cpu1, faults1 = usage(srv.proc.pid)
            speed = run.rate(r.counts[0] * cfg.blob_size / run.MB, r.ends[0] - r.t0)
            out.append((speed, cpu1 - cpu0, faults1 - faults0))
        for c in clients:
            c.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("libraries", nargs="*", default=["ours"],
                    help="ours (this checkout) or ours=DIR (the indipyserver in DIR)")
    ap.add_argument("-r", "--rounds", type=int, default=10)
    ap.add_argument("--streams", type=int, default=1, help="streams per server (default 1)")
    ap.add_argument("--count", type=int, default=run.Config.slow_count, help="BLOBs a stream")
    args = ap.parse_args(argv)
    cfg = run.Config(slow_count=args.count)
    libs = [(spec, root) for spec, _, root in run.library_specs(args.libraries)]
    results: dict[tuple[str, bool], list[list[tuple[float, float, int]]]] = {}
    for i in range(args.rounds):
        for spec, root in libs if i % 2 == 0 else libs[::-1]:
            run.OURS_ROOT = root
            for beside in (False, True) if i % 2 == 0 else (True, False):
                results.setdefault((spec, beside), []).append(measure(beside, cfg, args.streams))
    print(f"{args.rounds} rounds, {cfg.slow_count} BLOBs of {cfg.blob_size / 2**20:g} MiB a "
          "stream; medians")
    print("| library | clients | stream | fast client MB/s | server CPU ms | server page faults |")
    print("|---|---|---:|---:|---:|---:|")
    for spec, _ in libs:
        for beside in (False, True):
            runs = results[(spec, beside)]
            for k in range(args.streams):
                speed, cpu, faults = (statistics.median(r[k][j] for r in runs) for j in range(3))
                who = "fast + never-reading" if beside else "fast alone"
                print(f"| {spec} | {who} | {k + 1} | {speed:,.0f} | {cpu:.1f} | {faults:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
