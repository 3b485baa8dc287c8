"""Side-by-side benchmark: indilib's C ``indiserver`` vs ``indipyserver`` (standard library only).

Every (scenario, repetition, server) gets a fresh server process on a free loopback port running
``bench/trafficdriver.py`` as its executable driver; the repetitions alternate the server order.
Prints a markdown table of medians, same-run ratios (ours / indiserver), the target next to each
ratio, and PASS/MISS.  See bench/README.md.

    python bench/run.py                 # all scenarios, 3 reps
    python bench/run.py --quick         # smaller sizes, 1 rep, < ~2 minutes
    python bench/run.py -s blob,burst -r 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from functools import partial
from pathlib import Path
from typing import Self

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT))

from indirequests import control
from indirequests import new_number
from processes import stop_group
from rawclient import Hub
from rawclient import RawClient

DRIVER = HERE / "trafficdriver.py"
HOST = "127.0.0.1"
#: The bare forwarders of floor.py, not servers: title and floor.py options.
FLOORS = {
    "floor": ("bare asyncio forwarder", ()),
    "rawfloor": ("bare epoll forwarder, no asyncio", ("--raw",)),
    "readerfloor": ("asyncio add_reader forwarder, no transports", ("--reader",)),
    "inlinefloor": ("asyncio forwarder called inside select, no transports", ("--inline",)),
    "busybefore": ("rawfloor spinning 15 us before each write", ("--raw", "--busy-before", "15")),
    "busyafter": ("rawfloor spinning 15 us after each write", ("--raw", "--busy-after", "15")),
    "sockfloor": ("bare epoll forwarder, driver on a socketpair, 1 MiB reads",
                  ("--raw", "--socket")),
}
MB = 1_000_000
BIG_QUEUE = ("-m", "1000")
OURS_ROOT = ROOT                    # --ours-root: another checkout of ours to measure
OURS_ARGS: tuple[str, ...] = ()     # --ours-args: more options for every server of ours
PROFILE_DIR: Path | None = None     # --profile-ours: run ours under cProfile, print the top
STALL_SECONDS = 15.0     # a stream with no bytes to any reading client for this long has stalled


# ------------------------------------------------------------------------------------------
# servers
# ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """One server process (and its driver) that we started; stopped by its own id only."""

    def __init__(self, kind: str, extra: int = 0, exe: Path | None = DRIVER,
                 args: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 unix: bool = False) -> None:
        """`unix`: ours listens on `unix_path` too (indiserver always does, as by default)."""
        self.kind = kind
        self.profile: Path | None = None
        self.port = free_port()
        self.unix_path = f"/tmp/bench-{uuid.uuid4().hex}"  # abstract on Linux, both servers
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
        env = dict(os.environ, HOME=str(self.tmp), BENCH_EXTRA=str(extra), **(env or {}))
        if kind == "indiserver":
            cmd = ["indiserver", *args, "-p", str(self.port), "-r", "0",
                   "-u", self.unix_path, *([str(exe)] if exe else [])]
        elif kind in FLOORS:  # reference forwarders, not INDI servers (floor.py)
            cmd = [sys.executable, str(HERE / "floor.py"), *FLOORS[kind][1], str(self.port),
                   str(exe)]
        else:
            env["PYTHONPATH"] = str(OURS_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
            prof: list[str] = []
            if PROFILE_DIR is not None:
                PROFILE_DIR.mkdir(parents=True, exist_ok=True)
                self.profile = PROFILE_DIR / f"ours-{time.strftime('%H%M%S')}-{self.port}.prof"
                prof = ["-m", "cProfile", "-o", str(self.profile)]
            cmd = [sys.executable, *prof, "-m", "indipyserver", *args, *OURS_ARGS,
                   *(["-u", self.unix_path] if unix else []), "-p", str(self.port),
                   "--host", HOST, *([str(exe)] if exe else [])]
        self.log = open(self.tmp / "server.log", "wb")  # noqa: SIM115  # closed by stop()
        self.proc = subprocess.Popen(cmd, cwd=self.tmp, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_listening()

    def _wait_listening(self, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}: "
                                   f"{self.log_tail()}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.kind} not listening on {self.port}: {self.log_tail()}")

    def log_tail(self) -> str:
        self.log.flush()
        try:
            return (self.tmp / "server.log").read_bytes()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def peak_rss_mb(self) -> float:
        """VmHWM of the server process itself (not its drivers)."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self) -> None:
        stop_group(self.proc)   # the session we created for it
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.profile is not None and self.profile.exists():
            import io
            import pstats
            out = io.StringIO()
            pstats.Stats(str(self.profile), stream=out).sort_stats("tottime").print_stats(12)
            print(f"--- profile of ours ({self.profile}), top tottime ---\n"
                  + out.getvalue()[-3500:], file=sys.stderr)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def library_specs(specs: list[str], kinds: tuple[str, ...] = ("ours",)) -> list[tuple[str, str, Path]]:
    """(spec, kind, root) for each of `specs` (``indiserver``, ``ours`` or ``ours=DIR``, of the
    `kinds` allowed): the libraries a comparing script (slowcost.py, blobspeed.py) alternates."""
    out = []
    for spec in specs:
        kind, _, root = spec.partition("=")
        if kind not in kinds or (root and kind != "ours"):
            names = ", ".join(k if k != "ours" else "ours or ours=DIR" for k in kinds)
            raise SystemExit(f"unknown library {spec!r}: {names}")
        out.append((spec, kind, Path(root).resolve() if root else ROOT))
    return out


def ours_available() -> str | None:
    """None if `python -m indipyserver` looks runnable, else the reason it is not."""
    r = subprocess.run([sys.executable, "-c", "import indipyserver.__main__"],
                       cwd="/tmp", capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(OURS_ROOT)), check=False)
    if r.returncode:
        return (r.stderr.strip().splitlines() or ["import failed"])[-1]
    return None


