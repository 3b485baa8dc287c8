"""A Python driver's BLOBs through a server: as memfds (``IPyDriver.shared_blobs``, the default
on a Unix-socket stdout) against inline base64 (``shared_blobs = False``), in the same run.

    python bench/pydriverblobs.py [--servers ours,indiserver] [--client tcp|unix]
                                  [--count 20] [--size 10000000] [-r 3]

``bench/pyblobdriver.py`` (an ``IPyDriver``, run as an executable by both servers: each gives
it a Unix socket as stdout) sends COUNT BLOBs of SIZE random bytes as a camera driver would;
one reading client (``enableBLOB Also``, on TCP or on the server's Unix socket ``-u``) times
from its request to the last ``</setBLOBVector>``. Fresh servers per run; the two modes
alternate every rep; medians and min-max, MB/s of decoded data. A TCP client of a memfd
driver makes the server encode (the driver did, inline); a Unix-socket client is passed the
memfd as it is. Standard library only (indiserver: Debian ``indi-bin``).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run
from rawclient import Hub
from rawclient import RawClient

DRIVER = HERE / "pyblobdriver.py"
MODES = {"memfd": "1", "inline": "0"}


def one_run(kind: str, mode: str, client: str, count: int, size: int) -> float:
    """MB/s of one run of `count` BLOBs on a fresh server."""
    env = {"BENCH_SHARED_BLOBS": MODES[mode], "BENCH_BLOB_SIZE": str(size)}
    with run.Server(kind, exe=DRIVER, args=run.BIG_QUEUE, env=env, unix=True) as srv:
        c = (RawClient(run.HOST, srv.port, "c") if client == "tcp"
             else RawClient(run.HOST, 0, "c", unix_path=srv.unix_path))
        c.send(run.GETPROPS + b'<enableBLOB device="PyCam">Also</enableBLOB>\n')
        hub = Hub([c])
        if not hub.run_until(lambda: c.defs() >= 2, 30):
            raise RuntimeError(f"{kind}: no definitions {srv.log_tail()}")
        c.watch("done", b"done")
        c.focus("setBLOB", "done")
        c.reset()
        began = time.perf_counter()
        c.send(b'<newNumberVector device="PyCam" name="GO"><oneNumber name="n">'
               + str(count).encode() + b"</oneNumber></newNumberVector>\n")
        ok = hub.run_until(lambda: c.counts["setBLOB"] >= count, 300)
        ended = time.perf_counter()
        hub.close()
        c.close()
        if not ok:
            raise RuntimeError(f"{kind} {mode}: {c.counts['setBLOB']} of {count} BLOBs "
                               f"{srv.log_tail()}")
    return run.rate(count * size / run.MB, ended - began)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="ours,indiserver")
    ap.add_argument("--client", choices=("tcp", "unix"), default="tcp")
    ap.add_argument("--count", type=int, default=20, help="BLOBs a run")
    ap.add_argument("--size", type=int, default=10_000_000, help="bytes a BLOB")
    ap.add_argument("-r", "--reps", type=int, default=3)
    args = ap.parse_args(argv)
    kinds = args.servers.split(",")
    rates: dict[tuple[str, str], list[float]] = {}
    for rep in range(args.reps):
        for kind in kinds if rep % 2 == 0 else kinds[::-1]:
            for mode in MODES if rep % 2 == 0 else list(MODES)[::-1]:
                rate = one_run(kind, mode, args.client, args.count, args.size)
                rates.setdefault((kind, mode), []).append(rate)
                print(f"[rep {rep + 1}] {kind} {mode}: {rate:,.0f} MB/s", file=sys.stderr,
                      flush=True)
    print(f"{args.reps} reps, {args.count} BLOBs of {args.size:,} bytes from a Python driver, "
          f"one {args.client} client; medians (min-max)")
    print("| server | memfd MB/s | inline MB/s | memfd / inline |")
    print("|---|---:|---:|---:|")
    for kind in kinds:
        memfd, inline = rates[(kind, "memfd")], rates[(kind, "inline")]
        m, i = statistics.median(memfd), statistics.median(inline)
        print(f"| {kind} | {m:,.0f} ({min(memfd):,.0f}-{max(memfd):,.0f}) "
              f"| {i:,.0f} ({min(inline):,.0f}-{max(inline):,.0f}) | {m / i:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
