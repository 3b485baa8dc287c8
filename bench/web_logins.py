"""Does a log-in stall the open pages? A device page's live updates, normal and while ten
log-ins run at once (issue 41 item 5: password hashing off the event loop).

Three processes, as in ``web_sse.py`` (whose driver and readers this uses): our INDI server
with a driver setting a number RATE times a second (its value the time it was sent), the web
client (``python -m indipyweb``), and this one: one SSE reader of the device page, and in the
second phase ten clients logging in over and over (``POST /api/login``, one scrypt each).
For each phase: the latency of each update (arrival minus sending) and the gaps between
updates as they arrive, p50 / p99 / max in ms, and the log-ins done.

    python bench/web_logins.py [-d 10] [-r 100]
    python bench/web_logins.py --on-loop      # the web process hashes on its event loop (before)
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

from processes import stop_group
from web_sse import VALUE
from web_sse import _listening
from web_sse import add_viewer
from web_sse import free_port
from web_sse import login
from web_sse import open_stream
from web_sse import percentile
from web_sse import stream_chunks

LOGINS = 10


def serve_web_hashing_on_loop(argv: list[str]) -> int:
    """``python -m indipyweb ARGV`` with the old behaviour: scrypt on the event loop."""
    sys.path.insert(0, str(ROOT))
    import indipyweb.users
    from indipyweb.cli import main

    async def inline(self: indipyweb.users.UserDB, password: str, salt: bytes) -> bytes:
        return indipyweb.users.hash_password(password, salt)

    indipyweb.users.UserDB._hash_off_loop = inline  # type: ignore[method-assign]
    return main(argv)


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


async def keep_logging_in(port: int, stop: asyncio.Event, done: list[int]) -> None:
    while not stop.is_set():
        await login(port)
        done.append(1)


def figures(got: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    latencies = [(arrival - sent) * 1000 for arrival, sent in got]
    gaps = [(b[0] - a[0]) * 1000 for a, b in itertools.pairwise(got)]
    return latencies, gaps


async def measure(port: int, seconds: float) -> list[tuple[str, int, list[float], list[float]]]:
    cookie = await login(port)
    stop_reading = asyncio.Event()
    got: list[tuple[float, float]] = []
    reader = asyncio.create_task(read(port, cookie, stop_reading, got))
    await asyncio.sleep(2.0)  # the page's first part, and the driver running
    results = []
    for phase in ("normal", f"{LOGINS} log-ins at once"):
        stop = asyncio.Event()
        done: list[int] = []
        logins = [] if phase == "normal" else [
            asyncio.create_task(keep_logging_in(port, stop, done)) for _ in range(LOGINS)]
        start = len(got)
        await asyncio.sleep(seconds)
        end = len(got)
        stop.set()
        await asyncio.gather(*logins)
        latencies, gaps = figures(got[start:end])
        results.append((phase, len(done), latencies, gaps))
    stop_reading.set()
    await reader
    return results


def main() -> int:
    if sys.argv[1:2] == ["--web-on-loop"]:
        return serve_web_hashing_on_loop(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=float, default=10.0, help="seconds a phase")
    parser.add_argument("-r", "--rate", type=float, default=100.0, help="sets per second")
    parser.add_argument("--on-loop", action="store_true",
                        help="the web process hashes on its event loop (as before)")
    args = parser.parse_args()
    indiport, webport = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        add_viewer(tmp, env)
        indi = subprocess.Popen([sys.executable, str(ROOT / "bench" / "web_sse.py"), "--indi",
                                 str(indiport), str(args.rate)], env=env, start_new_session=True)
        web_args = ["--port", str(webport), "--indiport", str(indiport), "--dbfolder", tmp]
        command = ([sys.executable, __file__, "--web-on-loop", *web_args] if args.on_loop
                   else [sys.executable, "-m", "indipyweb", *web_args])
        web = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not _listening(webport) and time.monotonic() < deadline:
                time.sleep(0.1)
            results = asyncio.run(measure(webport, args.duration))
        finally:
            for proc in (web, indi):
                stop_group(proc, 10)
    mode = "on the event loop" if args.on_loop else "in the thread pool"
    print(f"hashing {mode}; {args.duration:g} s a phase; {args.rate:g} sets/s; "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| phase | updates | latency p50 / p99 / max, ms | gap p50 / p99 / max, ms | log-ins |")
    print("|---|---:|---|---|---:|")
    for phase, logins, latencies, gaps in results:
        print(f"| {phase} | {len(latencies)} | {percentile(latencies, 0.5):.1f} / "
              f"{percentile(latencies, 0.99):.1f} / {max(latencies):.1f} | "
              f"{percentile(gaps, 0.5):.1f} / {percentile(gaps, 0.99):.1f} / {max(gaps):.1f} | "
              f"{logins} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
