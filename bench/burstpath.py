"""The server's own CPU per set of a burst, without the kernel or the event loop.

`python bench/burstpath.py` feeds a burst of setNumberVector elements, as the traffic driver
writes them, to an executable driver's real `InboundProtocol` in reads of `--read` bytes (64 KiB:
a burst's reads end inside an element), routed by the real `Router` to `--clients` real
`ClientConnection`s whose transports only count bytes, and reports microseconds per set. The
burst scenario of `run.py` measures the same path with a pipe, sockets and three busy processes
on two shared CPUs, where one rep can be half as fast as the next; this isolates the server's
part, so that a change to it can be judged in a few seconds (``--ours-root DIR`` measures the
server of another checkout, e.g. a ``git archive`` of another commit). Standard library only.
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


def _library_root(argv: list[str]) -> Path:
    """The checkout whose server is measured: ``--ours-root DIR``, else this one. Read before
    the imports below, which must come from it."""
    if "--ours-root" in argv[:-1]:
        return Path(argv[argv.index("--ours-root") + 1]).resolve()
    return HERE.parent


sys.path.insert(0, str(_library_root(sys.argv)))
sys.path.insert(1, str(HERE))

import indipyserver

# isort: split
# After the server's package: hotpath imports its modules (in folders, or from a checkout
# from before them) and gets them from the library chosen above.
from hotpath import Router
from hotpath import bench_client
from hotpath import bench_driver

from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State
from indipycore.protocol import serialise


def burst(count: int) -> bytes:
    """`count` sets of one property as the traffic driver writes them: the serialiser's lines,
    the member indented by two spaces. (`serialise` is in every checkout with the protocol
    core, whichever `--ours-root` gives.)"""
    return b"".join(
        serialise(SetNumberVector("Bench", "NUM", (Number("v", str(i)),), state=State.OK,
                                  timestamp=f"2026-11-23T06:33:42.{i % 1000:03d}"))
        .replace(b"\n<oneNumber", b"\n  <oneNumber")
        for i in range(count)
    )


async def measure(data: bytes, read: int, clients: int) -> tuple[float, list[bytes]]:
    """Seconds to route `data` fed in reads of `read` bytes; what each client got, the
    whitespace between elements aside."""
    router = Router()
    inbound, _to_driver = bench_driver(router)
    transports = [bench_client(router)[1] for _ in range(clients)]
    for transport in transports:
        transport.kept = []
    reads = [data[i : i + read] for i in range(0, len(data), read)]
    feed = inbound.data_received
    t0 = time.perf_counter()
    for chunk in reads:
        feed(chunk)
    elapsed = time.perf_counter() - t0
    # What each client got, the whitespace between elements aside (a run of sets goes on as
    # it came, newlines included; a set alone without the whitespace around it).
    got = [b"".join(bytes(k) for k in t.kept).replace(b">\n<", b"><") for t in transports]
    return elapsed, got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--sets", type=int, default=100_000)
    ap.add_argument("-r", "--reps", type=int, default=7)
    ap.add_argument("--read", type=int, default=1 << 16, metavar="BYTES",
                    help="bytes per read of the driver (default 65536)")
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--ours-root", metavar="DIR", default=None,
                    help="measure the indipyserver/indipydriver found in DIR")
    args = ap.parse_args()
    data = burst(args.sets)
    # Each set goes on as received, the newlines between elements aside.
    expected = data.replace(b">\n<", b"><").rstrip(b"\n")
    per_set = []
    for _ in range(args.reps):
        elapsed, written = asyncio.run(measure(data, args.read, args.clients))
        if any(w != expected for w in written):
            raise SystemExit(f"the clients got {[len(w) for w in written]} bytes, not the "
                             f"{len(expected)} sent: the bench is broken")
        per_set.append(elapsed / args.sets * 1e6)
    print(f"server burst path ({Path(indipyserver.__file__).parent.parent}): "
          f"{statistics.median(per_set):.2f} us per set "
          f"({args.clients} client(s), reads of {args.read:,} bytes; median of {args.reps} x "
          f"{args.sets:,} sets; min {min(per_set):.2f}, max {max(per_set):.2f})")


if __name__ == "__main__":
    main()
