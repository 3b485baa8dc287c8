#!/usr/bin/env python3
"""MQTT BLOBs through the bridges as they are deployed, beside a bare MQTT pair (issue 45).

    python bench/mqttblobs.py [--count 10] [--size 10000000] [--style libindi] [-r 3]
                              [--feed server|direct] [--numbers N]

Bridge: ``bench/trafficdriver.py`` under ``indipyserver`` -> ``inditomqtt`` -> mosquitto ->
``mqtttoport`` -> a raw INDI client in this process; each program in a process of its own, as
they run on a site and a client machine (``python -m indiredis inditomqtt|mqtttoport``). The
client asks for the BLOBs (``enableBLOB Also``), has the driver prepare COUNT BLOBs of SIZE
bytes in STYLE and times from its ``go`` to the last ``</setBLOBVector>``.

``--feed direct``: ``trafficdriver.py`` serves the site itself on a loopback port (no INDI
server between), so that what feeds the bridges costs what feeds the bare pair (pre-made bytes
written to a socket) and the comparison is of the three programs the issue names.
``--numbers N`` also times bursts of N setNumberVector through the bridge (msg/s).

Bare: ``bench/mqttpub.py`` (an aiomqtt publisher in a process of its own, the site's place)
publishes the same setBLOBVector bytes COUNT times at the bridge's QoS 2 through the same
mosquitto to an aiomqtt subscriber in this process (the client's place), timed from the ``go``
it is sent to the last message received.

The bridges' command line sets glibc's malloc thresholds for their processes
(``indiredis.freedmemory``); ``--tuned-bare`` gives the bare publisher and this process (the
bare subscriber, and the bridge's reading client) the same settings, for a like-for-like
comparison.

Both report MB/s of decoded BLOB data; the runs alternate (bare, bridge, ...) and the medians
are compared in the same run. Needs mosquitto (Debian ``mosquitto``) and the ``[mqtt]`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from typing import Self

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run
from processes import stop_group
from rawclient import CLOSE_TAGS
from rawclient import RawClient


def wait_listening(port: int, process: subprocess.Popen[bytes], what: str,
                   timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection((run.HOST, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not listening on {port}")


def start(cmd: list[str], log: Path, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(run.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                pass_fds=pass_fds)


class Port:
    """What `run.connect` needs of a server: mqtttoport's port."""

    kind = "mqtttoport"

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self._log = log

    def log_tail(self) -> str:
        return self._log.read_bytes()[-4000:].decode(errors="replace")


class DirectFeed:
    """``trafficdriver.py`` serving the site itself on a loopback port (``--feed direct``): an
    INDI device speaking on TCP with no server between, so that what feeds the bridge costs
    what the bare publisher costs (pre-made bytes written to a socket). The listening socket
    is made here and inherited, so the site's first connection is the driver's."""

    kind = "trafficdriver"

    def __init__(self, log: Path) -> None:
        self._listener = socket.create_server((run.HOST, 0))
        self.port = self._listener.getsockname()[1]
        fd = self._listener.fileno()
        self.proc = start([sys.executable, str(HERE / "trafficdriver.py"), "--listen-fd",
                           str(fd)], log, pass_fds=(fd,))
        self._listener.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        stop_group(self.proc)


def numbers_rate(client: RawClient, count: int) -> float:
    """Messages/s of a burst of `count` setNumberVector through the bridge, each its own MQTT
    message (what the broker's round trips bound)."""
    client.watch("setNumber", CLOSE_TAGS["setNumber"])  # the BLOB runs focused it away
    job = run.prepare(client, f"kind=num count={count}")
    result = run.stream(client, [client], job, "setNumber", count, timeout=300)
    if result.counts[0] < count:
        raise RuntimeError(f"the bridge delivered {result.counts[0]} of {count} numbers")
    return run.rate(count, result.ends[0] - result.t0)


