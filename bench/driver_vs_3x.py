"""Driver framework side by side: ours vs indipydriver 3.1.2 from PyPI (standard library only).

The same driver script (bench/ipd_child.py, written against the 3.x API) is run as a child
process on pipes by two interpreters: a throw-away venv at /tmp/ipd3-venv holding
``indipydriver==3.1.2`` (created on first use; never part of this project) and this Python with
the repository on PYTHONPATH.  The parent writes INDI to the child's stdin and counts what comes
back on its stdout with rawclient.Counter.

    python bench/driver_vs_3x.py            # 3 reps
    python bench/driver_vs_3x.py --quick    # 1 rep, smaller counts

Measures: setNumberVector tight loop (msg/s, target ours/3.x >= 4), getProperties answered
for 1000 extra number vectors (ms, target ours/3.x <= 0.25), and a 1/5/10 MB newBLOBVector
received by the driver (ms; ours must be flat per MB), plus our own Framer + parse_element on a
setBLOBVector of 1/5/10 MB fed in 64 KiB chunks (ours only, in-process).
"""

from __future__ import annotations

import argparse
import base64
import os
import selectors
import signal
import statistics
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from indirequests import blob_around
from indirequests import new_number
from processes import interpreter
from processes import stop_group
from processes import throwaway_venv
from rawclient import Counter

from indipycore.protocol import NewBLOBVector
from indipycore.protocol import SetBLOBVector

VENV = Path("/tmp/ipd3-venv")
CHILD = HERE / "ipd_child.py"
MiB = 1024 * 1024


def ensure_venv() -> Path:
    return throwaway_venv(VENV, "indipydriver==3.1.2",
                          "import indipydriver, sys; sys.exit(indipydriver.version != '3.1.2')")


