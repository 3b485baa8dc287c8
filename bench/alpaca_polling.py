"""The INDI round trip with and without ten Alpaca clients polling the same server (issue 59).

    python bench/alpaca_polling.py                 # 8 reps x 2000 trips, 10 pollers at 10 Hz
    python bench/alpaca_polling.py --aa            # A/A: both arms without pollers (the noise)
    python bench/alpaca_polling.py -r 4 -n 1000 --clients 10 --hz 10 --members 3

One server config throughout: ours (`python -m indipyserver`) with the traffic driver
(`trafficdriver.py`, as ``run.py -s roundtrip`` times it) and the Python focuser simulator
in-process (`--module indipysimulators.focus`), serving Alpaca on a free port
(`--alpaca PORT --alpaca-discovery 0`). The pollers are a child process (this script,
``--poll-child``): `--clients` threads, each with its own keep-alive HTTP connection, each
tick GETting `--members` members of the focuser (position, ismoving, connected, ...) at
`--hz` ticks a second, polling only while told to; it reports the requests made and any
that failed. Each rep starts one fresh server and times the round trip (a setNumberVector to
the traffic driver and its answer, as ``run.round_trips`` does, one raw client of the
traffic driver's device) in `--blocks` blocks that alternate between the arms, the pollers
polling in one and paused in the other (the first arm alternating from rep to rep): where
the kernel places a server holds for its life, and the other work on the machine comes and
goes by the second, so the arms share the server and are interleaved finely; each rep's
polled/quiet ratio of p50 and p99 is what is compared. The target: the p99 ratio within the
noise, which an ``--aa`` run of the same shape measures (the pollers paused in both arms).
After the trips, the server's CPU share idle and with the pollers alone (`--cpu-window`
seconds each), and so the CPU per Alpaca request, say what a request costs the loop the INDI
side runs in. Standard library and the project only.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run
from indirequests import new_number
from processes import cpu_seconds
from rawclient import Hub
from rawclient import RawClient

FOCUSER = "Python Focuser"
MEMBERS = ("position", "ismoving", "connected", "maxstep", "temperature", "absolute")


def http_call(conn: http.client.HTTPConnection, method: str, path: str,
              body: str = "") -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if method == "PUT" else {}
    conn.request(method, path, body=body.encode() if body else None, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def prepare_focuser(port: int, timeout: float = 30.0) -> int:
    """Wait until the face lists the focuser, connect it; its Alpaca device number."""
    conn = http.client.HTTPConnection(run.HOST, port, timeout=5)
    end = time.monotonic() + timeout
    number = None
    try:
        while number is None:
            if time.monotonic() > end:
                raise RuntimeError(f"the face on {port} never listed {FOCUSER}")
            try:
                _, data = http_call(conn, "GET", "/management/v1/configureddevices")
                number = next((d["DeviceNumber"] for d in json.loads(data)["Value"]
                               if d["DeviceName"] == FOCUSER), None)
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
            if number is None:
                time.sleep(0.1)
        status, data = http_call(conn, "PUT", f"/api/v1/focuser/{number}/connected",
                                 "Connected=true")
        if status != 200 or json.loads(data)["ErrorNumber"]:
            raise RuntimeError(f"connecting the focuser: {status} {data!r}")
        return int(number)
    finally:
        conn.close()


# -- the pollers' process -----------------------------------------------------------------

def poll(port: int, number: int, clients: int, hz: float, members: int,
         running: threading.Event, stop: threading.Event) -> dict[str, float]:
    """`clients` threads polling while `running` is set, until `stop`: the requests made and
    failed, and the seconds spent polling."""
    counts = {"requests": 0, "failed": 0}
    lock = threading.Lock()
    names = [MEMBERS[i % len(MEMBERS)] for i in range(members)]

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(run.HOST, port, timeout=5)
        made = failed = 0
        tick = 1.0 / hz
        next_tick = time.monotonic() + tick * index / clients  # spread over the period
        while not stop.is_set():
            if not running.is_set():
                running.wait(0.05)
                next_tick = time.monotonic() + tick * index / clients
                continue
            delay = next_tick - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            if not running.is_set():  # paused while waiting for the tick
                continue
            next_tick += tick
            for name in names:
                try:
                    status, data = http_call(
                        conn, "GET", f"/api/v1/focuser/{number}/{name}?ClientID={index + 1}"
                        f"&ClientTransactionID={made + 1}")
                    ok = status == 200 and json.loads(data)["ErrorNumber"] in (0, 0x400)
                except (OSError, http.client.HTTPException, ValueError):
                    conn.close()
                    ok = False
                made += 1
                failed += not ok
        conn.close()
        with lock:
            counts["requests"] += made
            counts["failed"] += failed

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(10)
    return counts


def poll_child(argv: list[str]) -> int:
    """``--poll-child PORT NUMBER CLIENTS HZ MEMBERS``: poll while told (a line "run" on
    stdin starts, "pause" pauses, each answered "ok"), until stdin closes; then print the
    counts and the seconds polled as JSON."""
    port, number, clients = int(argv[0]), int(argv[1]), int(argv[2])
    hz, members = float(argv[3]), int(argv[4])
    running, stop = threading.Event(), threading.Event()
    polled = 0.0
    since = 0.0

    def commands() -> None:
        nonlocal polled, since
        for line in sys.stdin:
            if line.strip() == "run" and not running.is_set():
                since = time.monotonic()
                running.set()
            elif line.strip() == "pause" and running.is_set():
                running.clear()
                polled += time.monotonic() - since
            print("ok", flush=True)
        if running.is_set():
            polled += time.monotonic() - since
        stop.set()

    threading.Thread(target=commands, daemon=True).start()
    print("ready", flush=True)
    counts = poll(port, number, clients, hz, members, running, stop)
    print(json.dumps({**counts, "seconds": polled}), flush=True)
    return 0


class Pollers:
    """The pollers' process, paused until `run()`."""

    def __init__(self, port: int, number: int, clients: int, hz: float, members: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--poll-child", str(port), str(number), str(clients),
             str(hz), str(members)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        if self.stdout.readline().strip() != "ready":
            raise RuntimeError("the pollers did not start")

    def _say(self, command: str) -> None:
        self.stdin.write(command + "\n")
        self.stdin.flush()
        if self.stdout.readline().strip() != "ok":
            raise RuntimeError(f"the pollers did not take {command!r}")

    def run(self) -> None:
        self._say("run")

    def pause(self) -> None:
        self._say("pause")

    def close(self) -> dict[str, float]:
        """Stop the process; its counts (requests, failed, seconds polled)."""
        self.stdin.close()
        try:
            out = self.stdout.read()
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            run.stop_group(self.proc)
            return {}
        lines = out.strip().splitlines()
        return dict(json.loads(lines[-1])) if lines else {}


# -- the runs -----------------------------------------------------------------------------

def alpaca_server(process: bool = False) -> tuple[run.Server, int]:
    """Ours with the traffic driver and the focuser, serving Alpaca (from a process of its
    own with `process`): (server, Alpaca port)."""
    port = run.free_port()
    server = run.Server("ours", args=("--module", "indipysimulators.focus", "--alpaca",
                                      str(port), "--alpaca-discovery", "0",
                                      *(("--alpaca-process",) if process else ())))
    return server, port


def quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def bench_client(server: run.Server) -> RawClient:
    """A raw INDI client of the traffic driver's device only (the focuser's sets would count
    as answers), after its definitions."""
    client = RawClient(run.HOST, server.port, "rt")
    client.send(b'<getProperties version="1.7" device="Bench"/>\n')
    hub = Hub([client])
    ok = hub.run_until(lambda: client.defs() >= 4, 30)
    hub.close()
    if not ok:
        raise RuntimeError(f"no definitions from the traffic driver: {server.log_tail()}")
    return client


def one_rep(trips: int, blocks: int, settle: float, quiet_first: bool, aa: bool,
            clients: int, hz: float, members: int, cpu_window: float = 2.0,
            outside: bool = False, process: bool = False
            ) -> tuple[list[float], list[float], dict[str, float]]:
    """Seconds per trip quiet and with the pollers (both quiet with `aa`) on one fresh
    server, in `blocks` alternating blocks of trips, and the pollers' counts with the
    server's CPU share in each arm."""
    server, port = alpaca_server(process)
    with server, contextlib.ExitStack() as stack:
        number = prepare_focuser(port)
        if outside:  # the same requests, to another process: the machine's share alone
            proc, port = outside_server()
            stack.callback(run.stop_group, proc)
        pollers = Pollers(port, number, clients, hz, members)
        try:
            client = bench_client(server)
            hub = Hub([client])
            time.sleep(settle)
            arms: dict[bool, list[float]] = {False: [], True: []}
            cpu = {False: 0.0, True: 0.0}
            per_block = max(1, trips // (blocks // 2 or 1))
            sent = 0
            for block in range(blocks):
                polled = (block % 2 == 1) == quiet_first
                if polled and not aa:
                    pollers.run()
                time.sleep(0.2)  # every poller is at it (both arms wait alike)
                for i in range(per_block + (20 if block < 2 else 0)):
                    sent += 1
                    msg = new_number("Bench", "NUM", "v", sent)
                    want = client.counts["setNumber"] + 1
                    t = time.perf_counter()
                    client.send(msg)
                    if not hub.run_until(partial(run._has_sets, client, want), 10):
                        raise RuntimeError("a round trip timed out")
                    if block >= 2 or i >= 20:  # each arm's first 20 warm up
                        arms[polled].append(time.perf_counter() - t)
                if polled and not aa:
                    pollers.pause()
            hub.close()
            client.close()
            # The server's CPU share idle and with the pollers alone, over whole seconds
            # (the blocks are too short for /proc's clock ticks).
            for polled in (False, True):
                if polled and not aa:
                    pollers.run()
                before = cpu_seconds(server.proc.pid), time.monotonic()
                time.sleep(cpu_window)
                cpu[polled] = ((cpu_seconds(server.proc.pid) - before[0])
                               / (time.monotonic() - before[1]))
                if polled and not aa:
                    pollers.pause()
        finally:
            counts = pollers.close()
    counts["cpu_quiet"], counts["cpu_polled"] = cpu[False], cpu[True]
    return arms[False], arms[True], counts


def plain_child(argv: list[str]) -> int:
    """``--plain-child PORT``: a Starlette app on uvicorn (the face's stack) in a process of
    its own, answering every focuser member with a fixed Alpaca reply, until stdin closes."""
    import asyncio

    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    counter = iter(range(1, 2**31))

    async def member(request: object) -> Response:
        body = json.dumps({"Value": 5000, "ClientTransactionID": 0,
                           "ServerTransactionID": next(counter), "ErrorNumber": 0,
                           "ErrorMessage": ""})
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/api/v1/focuser/{number}/{member}", member)])
    server = uvicorn.Server(uvicorn.Config(app, host=run.HOST, port=int(argv[0]),
                                           log_level="warning", lifespan="off"))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(
            setattr, server, "should_exit", True)), daemon=True).start()
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        await task

    asyncio.run(main())
    return 0


