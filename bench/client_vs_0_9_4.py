"""Client library side by side: ours vs indipyclient 0.9.4 from PyPI (standard library only).

The same client script (bench/client_child.py, written against 0.9.4's ``IPyClient`` API, which
ours keeps) runs as a child process under two interpreters: a throw-away venv at
/tmp/ipc094-venv holding ``indipyclient==0.9.4`` (created on first use; never part of this
project) and this Python with the repository on PYTHONPATH. Each run gets a fresh indipyserver
(ours) serving bench/trafficdriver.py; the order of the two libraries alternates per rep.

    python bench/client_vs_0_9_4.py             # full: 10k burst, 50 x 10 MiB, 1000 vectors, 3 reps
    python bench/client_vs_0_9_4.py --quick     # smoke: 2k burst, 3 x 1 MiB, 200 vectors, 1 rep

A third child, ``raw`` (bench/client_child.py with BENCH_RAW=1), reads the same stream with a
bare socket and counts it: what the server delivers to a client that costs nothing, the
ceiling of any client's wall-clock rate (printed beside the two, with ours as a share of it).

Every wait is bounded: the child gives up after BENCH_WAIT seconds (``--wait``) and says so,
and this script reads the child's lines with a deadline, so a run that does not finish is
reported (``timeout``) and the others go on.

Measures, in the child (time from the first to the last message it handed to ``rxevent``):

* burst: a setNumberVector burst received and applied to the model, messages per second of
  wall time (target >= 5x) and per second of the client's CPU;
* blob: BLOBs received and saved to the BLOBfolder, MB/s (target >= 3x) and the child's peak
  RSS while receiving them, MB (target <= 0.5x); the BLOBs that arrived (a server coalesces
  the BLOBs of a client that falls behind: the driver writes them without waiting);
* snapshot: ``snapshot()`` of the learnt vectors, ms (target <= 0.25x); ``snapshot().dumps()``
  is shown too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from processes import interpreter
from processes import stop_group
from processes import throwaway_venv
from run import MB
from run import Server
from run import connect
from run import control
from run import prepare

VENV = Path("/tmp/ipc094-venv")
CHILD = HERE / "client_child.py"
LIBS = ("ours", "0.9.4")
RAW = "raw"


def ensure_venv() -> Path:
    return throwaway_venv(VENV, "indipyclient==0.9.4",
                          "import indipyclient, sys; sys.exit(indipyclient.version != '0.9.4')")


class Child:
    """One client process, started by us and stopped by its own id."""

    def __init__(self, lib: str, py094: Path, mode: str, port: int, count: int,
                 args: argparse.Namespace, blobdir: Path | None = None) -> None:
        env = dict(os.environ, BENCH_WAIT=str(args.wait), BENCH_BLOB_SIZE=str(args.blob_size))
        python = interpreter(lib != "0.9.4", py094, ROOT, env)
        env["BENCH_RAW"] = "1" if lib == RAW else "0"
        if blobdir is not None:
            env["BENCH_BLOBDIR"] = str(blobdir)
        self.lib = lib
        self.wait = args.wait + 30  # the child's own bound, and time to say so
        self.proc = subprocess.Popen([python, str(CHILD), mode, str(port), str(count)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd="/tmp", start_new_session=True)
        self._pending = b""

    def expect(self, word: str) -> str:
        """The child's next line, within its time (else RuntimeError, never a hang)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.wait
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise RuntimeError(f"{self.lib} child said nothing for {self.wait:g} s "
                                   f"(waiting for {word!r})")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"{self.lib} child exited ({self.proc.wait()}) before "
                                   f"{word!r}")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode().strip()

    def result(self) -> dict[str, float]:
        return json.loads(self.expect("result"))  # type: ignore[no-any-return]

    def stop(self) -> None:
        stop_group(self.proc)


def run_one(lib: str, py094: Path, mode: str, args: argparse.Namespace) -> dict[str, float]:
    extra = args.vectors if mode == "snapshot" else 0
    count = {"burst": args.burst, "blob": args.blobs, "snapshot": args.vectors}[mode]
    blobdir = (Path(tempfile.mkdtemp(prefix="bench-client-blobs-", dir=args.blob_dir))
               if mode == "blob" else None)
    server_args = ("-m", "2000") if mode == "blob" else ()
    try:
        with Server("ours", extra=extra, args=server_args) as server:
            child = Child(lib, py094, mode, server.port, count, args, blobdir)
            try:
                said = child.expect("ready")
                if said != "ready":
                    raise RuntimeError(f"{lib} child did not get ready: {said}")
                if mode != "snapshot":
                    (ctl,) = connect(server)
                    spec = (f"kind=num count={args.burst}" if mode == "burst" else
                            f"kind=blob count={args.blobs} size={args.blob_size} "
                            "style=libindi ping=0")
                    job = prepare(ctl, spec)
                    ctl.send(control(f"go id={job}"))
                result = child.result()
            finally:
                child.stop()
    finally:
        if blobdir is not None:
            shutil.rmtree(blobdir, ignore_errors=True)
    def per(amount: float, seconds: float) -> float:
        return amount / seconds if seconds > 0 else float("nan")

    # Counted from the first message to the last: the first one's work is not in the time.
    if mode == "burst":
        result["msgps"] = per(result["received"] - 1, result["seconds"])
        result["cpu_msgps"] = per(result["received"] - 1, result["cpu_seconds"])
    elif mode == "blob":
        megabytes = result["bytes"] * (result["received"] - 1) / MB
        result["MBps"] = per(megabytes, result["seconds"])
        result["cpu_MBps"] = per(megabytes, result["cpu_seconds"])
    return result