# ------------------------------------------------------------------------------------------
# client helpers
# ------------------------------------------------------------------------------------------

GETPROPS = b'<getProperties version="1.7"/>\n'
ENABLE_BLOB = b'<enableBLOB device="Bench">Also</enableBLOB>\n'
_seq = [0]


def connect(server: Server, n: int = 1, blobs: bool = False, base_defs: int = 4,
            read: bool = True, timeout: float = 30.0) -> list[RawClient]:
    """n clients that asked for properties (and BLOBs) and have seen the definitions."""
    # A server reached on its TLS port (bench/tls.py) carries the client's context as `tls`.
    tls = getattr(server, "tls", None)
    clients = [RawClient(HOST, server.port, f"c{i}", read=read, tls=tls) for i in range(n)]
    for c in clients:
        c.send(GETPROPS + (ENABLE_BLOB if blobs else b""))
    if read:
        hub = Hub(clients)
        ok = hub.run_until(lambda: all(c.defs() >= base_defs for c in clients), timeout)
        hub.close()
        if not ok:
            raise RuntimeError(f"{server.kind}: definitions not received "
                               f"({[c.defs() for c in clients]}) {server.log_tail()}")
    return clients


def prepare(ctl: RawClient, spec: str, timeout: float = 60.0) -> str:
    _seq[0] += 1
    job = f"j{_seq[0]}x"
    ctl.watch("ready", f"ready {job}".encode())
    ctl.send(control(f"prepare id={job} {spec}"))
    hub = Hub([ctl])
    ok = hub.run_until(lambda: ctl.counts["ready"] > 0, timeout)
    hub.close()
    if not ok:
        raise RuntimeError(f"driver did not get ready for {spec}")
    return job