class Child:
    """One driver process on pipes, started by us and stopped by its own id."""

    def __init__(self, impl: str, py3: Path, vectors: int = 0) -> None:
        env = dict(os.environ, BENCH_VECTORS=str(vectors))
        python = interpreter(impl == "ours", py3, ROOT, env)
        self.proc = subprocess.Popen([python, str(CHILD)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd="/tmp", start_new_session=True)
        self.out = self.proc.stdout.fileno()
        os.set_blocking(self.out, False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.out, selectors.EVENT_READ)
        self.c = Counter("child")
        self.c.watch("loopdone", b"loopdone")
        self.c.watch("blobgot", b"blobgot")

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def write_async(self, data: bytes) -> threading.Thread:
        t = threading.Thread(target=self.write, args=(data,), daemon=True)
        t.start()
        return t

    def read_until(self, done, timeout: float) -> bool:
        end = time.perf_counter() + timeout
        while not done():
            left = end - time.perf_counter()
            if left <= 0 or self.proc.poll() is not None:
                return False
            for _ in self.sel.select(min(left, 0.2)):
                try:
                    data = os.read(self.out, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    return done()
                self.c.feed(data)
        return True

    def ready(self) -> None:
        """A zero-length loop: answered once the driver is up and reading."""
        self.c.counts["loopdone"] = 0
        self.write(ctrl(0))
        if not self.read_until(lambda: self.c.counts["loopdone"] > 0, 60):
            raise RuntimeError("driver did not start")

    def stop(self) -> None:
        self.sel.close()
        stop_group(self.proc)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def ctrl(n: int) -> bytes:
    return new_number("Bench", "CTRL", "count", n)


def m_loop(impl: str, py3: Path, n: int) -> float:
    ch = Child(impl, py3)
    try:
        ch.ready()
        ch.c.reset()
        t0 = time.perf_counter()
        ch.write(ctrl(n))
        if not ch.read_until(lambda: ch.c.counts["loopdone"] > 0, 300):
            raise RuntimeError(f"{impl}: loop did not finish ({ch.c.counts['setNumber']})")
        got = ch.c.counts["setNumber"]
        if got != n:
            raise RuntimeError(f"{impl}: {got} of {n} setNumberVector")
        return n / (ch.c.last["setNumber"] - t0)
    finally:
        ch.stop()


def m_getprops(impl: str, py3: Path, vectors: int) -> float:
    ch = Child(impl, py3, vectors)
    try:
        ch.ready()
        ch.c.reset()
        total = vectors + 3
        t0 = time.perf_counter()
        ch.write(b'<getProperties version="1.7"/>\n')
        if not ch.read_until(lambda: ch.c.defs() >= total, 300):
            raise RuntimeError(f"{impl}: {ch.c.defs()} of {total} definitions")
        return (max(ch.c.last.values()) - t0) * 1000
    finally:
        ch.stop()


def blob_message(size: int, tag: str = "newBLOBVector", device: str = "Bench",
                 name: str = "UP") -> bytes:
    raw = (os.urandom(65536) * (size // 65536 + 1))[:size]
    b64 = base64.encodebytes(raw)   # 76-column lines, as most clients wrap
    vector = NewBLOBVector if tag == "newBLOBVector" else SetBLOBVector
    before, after = blob_around(vector, device, name, "data", size, ".fits")
    return before + b64 + after


def m_blob(impl: str, py3: Path, size: int) -> float:
    ch = Child(impl, py3)
    msg = blob_message(size)
    try:
        ch.ready()
        ch.c.reset()
        t0 = time.perf_counter()
        w = ch.write_async(msg)
        if not ch.read_until(lambda: ch.c.counts["blobgot"] > 0, 300):
            raise RuntimeError(f"{impl}: BLOB of {size} not acknowledged")
        dt = ch.c.last["blobgot"] - t0
        w.join(5)
        return dt * 1000
    finally:
        ch.stop()


def m_parse_ours(size: int) -> float:
    """Our Framer + parse_element on one setBLOBVector fed in 64 KiB chunks (ms, best of 3)."""
    sys.path.insert(0, str(ROOT))
    from indipycore.protocol.framing import Framer
    from indipycore.protocol.parser import parse_element
    msg = blob_message(size, tag="setBLOBVector")
    chunks = [msg[i:i + 65536] for i in range(0, len(msg), 65536)]
    best = float("inf")
    for _ in range(3):          # best of 3: in-process, so only scheduling noise differs
        t0 = time.perf_counter()
        framer = Framer()
        events = []
        for chunk in chunks:
            for frame in framer.feed(chunk):
                events.append(parse_element(frame.data))
        best = min(best, time.perf_counter() - t0)
    dt = best
    if len(events) != 1 or len(events[0]["data"].data) != size:
        raise RuntimeError(f"parse of {size} gave {events!r:.200}")
    return dt * 1000


def fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--loop", type=int, default=50_000, help="setNumberVector loop length")
    ap.add_argument("--vectors", type=int, default=1000)
    args = ap.parse_args(argv)
    # `timeout`/kill send SIGTERM: unwind so that every server/driver we started is stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.quick:
        args.reps, args.loop = 1, 10_000
    py3 = ensure_venv()
    sizes = [1, 5, 10]
    res: dict[str, dict[str, list[float]]] = {"3x": {}, "ours": {}}
    errors = []
    for rep in range(args.reps):
        order = ["3x", "ours"] if rep % 2 == 0 else ["ours", "3x"]
        for impl in order:
            jobs = [("loop_msgps", partial(m_loop, impl, py3, args.loop)),
                    ("getprops_ms", partial(m_getprops, impl, py3, args.vectors))]
            jobs += [(f"blob_{s}MB_ms", partial(m_blob, impl, py3, s * MiB)) for s in sizes]
            for key, fn in jobs:
                try:
                    v = fn()
                except Exception as exc:  # noqa: BLE001  # a bench reports a failed job and goes on
                    errors.append(f"{impl} {key} rep {rep + 1}: {exc}")
                    print(f"[{impl} {key}] ERROR {exc}", file=sys.stderr)
                    continue
                res[impl].setdefault(key, []).append(v)
                print(f"[rep {rep + 1} {impl}] {key} = {fmt(v)}", file=sys.stderr)
        for s in sizes:
            try:
                res["ours"].setdefault(f"parse_{s}MB_ms", []).append(m_parse_ours(s * MiB))
            except Exception as exc:  # noqa: BLE001  # reported with the others
                errors.append(f"parse {s} MB: {exc}")

    def med(impl: str, key: str) -> float | None:
        xs = res[impl].get(key)
        return statistics.median(xs) if xs else None

    rows = ["| measurement | 3.1.2 | ours | ours/3.1.2 | target | result |",
            "|---|---:|---:|---:|---|---|"]

    def row(label: str, key: str, direction: str = "", target: float | None = None) -> None:
        a, b = med("3x", key), med("ours", key)
        ratio = b / a if a and b else None
        res_ = ""
        if target is not None and ratio is not None:
            res_ = "PASS" if (ratio >= target if direction == ">=" else ratio <= target) \
                else "MISS"
        rows.append(f"| {label} | {fmt(a)} | {fmt(b)} | {fmt(ratio) + 'x' if ratio else 'n/a'}"
                    f" | {f'{direction} {target}x' if target else ''} | {res_} |")

    row(f"setNumberVector tight loop ({args.loop:,}), msg/s", "loop_msgps", ">=", 4.0)
    row(f"getProperties, {args.vectors + 3} vectors, ms", "getprops_ms", "<=", 0.25)
    for s in sizes:
        row(f"newBLOBVector {s} MiB to the driver, ms", f"blob_{s}MB_ms")
    per = {impl: [(med(impl, f"blob_{s}MB_ms") or 0) / s for s in sizes] for impl in res}
    rows.append("| ... per MiB (1 / 5 / 10 MiB), ms | "
                + " | ".join("/".join(f"{x:.1f}" for x in per[i]) for i in ("3x", "ours"))
                + " | | flat in ours | "
                + ("PASS" if per["ours"][0] and per["ours"][2] <= 1.5 * per["ours"][0] + 2
                   else "MISS") + " |")
    pp = [med("ours", f"parse_{s}MB_ms") for s in sizes]
    if all(pp):
        rows.append("| our Framer+parse_element, setBLOBVector 1 / 5 / 10 MiB, ms | | "
                    + " / ".join(f"{x:.1f}" for x in pp) + " | | | |")
        rows.append("| ... per MiB, ms | | " + " / ".join(f"{x / s:.2f}" for x, s in zip(pp, sizes))
                    + " | | flat | "
                    + ("PASS" if pp[2] / 10 <= 1.5 * pp[0] + 0.5 else "MISS") + " |")
    print(f"Python {sys.version.split()[0]}, nproc {os.cpu_count()}, reps {args.reps} "
          f"(medians, order alternates)\n")
    print("\n".join(rows))
    if errors:
        print("\nErrors:\n" + "\n".join(f"- {e}" for e in errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