def bridge_rate(client: RawClient, count: int, size: int, style: str) -> float:
    job = run.prepare(client, f"kind=blob count={count} size={size} style={style} ping=1")
    result = run.stream(client, [client], job, "setBLOB", count, timeout=300)
    if result.counts[0] < count:
        raise RuntimeError(f"the bridge delivered {result.counts[0]} of {count} BLOBs")
    return run.rate(count * size / run.MB, result.ends[0] - result.t0)


async def bare_rate(mport: int, topic: str, count: int, size: int) -> float:
    import aiomqtt

    async with aiomqtt.Client(run.HOST, mport, identifier=f"bare-sub-{topic}-{time.time_ns()}",
                              max_queued_incoming_messages=count + 10) as sub:
        await sub.subscribe(f"{topic}/data", qos=2)
        await sub.subscribe(f"{topic}/done", qos=2)
        began = time.perf_counter()
        await sub.publish(f"{topic}/go", f"go {count}".encode(), qos=2)
        got, last = 0, began
        async for message in sub.messages:
            if message.topic.matches(f"{topic}/data"):
                got += 1
                last = time.perf_counter()
            elif got >= count:
                break
    if got < count:
        raise RuntimeError(f"the bare pair delivered {got} of {count} messages")
    return count * size / run.MB / (last - began)


async def publisher_ready(mport: int, topic: str, process: subprocess.Popen[bytes]) -> None:
    import aiomqtt

    async with aiomqtt.Client(run.HOST, mport, identifier=f"bare-wait-{topic}") as client:
        await client.subscribe(f"{topic}/ready", qos=2)
        while True:
            try:
                async with asyncio.timeout(0.5):
                    async for _ in client.messages:
                        return
            except TimeoutError:
                if process.poll() is not None:
                    raise RuntimeError("bench/mqttpub.py exited") from None


def cpu(pids: dict[str, int]) -> dict[str, float]:
    """CPU ms so far of each named process (its threads and waited-for children included)
    and of this one (the reading client), as /proc says."""
    from blobspeed import children
    from blobspeed import cpu_ms

    out = {name: cpu_ms(pid) + sum(map(cpu_ms, children(pid))) for name, pid in pids.items()}
    out["client"] = time.process_time() * 1000
    return out


