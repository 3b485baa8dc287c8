"""The floor under the never-reading scenario: what keeping a stuck client's newest BLOB costs.

    python bench/holdfloor.py            # 50 BLOBs of 10 MiB (as run.py's), 9 rounds
    python bench/holdfloor.py -r 3 --count 5

`run.py -s slow` compares a fast client's speed beside a client that never reads with its speed
alone. Beside the stuck client our server keeps the newest BLOB for it (so that it gets the
latest image when it reads again), and it keeps it without a copy: the pieces of each BLOB
stay in the read buffers they arrived in until the next BLOB replaces them. So each BLOB is
read into a BLOB's worth of buffers, memory last touched a BLOB ago and long out of the CPU's
caches, where alone the same buffer or two are read into again and again while still cached.

This measures that difference with no server, no INDI and no asyncio: a child process writes
BLOBs into a pipe (raised to 1 MiB, as `drivers.stdio` does), this process reads them in reads of
``loop.readsizes.BLOB_READ_SIZE`` and writes each read on to a socket, which another child drains; the
reads go into

* ``one buffer`` -- the same buffer each time (what the server does when nobody is stuck);
* ``held pieces`` -- a BLOB's worth of buffers in turn (the server beside a stuck client);
* ``held copies`` -- one buffer, then each read copied into a BLOB's worth of held memory (the
  other way to keep the newest BLOB: not cheaper).

All buffers are written once before timing, so no page is faulted in while timing (a fresh
server pays that too, once: see ``--fresh``). It prints the medians of this process's CPU time
and of the wall time. The forwarding process is the bottleneck of such a chain, so ``one
buffer`` over ``held pieces`` (wall time) bounds the fast client's speed beside a stuck client
over its speed alone, for any server that keeps the newest BLOB without copying it. A server
slower than this forwarder pays the same milliseconds on a longer time: its bound is higher.
Standard library only; Linux (F_SETPIPE_SZ).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import statistics
import sys
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indipyserver.loop.readsizes import BLOB_READ_SIZE

F_SETPIPE_SZ = 1031
MODES = ("one buffer", "held pieces", "held copies")


def _driver(w: int, blob: bytes, total: int) -> None:
    view = memoryview(blob)
    sent = 0
    while sent < total:
        at = sent % len(blob)
        sent += os.write(w, view[at : at + min(len(blob) - at, total - sent)])


def _client(sock: socket.socket) -> None:
    sink = bytearray(1 << 20)
    while sock.recv_into(sink):
        pass


def _fork(close: list[int], work: object, *args: object) -> int:
    """A child doing `work`, with the ends it must not hold (`close`) closed: a pipe or socket
    ends only when every process has closed its writing end."""
    pid = os.fork()
    if pid == 0:  # the child: do its part, then leave without running the parent's cleanup
        try:
            for fd in close:
                os.close(fd)
            work(*args)  # type: ignore[operator]
        finally:
            os._exit(0)
    return pid


def forward(mode: str, blob: bytes, total: int) -> tuple[float, float]:
    """(CPU ms of this process, wall ms) to pass `total` bytes of BLOBs from a pipe to a socket,
    reading as `mode` says."""
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    ours, theirs = socket.socketpair()
    held = -(-len(blob) // BLOB_READ_SIZE)  # buffers a BLOB fills
    one = bytearray(BLOB_READ_SIZE)
    ring = [bytearray(BLOB_READ_SIZE) for _ in range(held if mode != "one buffer" else 0)]
    for buf in ring:  # faulted in now, not while timing
        buf[:] = bytes(BLOB_READ_SIZE)
    driver = _fork([r, ours.fileno(), theirs.fileno()], _driver, w, blob, total)
    client = _fork([r, w, ours.fileno()], _client, theirs)
    os.close(w)
    theirs.close()
    i = got = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while True:
        buf = ring[i] if mode == "held pieces" else one
        n = os.readv(r, [buf])
        if not n:
            break
        if mode == "held copies":
            ring[i][:n] = memoryview(one)[:n]
        if mode != "one buffer":
            i = (i + 1) % held
        ours.sendall(memoryview(buf)[:n])
        got += n
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    ours.close()
    os.close(r)
    os.waitpid(driver, 0)
    os.waitpid(client, 0)
    if got != total:
        raise RuntimeError(f"{mode}: passed {got} bytes of {total}")
    return cpu * 1000, wall * 1000


def fresh_ms(nbytes: int) -> float:
    """Wall ms to fault in `nbytes` of fresh memory in BLOB_READ_SIZE buffers."""
    t = time.perf_counter()
    bufs = [bytearray(BLOB_READ_SIZE) for _ in range(-(-nbytes // BLOB_READ_SIZE))]
    for buf in bufs:
        buf[::4096] = b"\x01" * len(range(0, BLOB_READ_SIZE, 4096))
    return (time.perf_counter() - t) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-r", "--rounds", type=int, default=9)
    ap.add_argument("--count", type=int, default=50, help="BLOBs a run (default 50)")
    ap.add_argument("--blob-mib", type=float, default=10,
                    help="decoded BLOB size in MiB (default 10; sent as base64)")
    ap.add_argument("--fresh", action="store_true",
                    help="also time faulting in two BLOBs' worth of fresh memory")
    args = ap.parse_args(argv)
    blob = os.urandom(int(args.blob_mib * (1 << 20) * 4 / 3))
    total = args.count * len(blob)
    runs: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    for k in range(args.rounds):
        for mode in MODES if k % 2 == 0 else MODES[::-1]:
            runs[mode].append(forward(mode, blob, total))
    base_wall = statistics.median(x[1] for x in runs["one buffer"])
    print(f"{args.rounds} rounds, {args.count} BLOBs of {args.blob_mib:g} MiB ({total / 1e6:.0f} "
          f"MB of base64), reads of {BLOB_READ_SIZE >> 10} KiB; medians")
    print("| reads go into | CPU ms | wall ms | wall over one buffer's |")
    print("|---|---:|---:|---:|")
    for mode in MODES:
        cpu, wall = (statistics.median(x[j] for x in runs[mode]) for j in (0, 1))
        print(f"| {mode} | {cpu:.1f} | {wall:.1f} | {wall / base_wall:.3f} |")
    held_wall = statistics.median(x[1] for x in runs["held pieces"])
    print(f"\nkeeping the newest BLOB without a copy costs {held_wall - base_wall:.1f} ms of "
          f"wall time more for {args.count} BLOBs: a forwarder as fast as this one is held to "
          f"{base_wall / held_wall:.3f} of its speed alone (a slower one to less of a loss)")
    if args.fresh:
        ms = statistics.median(fresh_ms(2 * len(blob)) for _ in range(args.rounds))
        print(f"faulting in two BLOBs' worth ({2 * len(blob) / 1e6:.0f} MB) of fresh memory: "
              f"{ms:.1f} ms (a fresh server pays it once, beside its first stuck client)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
