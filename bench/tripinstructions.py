"""Server user-space instructions a round trip, under callgrind: what a change costs or saves
where the wall clock cannot tell (no hardware counters in a VM; a loaded machine).

    python bench/tripinstructions.py ours=/tmp/base ours ours=/tmp/base ours   # alternated

Each spec (as ``roundtrip_ab.py``'s: ``ours`` or ``ours=DIR``) starts one server of ours with
the bench's traffic driver, the server alone under ``valgrind --tool=callgrind
--instr-atstart=no`` (the driver is not traced), and one raw client; 300 trips warm up, then
instrumentation is switched on (``callgrind_control -i on``) for `--trips` trips and dumped.
Printed per run: thousands of instructions a trip, the syscalls a trip the server's code
called (libc's, from the dump's call counts), and the missed reads a trip: reads of the
driver's answer that found nothing yet (the shortcut hands the CPU over and reads again, and
a second miss sleeps in ``epoll_wait``). Each miss costs ~13 k instructions and their share
moves with the load, not the code, so each run is also given at no misses (its count less
``--per-miss`` thousands a missed read; fit the slope from runs of one tree). Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run
from run import Hub
from run import Server
from run import _has_sets
from run import connect
from run import new_number

#: The libc calls counted (as callgrind names them: ``write`` or ``__libc_write``...).
SYSCALLS = ("epoll_wait", "sched_yield", "recvmsg", "write", "read")
_FN = re.compile(r"c?fn=\((\d+)\)(?: (.*))?")


def syscalls(dump: str) -> dict[str, int]:
    """Calls of each of `SYSCALLS` in a callgrind dump (every caller's)."""
    names: dict[str, str] = {}
    out: dict[str, int] = {}
    callee: str | None = None
    for line in dump.splitlines():
        m = _FN.match(line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("cfn="):
                callee = names.get(m.group(1))
            continue
        if line.startswith("calls=") and callee is not None:
            name = callee.removeprefix("__libc_").removeprefix("__")
            if name in SYSCALLS:
                out[name] = out.get(name, 0) + int(line[6:].split()[0])
    return out


def _trips(client: run.RawClient, hub: Hub, start: int, count: int) -> None:
    for i in range(start, start + count):
        want = client.counts["setNumber"] + 1
        client.send(new_number("Bench", "NUM", "v", i))
        if not hub.run_until(partial(_has_sets, client, want), 60):
            raise RuntimeError("round trip timed out")


def _start_under_callgrind(spec: str, out_dir: Path) -> Server:
    """A `run.Server` of ours whose python is valgrind's callgrind (a wrapper `exec`s it, so
    the server's pid is valgrind's)."""
    kind, _, root = spec.partition("=")
    if kind != "ours":
        raise SystemExit(f"unknown server {spec!r}: ours or ours=DIR")
    run.OURS_ROOT = Path(root).resolve() if root else run.ROOT
    wrapper = out_dir / "python"
    wrapper.write_text(f"#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                       f"--callgrind-out-file={out_dir}/cg.%p.out {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    real = sys.executable
    sys.executable = str(wrapper)  # what run.Server starts ours with
    try:
        return Server("ours")
    finally:
        sys.executable = real


def measure(spec: str, trips: int, warm: int = 300) -> tuple[float, dict[str, float]]:
    """(instructions a trip, syscalls a trip) of one fresh server of `spec`."""
    out_dir = Path(tempfile.mkdtemp(prefix="tripinstr-"))
    try:
        srv = _start_under_callgrind(spec, out_dir)
        try:
            pid = str(srv.proc.pid)
            client = connect(srv, timeout=180)[0]
            hub = Hub([client])
            time.sleep(1)
            _trips(client, hub, 0, warm)
            subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
            _trips(client, hub, warm, trips)
            subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
            subprocess.run(["callgrind_control", "-i", "off", pid], check=True,
                           capture_output=True)
            hub.close()
            client.close()
            dump = max(out_dir.glob(f"cg.{pid}.out.*")).read_text()
        finally:
            srv.stop()
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    total = next(int(line.split()[1]) for line in dump.splitlines()
                 if line.startswith(("summary:", "totals:")))
    return total / trips, {k: v / trips for k, v in syscalls(dump).items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("specs", nargs="+", help="ours or ours=DIR, measured in this order")
    ap.add_argument("-n", "--trips", type=int, default=1000, help="trips counted per run")
    ap.add_argument("--per-miss", type=float, default=12.9,
                    help="thousands of instructions a missed read costs (for 'at no misses')")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    run.Server._wait_listening.__defaults__ = (180.0,)  # python under valgrind starts slowly
    print(f"load {os.getloadavg()[0]:.1f}")
    for spec in args.specs:
        per_trip, calls = measure(spec, args.trips)
        # The driver's answer: recvmsg on its socket, else a read beside the client's one.
        missed = calls.get("recvmsg", calls.get("read", 1.0) - 1.0) - 1.0
        print(f"{spec}: {per_trip / 1e3:.1f} k instructions a trip, {missed:.3f} missed reads "
              f"a trip, {per_trip / 1e3 - args.per_miss * missed:.1f} k at no misses; "
              + ", ".join(f"{k} {v:.3f}" for k, v in sorted(calls.items())), flush=True)
    print(f"load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
