"""Round trips through two servers side by side, over many fresh pairs: is B faster than A?

    python bench/roundtrip_ab.py indiserver ours            # ours against indiserver
    python bench/roundtrip_ab.py ours ours=/tmp/other       # this checkout against another one
    python bench/roundtrip_ab.py ours ours                  # the same server twice (A/A)
    python bench/roundtrip_ab.py indiserver rawfloor        # a bare forwarder (floor.py)
    python bench/roundtrip_ab.py --lo-multicast ours+--no-announce ours
                                                   # announcing by DNS-SD (on lo) costs what?

Each rep starts both servers (``run.Server``, the traffic driver), alternating which one starts
first, lets them sit idle for `--settle` seconds (``run.RT_SETTLE``), then interleaves trips
between them as ``run.py -s roundtrip`` does. Where the kernel places a server and its driver
holds for the life of the pair and moves one server's p50 by 10 % or more from one pair to the
next (measured here), so a few reps cannot tell changes of a few percent apart: this runs many
short ones and prints B/A per rep, their median and geometric mean, and how many reps B won.
An A/A run shows the noise floor; one of floor.py's bare forwarders (``rawfloor``,
``inlinefloor``, ... as in ``run.FLOORS``) shows what any server could reach. ``ours=DIR`` measures the indipyserver found in DIR (a
``git worktree`` or ``git archive`` of another commit); ``ours+ARG+ARG`` gives ours those
command-line options. ``--lo-multicast`` turns the loopback's multicast on for the run (root;
as the discovery tests do, under their lock, and back off after), so that ours really announces
there: DNS-SD stays on ``lo`` (INDIPY_MDNS_INTERFACES=lo). Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TextIO

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run

#: Starts one server of a pair on the stack (which stops it) and gives it as `run.connect`
#: reaches it: a `run.Server`, or one reached another way (bench/tls.py's TLS port).
Starter = Callable[[contextlib.ExitStack], run.Server]


def _start(spec: str) -> run.Server:
    spec, *options = spec.split("+")
    kind, _, root = spec.partition("=")
    if kind not in ("indiserver", "ours", *run.FLOORS) or ((root or options) and kind != "ours"):
        raise SystemExit(f"unknown server {spec!r}: indiserver, ours, ours=DIR, ours+OPTION "
                         f"or one of {', '.join(run.FLOORS)}")
    run.OURS_ROOT = Path(root).resolve() if root else run.ROOT
    return run.Server(kind, args=tuple(options))


@contextlib.contextmanager
def lo_multicast() -> Iterator[None]:
    """The loopback's multicast on for the block (``ip link``, root), its state restored
    after. ``ip`` reads and sets it in this process's network namespace (/sys/class/net shows
    the one sysfs was mounted in). The test suite's workers each have a network of their own
    (tests/ownnetwork.py), so nothing here disturbs them, nor they it."""
    import subprocess

    def multicast() -> bool:
        shown = subprocess.run(["ip", "-o", "link", "show", "lo"], check=True, text=True,
                               capture_output=True).stdout
        return "MULTICAST" in shown.split("<", 1)[1].split(">", 1)[0].split(",")

    was_on = multicast()
    subprocess.run(["ip", "link", "set", "lo", "multicast", "on"], check=True)
    try:
        yield
    finally:
        if not was_on:
            subprocess.run(["ip", "link", "set", "lo", "multicast", "off"], check=True)


def _starter(spec: str) -> Starter:
    return lambda stack: stack.enter_context(_start(spec))


def pair(starters: tuple[Starter, Starter], names: tuple[str, str], trips: int, settle: float,
         a_first: bool, block: int = 1) -> list[list[float]]:
    """Seconds per trip, for A and for B, from one pair of fresh servers."""
    with contextlib.ExitStack() as stack:
        order = (0, 1) if a_first else (1, 0)
        started = {i: starters[i](stack) for i in order}
        return run.round_trips([started[0], started[1]], list(names), trips, settle, block)


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


@dataclass
class Compared:
    """Per rep: A's and B's p50 and p99 (us), and B/A of each."""

    p50: list[tuple[float, float]] = field(default_factory=list)
    p99: list[tuple[float, float]] = field(default_factory=list)

    def ratios(self, name: str) -> list[float]:
        return [b / a for a, b in getattr(self, name)]

    def summary(self, name: str) -> str:
        xs = self.ratios(name)
        won = sum(x < 1 for x in xs)
        return (f"B/A {name}: median {statistics.median(xs):.3f} (range {min(xs):.3f}-"
                f"{max(xs):.3f}), geometric mean {statistics.geometric_mean(xs):.3f}, "
                f"B faster in {won} of {len(xs)} reps")


def compare(starters: tuple[Starter, Starter], names: tuple[str, str], reps: int, trips: int,
            settle: float, out: TextIO = sys.stdout, block: int = 1) -> Compared:
    """`reps` fresh pairs, alternating which starts first, a table row on `out` per rep;
    `block` trips in a row to each (``run.round_trips``)."""
    got = Compared()
    print("| rep | started first | A p50 | B p50 | B/A p50 | A p99 | B p99 | B/A p99 |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|", file=out)
    for rep in range(reps):
        a_first = rep % 2 == 0
        lat_a, lat_b = pair(starters, names, trips, settle, a_first, block)
        row = []
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            a, b = quantile(lat_a, q) * 1e6, quantile(lat_b, q) * 1e6
            getattr(got, name).append((a, b))
            row.append(f"{a:.0f} | {b:.0f} | {b / a:.3f}")
        print(f"| {rep + 1} | {'A' if a_first else 'B'} | {' | '.join(row)} |", file=out,
              flush=True)
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("-n", "--trips", type=int, default=2000, help="trips per server per rep")
    ap.add_argument("-r", "--reps", type=int, default=16)
    ap.add_argument("--settle", type=float, default=run.RT_SETTLE)
    ap.add_argument("--lo-multicast", action="store_true",
                    help="turn the loopback's multicast on for the run (ours announces there)")
    args = ap.parse_args(argv)
    specs = (args.a, args.b)
    starters = (_starter(args.a), _starter(args.b))
    with lo_multicast() if args.lo_multicast else contextlib.nullcontext():
        got = compare(starters, specs, args.reps, args.trips, args.settle)
    print(f"\nA = {args.a}, B = {args.b}; {args.reps} reps x {args.trips} trips each, "
          f"settle {args.settle:g} s")
    for name in ("p50", "p99"):
        print(got.summary(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
