"""Client library side by side: ours vs indipyclient 0.9.4 from PyPI (standard library only).

The same client script (bench/client_child.py, written against 0.9.4's ``IPyClient`` API, which
ours keeps) runs as a child process under two interpreters: a throw-away venv at
/tmp/ipc094-venv holding ``indipyclient==0.9.4`` (created on first use; never part of this
project) and this Python with the repository on PYTHONPATH. Each run gets a fresh indipyserver
(ours) serving bench/trafficdriver.py; the order of the two libraries alternates per rep.

    python bench/client_vs_0_9_4.py             # full: 10k burst, 50 x 10 MiB, 1000 vectors, 3 reps
    python bench/client_vs_0_9_4.py --quick     # smoke: 2k burst, 3 x 1 MiB, 200 vectors, 1 rep

Measures, in the child (time from the first to the last message it handed to ``rxevent``):

* burst: a setNumberVector burst received and applied to the model, messages per second of
  the client's CPU (target >= 5x; on the wall clock both clients mostly wait for the server,
  which is shown too);
* blob: BLOBs received and saved to the BLOBfolder, MB/s (target >= 3x) and the child's peak
  RSS while receiving them, MB (target <= 0.5x);
* snapshot: ``snapshot()`` of the learnt vectors, ms (target <= 0.25x); ``snapshot().dumps()``
  is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from processes import interpreter, stop_group, throwaway_venv
from run import MB, Server, connect, control, prepare

VENV = Path("/tmp/ipc094-venv")
CHILD = HERE / "client_child.py"
LIBS = ("ours", "0.9.4")


def ensure_venv() -> Path:
    return throwaway_venv(VENV, "indipyclient==0.9.4",
                          "import indipyclient, sys; sys.exit(indipyclient.version != '0.9.4')")


class Child:
    """One client process, started by us and stopped by its own id."""

    def __init__(self, lib: str, py094: Path, mode: str, port: int, count: int,
                 blobdir: Path | None = None) -> None:
        env = dict(os.environ)
        python = interpreter(lib == "ours", py094, ROOT, env)
        if blobdir is not None:
            env["BENCH_BLOBDIR"] = str(blobdir)
        self.proc = subprocess.Popen([python, str(CHILD), mode, str(port), str(count)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd="/tmp", text=True, start_new_session=True)

    def expect(self, word: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"client child exited ({self.proc.wait()}) before {word!r}")
        return line.strip()

    def result(self) -> dict[str, float]:
        return json.loads(self.expect("result"))  # type: ignore[no-any-return]

    def stop(self) -> None:
        stop_group(self.proc)


def run_one(lib: str, py094: Path, mode: str, args: argparse.Namespace) -> dict[str, float]:
    extra = args.vectors if mode == "snapshot" else 0
    count = {"burst": args.burst, "blob": args.blobs, "snapshot": args.vectors}[mode]
    blobdir = Path(tempfile.mkdtemp(prefix="bench-client-blobs-")) if mode == "blob" else None
    server_args = ("-m", "2000") if mode == "blob" else ()
    try:
        with Server("ours", extra=extra, args=server_args) as server:
            child = Child(lib, py094, mode, server.port, count, blobdir)
            try:
                if child.expect("ready") != "ready":
                    raise RuntimeError("client child did not get ready")
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
        megabytes = result["bytes"] * (result["received"] - 1) / max(result["received"], 1) / MB
        result["MBps"] = per(megabytes, result["seconds"])
        result["cpu_MBps"] = per(megabytes, result["cpu_seconds"])
    return result


ROWS = [  # (mode, key, label, target ratio ours/0.9.4, higher is better)
    ("burst", "cpu_msgps", "setNumberVector burst applied to the model, msg per CPU second",
     5.0, True),
    ("burst", "msgps", "  the same, msg/s of wall time (bounded by the server's sending)", None,
     True),
    ("burst", "received", "  messages received (of the burst)", None, True),
    ("blob", "MBps", "BLOBs received and saved, MB/s", 3.0, True),
    ("blob", "cpu_MBps", "  the same, MB per CPU second of the client", None, True),
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
    parser.add_argument("--vectors", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.burst, args.blobs, args.blob_size, args.vectors = 1, 2000, 3, 1 << 20, 200
    py094 = ensure_venv()
    modes = [m for m in ("burst", "blob", "snapshot") if m in args.scenarios.split(",")]
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for rep in range(args.reps):
        for mode in modes:
            for lib in (LIBS if rep % 2 == 0 else LIBS[::-1]):
                out = run_one(lib, py094, mode, args)
                results.setdefault((mode, lib), []).append(out)
                print(f"rep {rep + 1} {mode:8} {lib:6} {json.dumps(out)}", file=sys.stderr)
    print(f"\nindipyclient: ours vs 0.9.4, {args.reps} rep(s), burst {args.burst}, "
          f"{args.blobs} BLOBs of {args.blob_size} bytes, {args.vectors} extra vectors\n")
    print("| measurement | 0.9.4 | ours | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for mode, key, label, target, higher in ROWS:
        if mode not in modes:
            continue
        theirs = statistics.median(r.get(key, float("nan")) for r in results[(mode, "0.9.4")])
        ours = statistics.median(r.get(key, float("nan")) for r in results[(mode, "ours")])
        ratio = ours / theirs if theirs else float("nan")
        verdict = ""
        if target is not None:
            met = ratio >= target if higher else ratio <= target
            verdict = f"{'>=' if higher else '<='} {target:g}x {'PASS' if met else 'MISS'}"
        print(f"| {label} | {theirs:,.2f} | {ours:,.2f} | {ratio:.2f}x | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