def rate(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else 0.0


@dataclass
class StreamResult:
    t0: float
    ends: list[float]          # per reading client: time the last counted message arrived
    counts: list[int]
    clients: list[RawClient] = field(repr=False)


def stream(ctl: RawClient, clients: list[RawClient], job: str, key: str, expected: int,
           timeout: float, require_done: bool = True) -> StreamResult:
    """Start job, read all reading clients until each has `expected` messages or saw `done`
    followed by 1 s of quiet (a server that coalesces or drops delivers fewer)."""
    done_pat = f"done {job}".encode()
    for c in clients:
        c.watch("done", done_pat)
        c.focus(key, "done")      # fewer patterns: the client stays far faster than a server
        c.reset()
    readers = [c for c in clients if c.read]

    def finished(c: RawClient) -> bool:
        # `done` follows the whole stream from the driver, so once it arrived nothing more
        # is due (a server that drops or coalesces delivers fewer than `expected`).
        return c.counts["done"] > 0 or c.eof

    hub = Hub(readers)
    t0 = time.perf_counter()
    ctl.send(control(f"go id={job}"))
    ok = hub.run_until(lambda: all(finished(c) for c in readers), timeout, idle=STALL_SECONDS)
    if ok and any(c.counts[key] < expected for c in readers):
        # in case a server reorders: collect stragglers (not counted in the time)
        hub.run_until(lambda: all(c.counts[key] >= expected for c in readers), 2.0, idle=0.5)
    hub.close()
    ends = [c.last.get(key, t0) for c in readers]
    if require_done and any(c.counts["done"] == 0 for c in readers):
        lost = [c.name for c in readers if c.counts["done"] == 0]
        raise RuntimeError(f"stream did not finish on {lost}: "
                           f"{[c.counts[key] for c in readers]}/{expected}")
    return StreamResult(t0, ends, [c.counts[key] for c in readers], clients)


# ------------------------------------------------------------------------------------------
# scenarios: each returns {metric: value} for one server
# ------------------------------------------------------------------------------------------

@dataclass
class Config:
    blob_count: int = 50
    blob_size: int = 10 * 1024 * 1024
    bursts: tuple[int, int] = (10_000, 100_000)
    fan_clients: int = 10
    fan_count: int = 10_000
    trips: int = 2000
    slow_count: int = 50
    extra: int = 999
    fw_count: int = 100_000
    fw_vectors: int = 1000
    slow_pairs: int = 6  # solo / beside run pairs per rep of the slow scenarios (scen_slow)
    short_bursts: int = 3  # fresh-server runs per rep of a burst under SHORT_BURST (scen_burst)
    rt_sessions: int = 3  # sessions of fresh servers per rep of the round trips (scen_roundtrip)


def _blob_styles(kind: str, cfg: Config, prefix: str, job_extra: str = "",
                 ours_args: tuple[str, ...] = ()) -> dict[str, float]:
    """MB/s and BLOBs lost for one client taking `cfg.blob_count` BLOBs, for each style
    (`ours_args`: more options for our server)."""
    out = {}
    for style in ("libindi", "oneline"):
        # indiserver's default -m 128 disconnects even a lone reading client here (its queue
        # passes 128 MB after ~10 BLOBs of 10 MiB), so both servers get -m 1000 as
        # indiwebmanager uses.
        args = BIG_QUEUE if kind == "indiserver" else (*BIG_QUEUE, *ours_args)
        with Server(kind, args=args) as srv:
            (c,) = connect(srv, blobs=True)
            job = prepare(c, f"kind=blob count={cfg.blob_count} size={cfg.blob_size} "
                             f"style={style} ping=1{job_extra}")
            r = stream(c, [c], job, "setBLOB", cfg.blob_count, timeout=300)
            out[f"{prefix}_{style}_MBps"] = rate(r.counts[0] * cfg.blob_size / MB,
                                                 r.ends[0] - r.t0)
            out[f"{prefix}_{style}_lost"] = cfg.blob_count - r.counts[0]
            c.close()
    return out


def scen_blob(kind: str, cfg: Config) -> dict[str, float]:
    """Ours gives the traffic driver a socketpair (``--shared-blobs on``), as it gives the
    indilib driver the driver stands for and indiserver every driver, not the pipe it gives
    a script by default, which costs more kernel time a byte (blobspeed.py); ``--ours-args
    '--shared-blobs auto'`` measures that pipe."""
    return _blob_styles(kind, cfg, "blob", ours_args=("--shared-blobs", "on"))


def scen_blobharness(kind: str, cfg: Config) -> dict[str, float]:
    """`blob`, but as the issue-45 harness: the driver writes each BLOB in the pieces libindi's
    IDSetBLOB writes (64 KiB sendmsgs on the socketpair that indiserver gives every driver
    and ours an indilib driver: ``--shared-blobs on``, said here)
    and the client reads 64 KiB at a time (asyncio's StreamReader; libindi's BaseClient reads
    48 KiB). (On a pipe libindi writes 4096 B at a time: ``blobspeed.py --writes libindi
    --shared-blobs off``.)"""
    import rawclient

    saved = rawclient.READ_SIZE
    rawclient.READ_SIZE = 1 << 16
    try:
        out = _blob_styles(kind, cfg, "blobh", " writes=libindi", ("--shared-blobs", "on"))
    finally:
        rawclient.READ_SIZE = saved
    return out


#: Bursts up to this many messages are run `Config.short_bursts` times a rep, each on a fresh
#: server, and the rep reports their median. Ours moves 10k sets in about 55 ms, where one
#: hiccup of the machine weighs: a full run gave 174k, 108k and 118k msg/s in its three reps,
#: and `-s burst -r 6` right after 190k, 180k, 132k, 192k, 191k, 182k, same code. indiserver
#: takes 0.35 s for 10k; its 100k bursts (a minute each) are run once a rep.
SHORT_BURST = 20_000


def scen_burst(kind: str, cfg: Config) -> dict[str, float]:
    out = {}
    for n in cfg.bursts:
        speeds: list[float] = []
        delivered: list[int] = []
        for _ in range(cfg.short_bursts if n <= SHORT_BURST else 1):
            with Server(kind) as srv:
                (c,) = connect(srv)
                job = prepare(c, f"kind=num count={n}")
                r = stream(c, [c], job, "setNumber", n, timeout=300)
                speeds.append(rate(n, r.ends[0] - r.t0))
                delivered.append(r.counts[0])
                c.close()
        out[f"burst_{n}_msgps"] = statistics.median(speeds)
        out[f"burst_{n}_delivered"] = min(delivered)  # any loss shows
    return out


def scen_fanout(kind: str, cfg: Config) -> dict[str, float]:
    n = cfg.fan_count
    with Server(kind) as srv:
        cs = connect(srv, n=cfg.fan_clients)
        job = prepare(cs[0], f"kind=num count={n}")
        r = stream(cs[0], cs, job, "setNumber", n, timeout=300)
        slowest = max(r.ends) - r.t0
        out = {"fanout_aggregate_msgps": rate(sum(r.counts), slowest),
               "fanout_slowest_msgps": rate(n, slowest),
               "fanout_delivered_min": min(r.counts)}
        for c in cs:
            c.close()
    return out


#: Seconds every server of the round trip sits idle, all started and connected, before the
#: trips. A process that has just started is placed by the kernel's scheduler after its startup
#: burst of CPU for a few hundred milliseconds (indipyserver had used 120 ms of CPU when it
#: first answered a client, indiserver under 10 ms), and trips in that time are slower. Started
#: one after the other with no pause, the last server was measured in that window and the first
#: was not: two copies of our own server side by side, 6 reps with the start order alternating,
#: the later-started copy was 1.19-1.41x slower at p50 in every rep (indiserver against itself,
#: 5 reps: 0.99-1.08x). After 2 s idle the ours/ours pair was 0.96-1.10x, the start order no
#: longer telling.
RT_SETTLE = 2.0


def _chained(stack: contextlib.ExitStack, kind: str) -> Server:
    """A server of `kind` serving the traffic driver, and another of the same kind in front
    of it that has it as a remote server (``Bench@host:port``, as indiserver writes a remote
    device); the one in front, which clients talk to."""
    behind = stack.enter_context(Server(kind))
    return stack.enter_context(Server(kind, exe=Path(f"Bench@{HOST}:{behind.port}")))


def scen_roundtrip(kinds: list[str], cfg: Config, chain: bool = False) -> dict[str, dict[str, float]]:
    """Round trips to every server in `kinds`, interleaved trip by trip; with `chain`, through
    two chained servers of each kind (client -> server -> remote server -> driver).

    Latency here is mostly the kernel waking the peers, and how long that takes changes from
    one minute to the next on a shared machine (indiserver's p50 was 40-50 us in some runs
    and 120-130 us in others). Running the servers one after the other compared them in
    different conditions; alternating single trips between them, with both servers up and
    the order rotated every trip, gives each the same conditions.

    Each rep runs `Config.rt_sessions` such sessions on fresh servers (their start order
    reversed every other one) and reports each server's median p50 and p99 over them: where
    the kernel places a server holds for its life and moves its p99 by 10 % or more from one
    session to the next (three full runs' p99 ratios in one day: 1.01x, 0.93x, 1.02x at nearly
    the same code; 16 fresh pairs of `roundtrip_ab.py` 0.899).
    """
    prefix = "chain_rt" if chain else "rt"
    per_kind: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for session in range(cfg.rt_sessions):
        order = kinds if session % 2 == 0 else kinds[::-1]
        for kind, xs in zip(order, _roundtrip_session(order, cfg, chain)):
            xs.sort()
            per_kind[kind].append((xs[len(xs) // 2], xs[min(len(xs) - 1, int(len(xs) * 0.99))]))
    return {kind: {f"{prefix}_p50_us": statistics.median(p50 for p50, _ in got) * 1e6,
                   f"{prefix}_p99_us": statistics.median(p99 for _, p99 in got) * 1e6}
            for kind, got in per_kind.items()}


def _has_sets(client: RawClient, want: int) -> bool:
    return client.counts["setNumber"] >= want


def _roundtrip_session(kinds: list[str], cfg: Config, chain: bool) -> list[list[float]]:
    """Seconds per trip of each server in `kinds`, from one session of fresh servers."""
    with contextlib.ExitStack() as stack:
        servers = [_chained(stack, kind) if chain else stack.enter_context(Server(kind))
                   for kind in kinds]
        return round_trips(servers, kinds, cfg.trips, RT_SETTLE)


def round_trips(servers: list[Server], names: list[str], trips: int,
                settle: float, block: int = 1) -> list[list[float]]:
    """Seconds per trip of each of `servers` (running), `trips` each after 50 that warm up: a
    client of each, idle for `settle` seconds, then the trips interleaved, `block` trips in a
    row to each server (1: every trip to the next server, each finding its caches cold, as
    the others' trips left them)."""
    clients = [connect(srv)[0] for srv in servers]
    time.sleep(settle)
    hubs = [Hub([c]) for c in clients]
    lat: list[list[float]] = [[] for _ in servers]
    for r in range(-(-(trips + 50) // block)):
        # Rotated, not flipped: flipping (0 1 2, 2 1 0, 0 1 2...) gives the first and last
        # servers two trips in a row every other round, which find their caches warm; the
        # middle one never does (indiserver vs itself: the middle copy was 1.07-1.19x
        # slower at p50). Rotating, no server ever follows itself.
        order = [(r + j) % len(servers) for j in range(len(servers))]
        for j in order:
            for i in range(r * block, min((r + 1) * block, trips + 50)):
                msg = new_number("Bench", "NUM", "v", i)
                c = clients[j]
                want = c.counts["setNumber"] + 1
                t = time.perf_counter()
                c.send(msg)
                if not hubs[j].run_until(partial(_has_sets, c, want), 10):
                    raise RuntimeError(f"round trip timed out on {names[j]}")
                if i >= 50:            # the first 50 warm up
                    lat[j].append(time.perf_counter() - t)
    for hub in hubs:
        hub.close()
    for c in clients:
        c.close()
    return lat


#: Seconds between connecting and starting the stream, in the never-reading scenario's runs
#: with the slow client (the server must take that client's requests, and it cannot be asked
#: whether it has) and in its solo runs alike. The pause itself slows the stream after it
#: (idle CPUs and cold caches): solo runs without it measured 370 ms for the 50 BLOBs against
#: 391 ms with it (median of 6 each, ours), so a solo reference without the pause made the
#: runs with the slow client look 5 % slower than they are.
SETTLE = 0.3


def _solo_blob_speed(kind: str, cfg: Config, spec: str) -> float:
    """MB/s of one client alone on a fresh server (the slow scenario's reference), started
    as the runs with the slow client are: after the same pause."""
    with Server(kind, args=BIG_QUEUE) as srv:
        (c,) = connect(srv, blobs=True)
        time.sleep(SETTLE)
        job = prepare(c, spec)
        r = stream(c, [c], job, "setBLOB", cfg.slow_count, timeout=300)
        c.close()
        return rate(r.counts[0] * cfg.blob_size / MB, r.ends[0] - r.t0)


def _with_slow_client(kind: str, cfg: Config, spec: str) -> dict[str, float]:
    with Server(kind) as srv:
        (fast,) = connect(srv, blobs=True)
        (slow,) = connect(srv, blobs=True, read=False)
        time.sleep(SETTLE)                # let the server take the slow client's requests
        job = prepare(fast, spec)
        r = stream(fast, [fast, slow], job, "setBLOB", cfg.slow_count, timeout=300,
                   require_done=False)
        speed = rate(r.counts[0] * cfg.blob_size / MB, r.ends[0] - r.t0)
        rss = srv.peak_rss_mb()
        slow.drain(idle=1.5, limit=20)
        out = {"slow_peak_rss_MB": rss,
               "slow_fast_MBps": speed,
               "slow_fast_lost": cfg.slow_count - r.counts[0],
               "slow_fast_disconnected": 1.0 if fast.eof else 0.0,
               "slow_slow_blobs": slow.counts["setBLOB"],
               "slow_slow_MB_received": slow.nbytes / MB,
               "slow_slow_disconnected": 1.0 if slow.eof else 0.0}
        fast.close()
        slow.close()
    return out


def scen_slow(kind: str, cfg: Config) -> dict[str, float]:
    """A never-reading client beside a fast one, against the fast one alone.

    A run lasts about half a second here, and the machine's speed changes from one second to
    the next, so a single solo run and a single run with the slow client compared different
    conditions (their ratio moved between 0.7 and 1.35 for the same code): each rep alternates
    `Config.slow_pairs` solo runs with as many runs with the slow client and compares the
    medians.
    """
    out, runs = _beside_vs_solo(kind, cfg, _with_slow_client, "slow")
    out["slow_peak_rss_MB"] = max(r["slow_peak_rss_MB"] for r in runs)
    return out


def _beside_vs_solo(
    kind: str, cfg: Config, beside: Callable[[str, Config, str], dict[str, float]], prefix: str
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """`Config.slow_pairs` solo runs alternating with as many `beside` runs: the medians of
    what the `beside` runs measured, the worst of what they lost, and the fast client's speed
    beside the other client over its solo speed (`prefix`_fast_vs_solo)."""
    spec = f"kind=blob count={cfg.slow_count} size={cfg.blob_size} style=libindi ping=1"
    solos: list[float] = []
    runs: list[dict[str, float]] = []
    for i in range(cfg.slow_pairs):
        if i % 2 == 0:
            solos.append(_solo_blob_speed(kind, cfg, spec))
            runs.append(beside(kind, cfg, spec))
        else:
            runs.append(beside(kind, cfg, spec))
            solos.append(_solo_blob_speed(kind, cfg, spec))
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    # What a single run lost or dropped must not be hidden by the median.
    for k in ("fast_lost", "fast_disconnected", "slow_disconnected"):
        out[f"{prefix}_{k}"] = max(r[f"{prefix}_{k}"] for r in runs)
    solo = statistics.median(solos)
    out[f"{prefix}_fast_vs_solo"] = out[f"{prefix}_fast_MBps"] / solo if solo else float("nan")
    return out, runs


#: How fast the slowread scenario's slow client reads (MB/s): a laptop on gigabit Ethernet.
SLOW_READER_MBPS = 100.0


def _with_slow_reader(kind: str, cfg: Config, spec: str) -> dict[str, float]:
    """The fast client's BLOB speed beside a client reading SLOW_READER_MBPS (another
    process: bench/slowreader.py), and what that client got."""
    with Server(kind) as srv:
        (fast,) = connect(srv, blobs=True)
        reader = subprocess.Popen(
            [sys.executable, str(HERE / "slowreader.py"), str(srv.port), str(SLOW_READER_MBPS)],
            stdout=subprocess.PIPE, text=True, cwd=HERE)
        try:
            assert reader.stdout is not None
            if reader.stdout.readline().strip() != "ready":
                raise RuntimeError("the slow reader did not start")
            job = prepare(fast, spec)
            r = stream(fast, [fast], job, "setBLOB", cfg.slow_count, timeout=300,
                       require_done=False)
            speed = rate(r.counts[0] * cfg.blob_size / MB, r.ends[0] - r.t0)
            fast_eof = fast.eof
        finally:
            reader.terminate()
            out, _ = reader.communicate(timeout=30)
        got = json.loads(out.strip().splitlines()[-1])
        fast.close()
    return {"slowread_fast_MBps": speed,
            "slowread_fast_lost": cfg.slow_count - r.counts[0],
            "slowread_fast_disconnected": 1.0 if fast_eof else 0.0,
            "slowread_slow_MB_received": got["bytes"] / MB,
            "slowread_slow_blobs": got["blobs"],
            "slowread_slow_disconnected": 1.0 if got["closed"] else 0.0}


def scen_slowread(kind: str, cfg: Config) -> dict[str, float]:
    """A client reading SLOW_READER_MBPS beside a fast one, against the fast one alone (no
    target in the issue: scenario 5's slow client never reads)."""
    return _beside_vs_solo(kind, cfg, _with_slow_reader, "slowread")[0]


def scen_getprops(kind: str, cfg: Config) -> dict[str, float]:
    total = cfg.extra + 4
    with Server(kind, extra=cfg.extra) as srv:
        (c,) = connect(srv, n=1, base_defs=total)    # warm: the server has seen them once
        c.close()
        c = RawClient(HOST, srv.port, "gp")
        hub = Hub([c])
        t0 = time.perf_counter()
        c.send(GETPROPS)
        if not hub.run_until(lambda: c.defs() >= total, 60):
            raise RuntimeError(f"only {c.defs()} of {total} definitions")
        dt = c.last["defNumber"] - t0
        hub.close()
        c.close()
    return {"getprops_ms": dt * 1000}


def client_ceiling(cfg: Config) -> float:
    """Decoded MB/s our RawClient can count when a forked process sendall()s pre-encoded
    libindi-style BLOBs straight at it (no INDI server): the harness's own limit."""
    import trafficdriver
    blob = trafficdriver.build_blob(cfg.blob_size, "libindi")
    count = min(cfg.blob_count, 20)
    lsock = socket.socket()
    lsock.bind((HOST, 0))
    lsock.listen(1)
    pid = os.fork()
    if pid == 0:   # child: serve one connection and exit
        try:
            conn, _ = lsock.accept()
            conn.recv(16)
            for _ in range(count):
                conn.sendall(blob)
            conn.sendall(b"<message>done calib</message>")
            time.sleep(2)
        finally:
            os._exit(0)
    try:
        c = RawClient(HOST, lsock.getsockname()[1], "calib")
        c.watch("done", b"done calib")
        c.focus("setBLOB", "done")
        hub = Hub([c])
        t0 = time.perf_counter()
        c.send(b"go")
        hub.run_until(lambda: c.counts["done"] > 0, 60)
        hub.close()
        c.close()
        return count * cfg.blob_size / MB / (c.last["setBLOB"] - t0)
    finally:
        lsock.close()
        os.waitpid(pid, 0)


SCENARIOS: dict[str, Callable[[str, Config], dict[str, float]]] = {
    "blob": scen_blob,
    "blobharness": scen_blobharness,
    "burst": scen_burst,
    "fanout": scen_fanout,
    "slow": scen_slow,
    "slowread": scen_slowread,
    "getprops": scen_getprops,
}

#: Scenarios where bench/floor.py (`--servers ...,floor,rawfloor`) is timed beside the servers.
FLOOR_SCENARIOS = {"roundtrip"}

#: The BLOB streams take only sockfloor (`--servers indiserver,ours,sockfloor -s blob`): the
#: driver on a socketpair as both servers give it, and its pings answered, which the streams'
#: driver waits for. No relay that copies can move a stream faster on the same machine, so its
#: MB/s bounds the ratio any server could reach there.
BLOB_FLOOR_SCENARIOS = {"blob", "blobharness"}
BLOB_FLOORS = {"sockfloor"}


def floor_runs(kind: str, scenario: str) -> bool:
    """Whether `kind` (a server, or a floor of floor.py) is timed in `scenario`."""
    if kind not in FLOORS:
        return True
    if kind in BLOB_FLOORS:
        return scenario in BLOB_FLOOR_SCENARIOS
    return scenario in FLOOR_SCENARIOS


#: Scenarios that run all servers at once (one call per rep, results per server).
PAIRED: dict[str, Callable[[list[str], Config], dict[str, dict[str, float]]]] = {
    "roundtrip": scen_roundtrip,
    "chain": partial(scen_roundtrip, chain=True),
}

# metric -> (label, unit, target description, check(ratio or value), ratio?)
# ratio targets compare ours / indiserver medians; "abs" targets judge ours alone.
TARGETS: dict[str, tuple[str, str, float | None, bool]] = {
    # metric: (label, direction, target, higher_is_better)
    "blob_libindi_MBps": ("BLOB libindi-style (72-col + enclen), MB/s", ">=", 1.0, True),
    "blob_oneline_MBps": ("BLOB one-line base64, MB/s", ">=", 6.0, True),
    "blobh_libindi_MBps": ("BLOB libindi-style, libindi's writes, 64 KiB reads, MB/s", ">=", 2.0,
                           True),
    "blobh_oneline_MBps": ("BLOB one-line, libindi's writes, 64 KiB reads, MB/s", ">=", 2.0, True),
    "burst_10000_msgps": ("10k setNumberVector burst, msg/s", ">=", 5.0, True),
    "fanout_aggregate_msgps": ("fan-out 10 clients aggregate, msg/s", ">=", 10.0, True),
    "fanout_slowest_msgps": ("fan-out slowest client, msg/s", "", None, True),
    "rt_p50_us": ("round trip p50, us", "<=", 1.0, False),
    "rt_p99_us": ("round trip p99, us", "<=", 1.0, False),
    "chain_rt_p50_us": ("round trip through two chained servers p50, us", "", None, False),
    "chain_rt_p99_us": ("round trip through two chained servers p99, us", "", None, False),
    "slow_peak_rss_MB": ("slow client: server peak RSS, MB", "<=", 0.5, False),
    "getprops_ms": ("getProperties 1003 vectors, ms", "<=", 1.0, False),
}


# A throughput only counts when nothing was lost: metric -> (key, kind, expected count)
LOSS_CHECK: dict[str, tuple] = {
    "blob_libindi_MBps": ("blob_libindi_lost", "lost", None),
    "blob_oneline_MBps": ("blob_oneline_lost", "lost", None),
    "blobh_libindi_MBps": ("blobh_libindi_lost", "lost", None),
    "blobh_oneline_MBps": ("blobh_oneline_lost", "lost", None),
    "burst_10000_msgps": ("burst_10000_delivered", "delivered", lambda cfg: 10_000),
    "fanout_aggregate_msgps": ("fanout_delivered_min", "delivered", lambda cfg: cfg.fan_count),
}

# ------------------------------------------------------------------------------------------
# driver framework scenario (ours only)
# ------------------------------------------------------------------------------------------

def scen_framework(cfg: Config) -> dict[str, float]:
    """bench/ipd_child.py run in-process by our server (--driver-script) to a raw client."""
    out: dict[str, float] = {}
    with Server("ours", exe=None, args=("--driver-script", str(HERE / "ipd_child.py")),
                env={"BENCH_VECTORS": str(cfg.fw_vectors)}) as srv:
        c = RawClient(HOST, srv.port, "fw")
        c.watch("done", b"loopdone")
        hub = Hub([c])
        total = cfg.fw_vectors + 3
        t0 = time.perf_counter()
        c.send(GETPROPS)
        if not hub.run_until(lambda: c.defs() >= total, 60):
            raise RuntimeError(f"framework: only {c.defs()} of {total} definitions")
        out["fw_getprops_ms"] = (max(c.last.values()) - t0) * 1000
        n = cfg.fw_count
        c.reset()
        t0 = time.perf_counter()
        c.send(new_number("Bench", "CTRL", "count", n))
        ok = hub.run_until(lambda: c.counts["done"] > 0, 300)
        if not ok:
            raise RuntimeError(f"framework stream did not finish: {c.counts['setNumber']}")
        got = c.counts["setNumber"]
        out["fw_msgps"] = got / (c.last["setNumber"] - t0)
        out["fw_delivered"] = got
        hub.close()
        c.close()
    return out


# ------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------

def fmt(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    indi = "?"
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "indi-bin"],
                           capture_output=True, text=True, check=False)
        indi = r.stdout.strip() or "?"
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return (f"nproc {os.cpu_count()}, {cpu}, Python {platform.python_version()}, "
            f"indi-bin {indi}, load average at start {load}")


def _one_server(name: str, kind: str, cfg: Config) -> dict[str, dict[str, float]]:
    """Scenario `name` on server `kind` alone, keyed by the server as the paired ones are."""
    return {kind: SCENARIOS[name](kind, cfg)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    every = [*SCENARIOS, *PAIRED, "framework"]
    ap.add_argument("-s", "--scenarios", default=",".join(every),
                    help="comma separated: " + ",".join(every))
    ap.add_argument("-r", "--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="1 rep, smaller sizes (finishes in about 2 minutes)")
    ap.add_argument("--servers", default="indiserver,ours")
    ap.add_argument("--slow-pairs", type=int, default=Config.slow_pairs, metavar="N",
                    help="solo runs, and as many beside the other client, per rep of the slow "
                         f"and slowread scenarios (default {Config.slow_pairs}; more for a "
                         "steadier ratio)")
    ap.add_argument("--max-seconds", type=float, default=1800,
                    help="stop starting new runs after this long")
    ap.add_argument("--scenario-timeout", type=int, default=0,
                    help="abandon one scenario run after this many seconds "
                         "(default 600, quick 90)")
    ap.add_argument("--profile-ours", metavar="DIR", default=None,
                    help="run our server under cProfile (slower!), save stats in DIR and print "
                         "the top functions by own time after each run")
    ap.add_argument("--ours-args", metavar="OPTIONS", default=None,
                    help="more options for every server of ours, e.g. '--shared-blobs on' "
                         "(after the scenario's own)")
    ap.add_argument("--ours-root", metavar="DIR", default=None,
                    help="measure the indipyserver/indipydriver found in DIR instead of this "
                         "checkout (e.g. a `git archive` of another commit)")
    args = ap.parse_args(argv)
    # `timeout`/kill send SIGTERM: unwind so that every server/driver we started is stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.ours_args:
        global OURS_ARGS
        OURS_ARGS = tuple(shlex.split(args.ours_args))
    if args.ours_root:
        global OURS_ROOT
        OURS_ROOT = Path(args.ours_root).resolve()
    if args.profile_ours:
        global PROFILE_DIR
        PROFILE_DIR = Path(args.profile_ours)

    cfg = Config()
    if args.quick:
        args.reps = 1 if "-r" not in (argv or sys.argv) and "--reps" not in (argv or sys.argv) \
            else args.reps
        cfg = Config(blob_count=10, blob_size=5 * 1024 * 1024, bursts=(10_000, 50_000),
                     fan_count=5_000, trips=500, slow_count=20, fw_count=20_000, short_bursts=1,
                     rt_sessions=1)
    cfg.slow_pairs = max(1, args.slow_pairs)
    if not args.scenario_timeout:
        args.scenario_timeout = 90 if args.quick else 600
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    servers = [s.strip() for s in args.servers.split(",")]
    if "ours" in servers:
        why = ours_available()
        if why:
            print(f"# ours (python -m indipyserver) not runnable: {why}; indiserver only\n")
            servers.remove("ours")
            ours_missing = why
        else:
            ours_missing = None
    else:
        ours_missing = "not selected"

    started = time.monotonic()
    ceiling = None
    if {"blob", "blobharness", "slow"} & set(names):
        try:
            ceiling = client_ceiling(cfg)
            print(f"[calibration] raw client counts {ceiling:.0f} MB/s of BLOBs with no server",
                  file=sys.stderr)
        except Exception as exc:  # noqa: BLE001  # a bench reports it and goes on
            errors_pre = f"calibration: {exc}"
            print(errors_pre, file=sys.stderr)
    results: dict[str, dict[str, list[float]]] = {s: {} for s in ("indiserver", "ours", *FLOORS)}
    errors: list[str] = []
    for name in names:
        if name not in PAIRED and (name == "framework" or name not in SCENARIOS):
            continue
        # floor.py only forwards bytes: it stands beside the servers where that means something.
        kinds = [k for k in servers if floor_runs(k, name)]
        for rep in range(args.reps):
            order = kinds if rep % 2 == 0 else list(reversed(kinds))
            runs: list[tuple[str, Callable[[], dict[str, dict[str, float]]]]]
            if name in PAIRED:  # all servers at once: one run per rep
                runs = [(f"{name} rep {rep + 1}", partial(PAIRED[name], order, cfg))]
            else:
                runs = [(f"{name} rep {rep + 1} {kind}",
                         partial(_one_server, name, kind, cfg)) for kind in order]
            for label, call in runs:
                if time.monotonic() - started > args.max_seconds:
                    errors.append(f"time budget reached before {label}")
                    continue
                t = time.monotonic()
                try:
                    with deadline(args.scenario_timeout):
                        by_kind = call()
                except Exception as exc:  # noqa: BLE001  # keep going: report it
                    errors.append(f"{label}: {exc}")
                    print(f"[{label}] ERROR {exc}", file=sys.stderr)
                    continue
                for kind, res in by_kind.items():
                    for k, v in res.items():
                        results[kind].setdefault(k, []).append(v)
                    print(f"[{name} rep {rep + 1} {kind}] {time.monotonic() - t:.1f}s "
                          + " ".join(f"{k}={fmt(v)}" for k, v in res.items()), file=sys.stderr)

    fw: dict[str, list[float]] = {}
    if "framework" in names and ours_missing is None:
        for rep in range(args.reps):
            try:
                t = time.monotonic()
                with deadline(args.scenario_timeout):
                    fwres = scen_framework(cfg)
                print(f"[framework rep {rep + 1} ours] {time.monotonic() - t:.1f}s "
                      + " ".join(f"{k}={fmt(v)}" for k, v in fwres.items()), file=sys.stderr)
                for k, v in fwres.items():
                    fw.setdefault(k, []).append(v)
            except Exception as exc:  # noqa: BLE001  # reported with the others
                errors.append(f"framework rep {rep + 1}: {exc}")
                print(f"[framework rep {rep + 1}] ERROR {exc}", file=sys.stderr)

    print(report(results, fw, cfg, args, ours_missing, errors, ceiling))
    return 0


class ScenarioTimeout(Exception):
    pass


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise ScenarioTimeout in the main thread after `seconds` (servers are then stopped by
    their context managers)."""
    def alarm(signum: int, frame: object) -> None:
        raise ScenarioTimeout(f"scenario took longer than {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def med(xs: list[float] | None) -> float | None:
    return statistics.median(xs) if xs else None


def report(results: dict[str, dict[str, list[float]]], fw: dict[str, list[float]], cfg: Config,
           args: argparse.Namespace, ours_missing: str | None, errors: list[str],
           ceiling: float | None = None) -> str:
    I, O = results["indiserver"], results["ours"]
    lines = [f"Machine: {machine()}", "",
             f"Reps: {args.reps} (medians; server order alternates per rep)"
             f"{' -- QUICK MODE (smaller sizes)' if args.quick else ''}", "",
             "| scenario | indiserver | ours | ours/indiserver | target | result |",
             "|---|---:|---:|---:|---|---|"]

    def row(label: str, key: str, direction: str, target: float | None, higher: bool) -> None:
        a, b = med(I.get(key)), med(O.get(key))
        ratio = b / a if a and b is not None else None
        if target is None or ratio is None:
            res = "" if target is None else "n/a"
        else:
            ok = ratio >= target if direction == ">=" else ratio <= target
            res = "PASS" if ok else "MISS"
            lost = LOSS_CHECK.get(key)
            if lost and O.get(lost[0]):
                worst = max(O[lost[0]]) if lost[1] == "lost" else min(O[lost[0]])
                if (worst > 0) if lost[1] == "lost" else (worst < lost[2](cfg)):
                    res = "MISS (lost messages)"
        tgt = f"{direction} {target}x" if target is not None else ""
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {fmt(ratio) + 'x' if ratio else 'n/a'}"
                     f" | {tgt} | {res} |")

    mb = cfg.blob_size / (1024 * 1024)
    for key, (label, direction, target, higher) in TARGETS.items():
        if key.startswith("blob_"):
            label += f" ({cfg.blob_count} x {mb:g} MiB)"
        if key.startswith("fanout"):
            label = label.replace("10 clients", f"{cfg.fan_clients} clients x {cfg.fan_count}")
        if key.startswith("slow_"):
            label += f" ({cfg.slow_count} x {mb:g} MiB)"
        if key == "getprops_ms":
            label = f"getProperties {cfg.extra + 4} vectors, ms"
        if I.get(key) or O.get(key):
            row(label, key, direction, target, higher)
        if key == "burst_10000_msgps":
            big = cfg.bursts[1]
            if I.get(f"burst_{big}_msgps") or O.get(f"burst_{big}_msgps"):
                row(f"{big // 1000}k setNumberVector burst, msg/s", f"burst_{big}_msgps",
                    "", None, True)
                a, b = med(O.get(f"burst_{big}_msgps")), med(O.get("burst_10000_msgps"))
                a2, b2 = med(I.get(f"burst_{big}_msgps")), med(I.get("burst_10000_msgps"))
                ri = a2 / b2 if a2 and b2 else None
                ro = a / b if a and b else None
                res = "n/a" if ro is None else ("PASS" if ro >= 0.9 else "MISS")
                lines.append(f"| {big // 1000}k vs 10k per-message speed (1.0 = linear) | "
                             f"{fmt(ri)} | {fmt(ro)} | | ours >= 0.9 | {res} |")
    extra_rows = [
        ("BLOB libindi-style: BLOBs lost", "blob_libindi_lost"),
        ("BLOB one-line: BLOBs lost", "blob_oneline_lost"),
        ("BLOB harness libindi-style: BLOBs lost", "blobh_libindi_lost"),
        ("BLOB harness one-line: BLOBs lost", "blobh_oneline_lost"),
        ("10k burst: messages delivered", "burst_10000_delivered"),
        (f"{cfg.bursts[1] // 1000}k burst: messages delivered", f"burst_{cfg.bursts[1]}_delivered"),
        ("fan-out: fewest messages delivered to a client", "fanout_delivered_min"),
        ("slow client: fast client MB/s", "slow_fast_MBps"),
        ("slow client: fast client BLOBs lost", "slow_fast_lost"),
        ("slow client: fast client disconnected (1 = yes)", "slow_fast_disconnected"),
        ("slow client: slow client BLOBs received", "slow_slow_blobs"),
        ("slow client: slow client MB received", "slow_slow_MB_received"),
        ("slow client: slow client disconnected (1 = yes)", "slow_slow_disconnected"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: fast client MB/s", "slowread_fast_MBps"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: fast client BLOBs lost", "slowread_fast_lost"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: fast client speed / solo speed",
         "slowread_fast_vs_solo"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: its MB received", "slowread_slow_MB_received"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: its BLOBs received", "slowread_slow_blobs"),
        (f"client reading {SLOW_READER_MBPS:g} MB/s beside: it was disconnected (1 = yes)",
         "slowread_slow_disconnected"),
    ]
    for label, key in extra_rows:
        if I.get(key) or O.get(key):
            lines.append(f"| {label} | {fmt(med(I.get(key)))} | {fmt(med(O.get(key)))} | | | |")
    for floor in BLOB_FLOORS:
        F = results.get(floor, {})
        for key, (label, *_rest) in TARGETS.items():
            if not key.startswith("blob"):
                continue
            a, f = med(I.get(key)), med(F.get(key))
            if f is not None:
                ratio = f"{fmt(f / a)}x" if a else "n/a"
                lines.append(f"| {label}: {FLOORS[floor][0]}, no INDI ({floor}) in the ours "
                             f"column | {fmt(a)} | {fmt(f)} | {ratio} | | |")
    for floor, (title, _) in FLOORS.items():
        F = results.get(floor, {})
        for key, what in (("rt_p50_us", "p50"), ("rt_p99_us", "p99")):
            a, f = med(I.get(key)), med(F.get(key))
            if f is not None:
                ratio = f"{fmt(f / a)}x" if a else "n/a"
                lines.append(f"| round trip {what}, us: {title}, no INDI ({floor}) "
                             f"in the ours column | {fmt(a)} | {fmt(f)} | {ratio} | | |")
    for who, data in (("indiserver", I), ("ours", O)):
        v = med(data.get("slow_fast_vs_solo"))
        if v is not None:
            res = ("PASS" if v >= 0.95 and not med(data.get("slow_fast_lost")) else "MISS") \
                if who == "ours" else ""
            # Rounded down, to three decimals: a 0.9497 that misses printed as 0.95.
            shown = math.floor(v * 1000) / 1000
            lines.append(f"| slow client: fast client speed / solo speed ({who}) | | | {shown:.3f} "
                         f"| ours >= 0.95, nothing lost | {res} |")
    if fw:
        v = med(fw.get("fw_msgps"))
        lines.append(f"| driver framework: in-process IPyDriver setNumberVector loop, msg/s "
                     f"({cfg.fw_count}) | | {fmt(v)} | | >= 50,000 msg/s | "
                     f"{'PASS' if v and v >= 50_000 else 'MISS'} |")
        lines.append(f"| driver framework: getProperties {cfg.fw_vectors + 3} vectors, ms | | "
                     f"{fmt(med(fw.get('fw_getprops_ms')))} | | | |")
        lines.append(f"| driver framework: messages delivered | | "
                     f"{fmt(med(fw.get('fw_delivered')))} | | | |")
    if ceiling:
        lines += ["", f"Harness ceiling: the raw client counts {ceiling:.0f} MB/s of BLOBs "
                      f"(decoded) sent straight to it with no server in between."]
    if ours_missing:
        lines += ["", f"ours: not measured ({ours_missing})"]
    if errors:
        lines += ["", "Errors:"] + [f"- {e}" for e in errors]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
