#!/usr/bin/env python3
"""indipy-getprop against indilib's indi_getprop: the whole process, on a server with N vectors.

A server (ours, ``python -m indipyserver``, and/or indilib's ``indiserver``) runs
``bench/trafficdriver.py`` with ``BENCH_EXTRA`` extra number vectors (N + its own 4).
Each rep runs both tools one after the other, alternating which goes first, and times the
whole process from start to exit, plus the moment its last line arrived:

- ``*.*.*`` (the issue's measurement): both tools end ``-t`` seconds after the last definition,
  so the whole time is start-up + reading + the quiet period; the last-line time shows the
  part that is the tool's own work;
- ``exact``: one exact ``Bench.EXTRA_k.a`` spec per vector (no wildcard), so both exit as soon
  as everything has matched: the whole process with no quiet period.

The CPU time (user + system) of each tool's process is printed too: on a busy machine it moves
less than the wall time. indi_getprop writes to a pipe through stdio's buffer, so its last
line arrives when it exits.

``--installed`` times our tool as a user has it: this checkout installed into a fresh
throw-away venv (``pip install``, not editable). An editable install's import hook costs ~10 ms
at every start, which is a fair part of the difference here.

Ratios are ours / indilib's (below 1: ours is faster). Only processes this script starts are
stopped. ``--quick``: 200 vectors, 2 reps.

``--vs-commit REV`` adds this project's tool as it was at git revision REV (its two packages
extracted with ``git archive`` into a scratch folder, run with that on PYTHONPATH) to the same alternating runs: its whole, last-line and CPU medians, and
its ratio to indi_getprop, follow on the row. Both trees are byte-compiled first (as pip does
at install), so a ``PYTHONDONTWRITEBYTECODE`` environment does not make either compile its
sources at every run.

    python bench/getprop_vs_indi.py [--vectors 1000] [-r 5] [-t 1] [--servers ours,indiserver]
                                    [--installed] [--vs-commit REV]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
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
DRIVER = HERE / "trafficdriver.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(kind: str, vectors: int, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "HOME": str(workdir), "BENCH_EXTRA": str(vectors)}
    if kind == "ours":
        args = [sys.executable, "-m", "indipyserver", "-p", str(port), str(DRIVER)]
    else:
        args = ["indiserver", "-p", str(port), "-u", str(workdir / "sock"), str(DRIVER)]
    log = (workdir / f"{kind}.log").open("wb")
    process = subprocess.Popen(args, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    last = f"Bench.EXTRA_{vectors - 1:04d}.a" if vectors else "Bench.NUM.v"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = subprocess.run(["indi_getprop", "-p", str(port), "-t", "2", last],
                              capture_output=True, check=False)
        if done.returncode == 0:
            return process, port
        time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{kind} server did not define {last}: see {workdir}/{kind}.log")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def timed(args: list[str], cwd: Path,
          env: dict[str, str] | None = None) -> tuple[float, float, int, int, float]:
    """(whole process s, last line s, lines printed, exit status, CPU s of the process)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, env=env)
    assert process.stdout is not None
    lines = 0
    last = start
    for _line in process.stdout:
        lines += 1
        last = time.perf_counter()
    _pid, wait_status, usage = os.wait4(process.pid, 0)
    whole = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(wait_status)
    process.stdout.close()
    return whole, last - start, lines, process.returncode, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=1000, help="extra vectors (default 1000)")
    parser.add_argument("-r", "--reps", type=int, default=5)
    parser.add_argument("-t", "--timeout", type=int, default=1,
                        help="-t for both tools, whole seconds (indi_getprop's atoi)")
    parser.add_argument("--servers", default="ours,indiserver")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--installed", action="store_true",
                        help="time indipy-getprop installed from this checkout into a fresh "
                             "throw-away venv (pip install, not editable), as a user has it")
    parser.add_argument("--vs-commit", metavar="REV",
                        help="also time this project's indipy-getprop as of git revision REV")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.vectors, opts.reps = min(opts.vectors, 200), 2
    ours_tool = Path(sys.executable).with_name("indipy-getprop")
    ours_cmd = [str(ours_tool)] if ours_tool.exists() else [
        sys.executable, "-m", "indipyclient.frontends.tools.getprop"]
    installed = tempfile.TemporaryDirectory(prefix="getprop-bench-venv-")
    if opts.installed:
        ours_cmd = [str(install_checkout(HERE.parent, Path(installed.name)))]
    theirs_cmd = [shutil.which("indi_getprop") or "indi_getprop"]
    print(f"indipy-getprop vs indi_getprop, {opts.vectors + 4} vectors, {opts.reps} reps, "
          f"-t {opts.timeout}; medians, seconds")
    old_head = f"   {opts.vs_commit[:10]:>10}: whole  ratio  CPU" if opts.vs_commit else ""
    print(f"{'server':<11} {'specs':<7} {'indi_getprop':>13} {'indipy-getprop':>15} "
          f"{'ratio':>6}   {'last line: indi':>15} {'ours':>7}   {'CPU: indi':>9} {'ours':>6}"
          f"   lines{old_head}")
    repo = HERE.parent
    compile_tree(repo)
    with tempfile.TemporaryDirectory(prefix="getprop-bench-") as scratch:
        workdir = Path(scratch)
        tools: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "t": (theirs_cmd, None), "o": (ours_cmd, None)}
        old_tree = workdir / "old-tree"
        if opts.vs_commit:
            old_tree.mkdir()
            archive = subprocess.run(["git", "-C", str(repo), "archive", opts.vs_commit,
                                      "indipyclient", "indipydriver"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
            compile_tree(old_tree)
            wrapper = "import sys; from indipyclient.frontends.tools.getprop import main; sys.exit(main())"
            tools["c"] = ([sys.executable, "-c", wrapper],
                          {**os.environ, "PYTHONPATH": str(old_tree)})
        for kind in opts.servers.split(","):
            process, port = start_server(kind, opts.vectors, workdir)
            try:
                run_rows(opts, kind, port, workdir, tools)
            finally:
                stop(process)
    installed.cleanup()
    return 0


def install_checkout(repo: Path, venv: Path) -> Path:
    """This checkout installed into a new venv at `venv` as pip installs a release (built
    and byte-compiled, no editable import hook: that hook costs ~10 ms at every start of an
    editable install's tools); returns its ``indipy-getprop``."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(repo)],
                   check=True, env=env, cwd="/tmp")
    return venv / "bin" / "indipy-getprop"


def compile_tree(tree: Path) -> None:
    """Byte-compile the two import packages of a source tree, as pip does at install."""
    import compileall

    for package in ("indipyclient", "indipydriver"):
        compileall.compile_dir(str(tree / package), quiet=1)


def run_rows(opts: argparse.Namespace, kind: str, port: int, workdir: Path,
             tools: dict[str, tuple[list[str], dict[str, str] | None]]) -> None:
    exact = [f"Bench.EXTRA_{k:04d}.a" for k in range(opts.vectors)]
    for label, specs in (("*.*.*", ["*.*.*"]), ("exact", exact)):
        base = ["-p", str(port), "-t", str(opts.timeout), *specs]
        runs: dict[str, list[tuple[float, float, int, int, float]]] = {key: [] for key in tools}
        for rep in range(opts.reps):
            keys = list(tools)
            order = keys if rep % 2 == 0 else keys[::-1]
            for who in order:
                cmd, env = tools[who]
                runs[who].append(timed([*cmd, *base], workdir, env))

        def med(who: str, index: int, runs: dict[str, list[tuple[float, float, int, int, float]]]
                = runs) -> float:
            return statistics.median(r[index] for r in runs[who])

        t_whole, o_whole = med("t", 0), med("o", 0)
        lines = f"{runs['t'][0][2]}/{runs['o'][0][2]}"
        statuses = {r[3] for rows in runs.values() for r in rows}
        note = "" if statuses == {0} else f"  exit statuses {sorted(statuses)}!"
        old = ""
        if "c" in runs:
            old = (f"   {med('c', 0):>17.3f} {med('c', 0) / t_whole:>6.2f} "
                   f"{med('c', 4):>5.3f}")
        print(f"{kind:<11} {label:<7} {t_whole:>13.3f} {o_whole:>15.3f} "
              f"{o_whole / t_whole:>6.2f}   {med('t', 1):>15.3f} {med('o', 1):>7.3f}   "
              f"{med('t', 4):>9.3f} {med('o', 4):>6.3f}   {lines}{old}{note}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