def outside_server() -> tuple[subprocess.Popen[str], int]:
    """The plain app's process (`plain_child`) and its port."""
    port = run.free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--plain-child", str(port)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        run.stop_group(proc)
        raise RuntimeError("the outside HTTP server did not start")
    return proc, port


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--poll-child"]:
        return poll_child(argv[1:])
    if argv[:1] == ["--plain-child"]:
        return plain_child(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--trips", type=int, default=2000, help="trips per arm per rep")
    ap.add_argument("-b", "--blocks", type=int, default=20,
                    help="blocks of trips per rep, the arms alternating")
    ap.add_argument("-r", "--reps", type=int, default=8)
    ap.add_argument("--settle", type=float, default=run.RT_SETTLE)
    ap.add_argument("--clients", type=int, default=10, help="Alpaca clients polling")
    ap.add_argument("--hz", type=float, default=10.0, help="polls a second per client")
    ap.add_argument("--members", type=int, default=3, help="members GET per poll")
    ap.add_argument("--cpu-window", type=float, default=2.0,
                    help="seconds the server's CPU is read idle and with the pollers alone")
    ap.add_argument("--outside", action="store_true",
                    help="the pollers poll a Starlette app in a process of its own, not the "
                         "face: what the same HTTP load on the machine costs the trip")
    ap.add_argument("--process", action="store_true",
                    help="the face in a process of its own (--alpaca-process)")
    ap.add_argument("--aa", action="store_true", help="A/A: no pollers in either arm")
    args = ap.parse_args(argv)
    label = "quiet (A/A)" if args.aa else "polled"
    ratios: dict[str, list[float]] = {"p50": [], "p99": []}
    print(f"| rep | first | quiet p50 us | {label} p50 us | ratio p50 | quiet p99 us | "
          f"{label} p99 us | ratio p99 | Alpaca req/s | failed | server CPU idle, {label} alone | us CPU per request |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rep in range(args.reps):
        quiet_first = rep % 2 == 0
        quiet, polled, counts = one_rep(args.trips, args.blocks, args.settle, quiet_first,
                                        args.aa, args.clients, args.hz, args.members,
                                        args.cpu_window, args.outside, args.process)
        row = []
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            a, b = quantile(quiet, q) * 1e6, quantile(polled, q) * 1e6
            ratios[name].append(b / a)
            row.append(f"{a:.0f} | {b:.0f} | {b / a:.3f}")
        rate = counts.get("requests", 0) / counts["seconds"] if counts.get("seconds") else 0.0
        extra = counts["cpu_polled"] - counts["cpu_quiet"]
        per = f"{extra / rate * 1e6:.0f}" if rate else "-"
        print(f"| {rep + 1} | {'quiet' if quiet_first else label} | {' | '.join(row)} | "
              f"{rate:.0f} | {counts.get('failed', 0):.0f} | {counts['cpu_quiet']:.0%}, "
              f"{counts['cpu_polled']:.0%} | {per} |", flush=True)
    what = "A/A, no pollers in either arm" if args.aa else (
        f"{args.clients} Alpaca clients at {args.hz:g} Hz, {args.members} GETs each poll"
        + (", polling an outside server" if args.outside else "")
        + (", the face in a process of its own" if args.process else ""))
    print(f"\n{what}; {args.reps} reps x {args.trips} trips per arm in {args.blocks} "
          f"alternating blocks, settle {args.settle:g} s")
    for name, xs in ratios.items():
        print(f"{label}/quiet {name}: median {statistics.median(xs):.3f}, geometric mean "
              f"{statistics.geometric_mean(xs):.3f}, range {min(xs):.3f}..{max(xs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
