"""Does a log-in stall the open pages? A device page's live updates, normal and while ten
log-ins run at once (issue 41 item 5: password hashing off the event loop; issue 57: the worst
gap, not only the p99).

Three processes, as in ``web_sse.py`` (whose driver and readers this uses): our INDI server
with a driver setting a number RATE times a second (its value the time it was sent), the web
client (``python -m indipyweb``), and this one: one SSE reader of the device page, and in the
second phase ten clients logging in over and over (``POST /api/login``, one scrypt each).
For each phase: the latency of each update (arrival minus sending), the gaps between updates
as they arrive, p50 / p99 / max in ms, the log-ins done and how long one took; then the target
(issue 57): the max gap during log-ins at most 100 ms over the max gap normally.

    python bench/web_logins.py [-d 10] [-r 100]
    python bench/web_logins.py --busy 2            # two more processes spinning (shared machine)
    python bench/web_logins.py --hashing loop      # scrypt on the event loop (before issue 41)
    python bench/web_logins.py --hashing thread:1:0  # one hash thread at nice 0 (before 57)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from processes import free_ports
from processes import stop_group
from web_sse import VALUE
from web_sse import _listening
from web_sse import add_viewer
from web_sse import login
from web_sse import open_stream
from web_sse import percentile
from web_sse import stream_chunks

LOGINS = 10
TARGET_MS = 100.0  # issue 57: the worst gap may grow by this much while ten log in


def serve_web_hashing(how: str, argv: list[str]) -> int:
    """``python -m indipyweb ARGV`` hashing as `how` says instead of as indipyweb does:
    ``loop`` (on the event loop, as before issue 41), or ``KIND:WORKERS:NICE``, a pool of
    WORKERS threads or processes (KIND ``thread`` or ``process``) at that nice level
    (``thread:1:0`` is indipyweb's own pool before issue 57)."""
    sys.path.insert(0, str(ROOT))
    import multiprocessing
    from concurrent.futures import Executor
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import ThreadPoolExecutor

    import indipyweb.users
    from indipyweb.cli import main

    pool: Executor | None = None
    if how != "loop":
        kind, workers, nice = how.split(":")
        if kind == "thread":
            pool = ThreadPoolExecutor(int(workers), initializer=_nice_thread,
                                      initargs=(int(nice),))
        else:
            pool = ProcessPoolExecutor(int(workers), multiprocessing.get_context("forkserver"),
                                       initializer=os.nice, initargs=(int(nice),))

    async def hashing(self: indipyweb.users.UserDB, password: str, salt: bytes) -> bytes:
        if pool is None:
            return indipyweb.users.hash_password(password, salt)
        return await asyncio.get_running_loop().run_in_executor(
            pool, indipyweb.users.hash_password, password, salt)

    indipyweb.users.UserDB._hash_off_loop = hashing  # type: ignore[method-assign]
    return main(argv)


def _nice_thread(nice: int) -> None:
    import threading
    os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


async def read(port: int, cookie: str, stop: asyncio.Event,
               got: list[tuple[float, float]]) -> None:
    """(arrival, sent) of each update the page's stream carries."""
    reader, writer = await open_stream(port, cookie)
    try:
        async for chunk in stream_chunks(reader, stop):
            now = time.time()
            got.extend((now, float(m.group(1))) for m in VALUE.finditer(chunk))
    finally:
        writer.close()


async def keep_logging_in(port: int, stop: asyncio.Event, done: list[float]) -> None:
    """Log in over and over; the time each log-in took, ms."""
    while not stop.is_set():
        start = time.monotonic()
        await login(port)
        done.append((time.monotonic() - start) * 1000)


def figures(got: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    latencies = [(arrival - sent) * 1000 for arrival, sent in got]
    gaps = [(b[0] - a[0]) * 1000 for a, b in itertools.pairwise(got)]
    return latencies, gaps


async def measure(port: int, seconds: float
                  ) -> list[tuple[str, list[float], list[float], list[float]]]:
    cookie = await login(port)
    stop_reading = asyncio.Event()
    got: list[tuple[float, float]] = []
    reader = asyncio.create_task(read(port, cookie, stop_reading, got))
    await asyncio.sleep(2.0)  # the page's first part, and the driver running
    results = []
    for phase in ("normal", f"{LOGINS} log-ins at once"):
        stop = asyncio.Event()
        done: list[float] = []
        logins = [] if phase == "normal" else [
            asyncio.create_task(keep_logging_in(port, stop, done)) for _ in range(LOGINS)]
        start = len(got)
        await asyncio.sleep(seconds)
        end = len(got)
        stop.set()
        await asyncio.gather(*logins)
        latencies, gaps = figures(got[start:end])
        results.append((phase, done, latencies, gaps))
    stop_reading.set()
    await reader
    return results


def busy(count: int) -> list[subprocess.Popen[bytes]]:
    """`count` processes spinning at nice 0: the other people's tests on a shared machine."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(count)]


def main() -> int:
    if sys.argv[1:2] == ["--web-hashing"]:
        return serve_web_hashing(sys.argv[2], sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds a phase")
    parser.add_argument("-r", "--rate", type=float, default=100.0, help="sets per second")
    parser.add_argument("--busy", type=int, default=0,
                        help="processes spinning at nice 0 throughout (a shared machine)")
    parser.add_argument("--hashing", default="",
                        help="'loop' (on the event loop, as before issue 41) or KIND:WORKERS:NICE "
                             "('thread:1:0': the thread pool before issue 57); default: "
                             "indipyweb's own")
    args = parser.parse_args()
    indiport, webport = free_ports(2)
    hogs = busy(args.busy)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        add_viewer(tmp, env)
        indi = subprocess.Popen([sys.executable, str(ROOT / "bench" / "web_sse.py"), "--indi",
                                 str(indiport), str(args.rate)], env=env, start_new_session=True)
        web_args = ["--port", str(webport), "--indiport", str(indiport), "--dbfolder", tmp]
        command = ([sys.executable, __file__, "--web-hashing", args.hashing, *web_args]
                   if args.hashing else [sys.executable, "-m", "indipyweb", *web_args])
        web = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not _listening(webport) and time.monotonic() < deadline:
                time.sleep(0.1)
            results = asyncio.run(measure(webport, args.duration))
        finally:
            for proc in (web, indi, *hogs):
                stop_group(proc, 10)
    load1 = os.getloadavg()[0]
    print(f"hashing: {args.hashing or 'indipyweb'}; {args.duration:g} s a phase; "
          f"{args.rate:g} sets/s; {args.busy} busy; load average {load0:.2f} -> {load1:.2f}")
    print("| phase | updates | latency p50 / p99 / max, ms | gap p50 / p99 / max, ms "
          "| log-ins | log-in p50 / max, ms |")
    print("|---|---:|---|---|---:|---|")
    for phase, logins, latencies, gaps in results:
        took = (f"{percentile(logins, 0.5):.0f} / {max(logins):.0f}" if logins else "")
        print(f"| {phase} | {len(latencies)} | {percentile(latencies, 0.5):.1f} / "
              f"{percentile(latencies, 0.99):.1f} / {max(latencies):.1f} | "
              f"{percentile(gaps, 0.5):.1f} / {percentile(gaps, 0.99):.1f} / {max(gaps):.1f} | "
              f"{len(logins)} | {took} |")
    (_, _, _, normal), (_, _, _, during) = results
    extra_max = max(during) - max(normal)
    extra_p99 = percentile(during, 0.99) - percentile(normal, 0.99)
    verdict = "PASS" if extra_max <= TARGET_MS else "FAIL"
    print(f"target: max gap during log-ins - max gap normally <= {TARGET_MS:g} ms: "
          f"{extra_max:+.1f} ms, {verdict} (p99: {extra_p99:+.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