def spent(before: dict[str, float], after: dict[str, float], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {after[name] - before[name]:.0f}" for name in (*names, "client"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10, help="BLOBs a run")
    ap.add_argument("--size", type=int, default=10_000_000, help="bytes a BLOB (decoded)")
    ap.add_argument("--style", choices=("libindi", "oneline"), default="libindi")
    ap.add_argument("-r", "--reps", type=int, default=3, help="runs of each, alternated")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="run the bridges under cProfile, writing DIR/site.prof, DIR/port.prof")
    ap.add_argument("--feed", choices=("server", "direct"), default="server",
                    help="what the site reads: server = trafficdriver.py under indipyserver "
                    "(a site as deployed); direct = trafficdriver.py serving the site itself, "
                    "pre-made bytes on a socket as the bare publisher has them")
    ap.add_argument("--numbers", type=int, default=0, metavar="N",
                    help="also time bursts of N setNumberVector through the bridge (msg/s)")
    ap.add_argument("--tuned-bare", action="store_true",
                    help="the bare pair's processes get the bridges' malloc settings too")
    args = ap.parse_args(argv)
    if args.tuned_bare:
        from indiredis.freedmemory import keep_freed_memory

        keep_freed_memory()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-mqttblobs-"))
    mport, port = run.free_port(), run.free_port()
    (tmp / "m.conf").write_text(f"listener {mport} {run.HOST}\nallow_anonymous true\n"
                                "set_tcp_nodelay true\npersistence false\n")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    procs: list[subprocess.Popen[bytes]] = []
    topic = f"bench{os.getpid()}"
    try:
        broker = start([mosquitto, "-c", str(tmp / "m.conf")], tmp / "mosquitto.log")
        procs.append(broker)
        wait_listening(mport, broker, "mosquitto")
        publisher = start([sys.executable, str(HERE / "mqttpub.py"), str(mport), topic,
                           str(args.size), args.style, *(["tuned"] if args.tuned_bare else [])],
                          tmp / "mqttpub.log")
        procs.append(publisher)
        asyncio.run(publisher_ready(mport, topic, publisher))
        feed = (DirectFeed(tmp / "driver.log") if args.feed == "direct"
                else run.Server("ours", args=run.BIG_QUEUE))
        with feed as server:
            mqtt = ["--mhost", run.HOST, "--mport", str(mport)]
            prof = (lambda name: ["-m", "cProfile", "-o", str(args.profile / f"{name}.prof")]
                    if args.profile else [])
            procs.append(start([sys.executable, *prof("site"), "-m", "indiredis", "inditomqtt",
                                "site",
                                "--ihost", run.HOST, "--iport", str(server.port), *mqtt],
                               tmp / "site.log"))
            procs.append(start([sys.executable, *prof("port"), "-m", "indiredis", "mqtttoport",
                                "port",
                                "--host", run.HOST, "--port", str(port), *mqtt],
                               tmp / "port.log"))
            wait_listening(port, procs[-1], "mqtttoport")
            (client,) = run.connect(Port(port, tmp / "port.log"), blobs=True)  # type: ignore[arg-type]
            bridge: list[float] = []
            bare: list[float] = []
            named = {"server": server.proc.pid, "site": procs[2].pid, "port": procs[3].pid,
                     "mosquitto": broker.pid, "publisher": publisher.pid}
            for rep in range(args.reps):
                before = cpu(named)
                bare.append(asyncio.run(bare_rate(mport, topic, args.count, args.size)))
                middle = cpu(named)
                try:
                    bridge.append(bridge_rate(client, args.count, args.size, args.style))
                except RuntimeError as exc:
                    # Where BLOBs went missing: the port's server drops superseded ones for
                    # a client it judges slow, and says so (INFO).
                    tails = "\n".join(f"--- {name}.log:\n"
                                      + (tmp / f"{name}.log").read_bytes()[-3000:].decode(
                                          errors="replace") for name in ("site", "port"))
                    raise RuntimeError(f"{exc}\n{tails}") from None
                after = cpu(named)
                print(f"[rep {rep + 1}] bare {bare[-1]:.1f} MB/s, bridge {bridge[-1]:.1f} MB/s;"
                      " CPU ms bare: " + spent(before, middle, ("mosquitto", "publisher"))
                      + "; bridge: " + spent(middle, after, ("server", "site", "mosquitto",
                                                             "port")),
                      file=sys.stderr, flush=True)
            numbers = [numbers_rate(client, args.numbers) for _ in range(args.reps)
                       if args.numbers]
            client.close()
    finally:
        if args.profile:  # cProfile writes its file on the KeyboardInterrupt, not on SIGTERM
            for process in procs[2:]:
                process.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
        for process in reversed(procs):
            stop_group(process)
        shutil.rmtree(tmp, ignore_errors=True)
    rate, bare_med = statistics.median(bridge), statistics.median(bare)
    print(f"{args.reps} reps alternated, {args.count} BLOBs of {args.size:,} bytes, "
          f"{args.style} style, QoS 2{', bare pair tuned' if args.tuned_bare else ''}; "
          f"medians (min-max); load {os.getloadavg()[0]:.1f}")
    print("| path | MB/s | min-max |")
    print("|---|---:|---:|")
    first = "trafficdriver" if args.feed == "direct" else "indipyserver"
    print(f"| {first} -> inditomqtt -> mosquitto -> mqtttoport -> client | {rate:.1f} "
          f"| {min(bridge):.0f}-{max(bridge):.0f} |")
    print(f"| aiomqtt publisher -> mosquitto -> aiomqtt subscriber | {bare_med:.1f} "
          f"| {min(bare):.0f}-{max(bare):.0f} |")
    print(f"| bridge / bare | **{rate / bare_med:.2f}** (target >= 0.8) | |")
    if numbers:
        print(f"bursts of {args.numbers} setNumberVector through the bridge: "
              f"{statistics.median(numbers):,.0f} msg/s ({min(numbers):,.0f}-{max(numbers):,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