ROWS = [  # (mode, key, label, target ratio ours/0.9.4, higher is better)
    ("burst", "msgps", "setNumberVector burst applied to the model, msg/s", 5.0, True),
    ("burst", "cpu_msgps", "  the same, msg per CPU second of the client", None, True),
    ("burst", "received", "  messages received (of the burst)", None, True),
    ("blob", "MBps", "BLOBs received and saved, MB/s", 3.0, True),
    ("blob", "cpu_MBps", "  the same, MB per CPU second of the client", None, True),
    ("blob", "received", "  BLOBs received (of those sent)", None, True),
    ("blob", "peak_rss_mb", "peak RSS of the client receiving BLOBs, MB", 0.5, False),
    ("snapshot", "snapshot_ms", "snapshot() of the vectors, ms", 0.25, False),
    ("snapshot", "snapshot_dumps_ms", "snapshot().dumps(), ms", None, False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest settings, 1 rep")
    parser.add_argument("-r", "--reps", type=int, default=3)
    parser.add_argument("-s", "--scenarios", default="burst,blob,snapshot")
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--blobs", type=int, default=50)
    parser.add_argument("--blob-size", type=int, default=10 * 1024 * 1024)
    parser.add_argument("--blob-dir", default=None, metavar="DIR",
                        help="where the BLOB folders are made (default: the temporary "
                             "directory). /dev/shm (tmpfs) leaves the disk out: on this VM's "
                             "ext4 the client's system time for the same 50 BLOBs went from "
                             "0.2 to 1.7 s between runs, with the page cache's writeback")
    parser.add_argument("--vectors", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=120.0,
                        help="seconds a child waits for its stream before it reports a timeout")
    parser.add_argument("--no-raw", action="store_true",
                        help="leave out the bare socket reader (the server's ceiling)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.burst, args.blobs, args.blob_size, args.vectors = 1, 2000, 3, 1 << 20, 200
    py094 = ensure_venv()
    modes = [m for m in ("burst", "blob", "snapshot") if m in args.scenarios.split(",")]
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    failed = []
    with open("/proc/loadavg") as load:
        load_before = " ".join(load.read().split()[:3])
    for rep in range(args.reps):
        for mode in modes:
            libs = list(LIBS if rep % 2 == 0 else LIBS[::-1])
            if mode != "snapshot" and not args.no_raw:
                libs.append(RAW)
            for lib in libs:
                try:
                    out = run_one(lib, py094, mode, args)
                except RuntimeError as exc:
                    failed.append(f"rep {rep + 1} {mode} {lib}: {exc}")
                    print(f"rep {rep + 1} {mode:8} {lib:6} FAILED: {exc}", file=sys.stderr)
                    continue
                if out.get("timeout"):
                    failed.append(f"rep {rep + 1} {mode} {lib}: timeout after {args.wait:g} s "
                                  f"({out.get('received', 0):g} received)")
                results.setdefault((mode, lib), []).append(out)
                print(f"rep {rep + 1} {mode:8} {lib:6} {json.dumps(out)}", file=sys.stderr)
    with open("/proc/loadavg") as load:
        load_after = " ".join(load.read().split()[:3])
    print(f"\nindipyclient: ours vs 0.9.4, {args.reps} rep(s), burst {args.burst}, "
          f"{args.blobs} BLOBs of {args.blob_size} bytes saved in "
          f"{args.blob_dir or tempfile.gettempdir()}, {args.vectors} extra vectors; "
          f"load average {load_before} before, {load_after} after\n")
    print("| measurement | 0.9.4 | ours | ours/0.9.4 | target | raw socket (ceiling) | "
          "ours/raw |")
    print("|---|---:|---:|---:|---|---:|---:|")

    def median(mode: str, lib: str, key: str) -> float:
        runs = results.get((mode, lib), [])
        return statistics.median(r.get(key, float("nan")) for r in runs) if runs else float("nan")

    for mode, key, label, target, higher in ROWS:
        if mode not in modes:
            continue
        theirs, ours = median(mode, "0.9.4", key), median(mode, "ours", key)
        ratio = ours / theirs if theirs else float("nan")
        verdict = ""
        if target is not None:
            met = ratio >= target if higher else ratio <= target
            verdict = f"{'>=' if higher else '<='} {target:g}x {'PASS' if met else 'MISS'}"
        raw = median(mode, RAW, key) if key in ("msgps", "MBps", "received") else float("nan")
        share = "" if math.isnan(raw) or not raw else f"{ours / raw:.2f}"
        print(f"| {label} | {theirs:,.2f} | {ours:,.2f} | {ratio:.2f}x | {verdict} | "
              f"{'' if math.isnan(raw) else f'{raw:,.2f}'} | {share} |")
    for line in failed:
        print(f"- {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
