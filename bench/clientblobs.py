"""Our client library taking a driver's BLOBs over TCP against the server's Unix socket
(``localhost:PATH``, memfds passed beside the elements), in the same run.

    python bench/clientblobs.py [--servers ours,indiserver] [--count 20] [--size 10000000]
                                [-r 3]

``bench/pyblobdriver.py`` (an ``IPyDriver`` run as an executable, its stdout a Unix socket:
it attaches each BLOB as a memfd) sends COUNT BLOBs of SIZE random bytes under a fresh
server per run (``python -m indipyserver -u`` or indiserver). The client is
``indipyclient.connect()`` in this process: over TCP the server encodes each memfd and the
client decodes the base64; on the Unix socket it passes the memfd and the client reads it once
(``Connection.attached_received`` counts them). Timed from the request to the ``done`` after
the last BLOB; each BLOB's bytes are checked against the first one's length. Reports MB/s of
decoded data and this process's CPU (the client's: user + system) per BLOB; the two ways
alternate every rep; medians and min-max.
"""

from __future__ import annotations

import argparse
import asyncio
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
sys.path.insert(0, str(HERE.parent))

import run

import indipyclient

DRIVER = HERE / "pyblobdriver.py"
WAYS = ("tcp", "unix")


async def take(host: str, port: int, count: int, size: int) -> tuple[float, float, int]:
    """(seconds, CPU seconds of this process, BLOBs received as memfds) for `count` BLOBs."""
    async with indipyclient.connect(host, port, connect_timeout=15) as client:
        await client.wait_for("PyCam", "IMG", timeout=15)
        await client.send_enableBLOB("Also", "PyCam")
        await client.wait_for("PyCam", "GO", timeout=15)
        events = client.events()
        got = 0
        began, cpu = time.perf_counter(), time.process_time()
        await client.set("PyCam", "GO", {"n": count}, wait=False)
        async for event in events:
            if event.eventtype == "SetBLOB" and event.vectorname == "IMG":
                data = event["data"]
                if len(data) != size:
                    raise RuntimeError(f"a BLOB of {len(data)} bytes, not {size}")
                got += 1
            elif (event.eventtype == "Set" and event.vectorname == "GO"
                  and event.message == "done"):
                break
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        if got != count:
            raise RuntimeError(f"{got} of {count} BLOBs")
        return seconds, cpu, client.connection.attached_received


def one_run(kind: str, way: str, count: int, size: int) -> tuple[float, float]:
    """(MB/s, client CPU ms per BLOB) of one run on a fresh server."""
    env = {"BENCH_SHARED_BLOBS": "1", "BENCH_BLOB_SIZE": str(size)}
    with run.Server(kind, exe=DRIVER, args=run.BIG_QUEUE, env=env, unix=True) as srv:
        host, port = ((run.HOST, srv.port) if way == "tcp"
                      else (f"localhost:{srv.unix_path}", 0))
        seconds, cpu, attached = asyncio.run(take(host, port, count, size))
    if attached != (count if way == "unix" else 0):
        raise RuntimeError(f"{kind} {way}: {attached} of {count} BLOBs came as memfds")
    return run.rate(count * size / run.MB, seconds), cpu * 1000 / count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="ours,indiserver")
    ap.add_argument("--count", type=int, default=20, help="BLOBs a run")
    ap.add_argument("--size", type=int, default=10_000_000, help="bytes a BLOB")
    ap.add_argument("-r", "--reps", type=int, default=3)
    args = ap.parse_args(argv)
    kinds = args.servers.split(",")
    got: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for rep in range(args.reps):
        for kind in kinds if rep % 2 == 0 else kinds[::-1]:
            for way in WAYS if rep % 2 == 0 else WAYS[::-1]:
                rate, cpu = one_run(kind, way, args.count, args.size)
                got.setdefault((kind, way), []).append((rate, cpu))
                print(f"[rep {rep + 1}] {kind} {way}: {rate:,.0f} MB/s, client CPU "
                      f"{cpu:.1f} ms a BLOB", file=sys.stderr, flush=True)
    print(f"{args.reps} reps, {args.count} BLOBs of {args.size:,} bytes from a Python driver "
          f"(memfds), to indipyclient.connect(); medians (min-max)")
    print("| server | way | MB/s | client CPU ms a BLOB |")
    print("|---|---|---:|---:|")
    for kind in kinds:
        for way in WAYS:
            rates = [r for r, _ in got[(kind, way)]]
            cpus = [c for _, c in got[(kind, way)]]
            print(f"| {kind} | {way} | {statistics.median(rates):,.0f} "
                  f"({min(rates):,.0f}-{max(rates):,.0f}) | {statistics.median(cpus):.1f} "
                  f"({min(cpus):.1f}-{max(cpus):.1f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
