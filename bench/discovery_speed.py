"""Issue 73 item 6: how soon a listing finds the first server, and when it has them all.

    python bench/discovery_speed.py [--reps 7] [--avahi 4] [--ours 2] [--timeout 3]

Everything on the loopback interface (INDIPY_MDNS_INTERFACES=lo, set here): Debian's
avahi-daemon (tests/discoverykit.py: a private system bus, loopback multicast on, the tests'
machine-wide lock held for the run) publishes `--avahi` services (half ``_indi._tcp`` with our
TXT keys, half ``_indigo._tcp`` as INDIGO's, each on a port that accepts connections); `--ours`
of our servers (``indipyserver --demo``) announce themselves; and one of our servers serves
its devices as Alpaca (``--alpaca``, discovery on a UDP port of its own). Each rep is one
``discover_async`` (a fresh zeroconf, so nothing is remembered between reps) from which the
time to the first service found and to the last expected one (all of them: matched by kind
and port) are taken from ``on_found``. Medians over the reps; targets: first <= 1 s, complete
<= 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours.
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from discoverykit import running_avahi

from indipydiscovery.browse import discover_async
from indipydiscovery.service import Service
from indipydiscovery.txt import server_txt


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listener(stack: ExitStack) -> int:
    """A TCP port that accepts connections for the run (what a published service points at)."""
    sock = stack.enter_context(socket.socket())
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return int(sock.getsockname()[1])


def our_server(stack: ExitStack, workdir: Path, *args: str) -> int:
    """``python -m indipyserver --demo ARGS`` on a free port for the run; its port, once it
    accepts connections."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = stack.enter_context((workdir / "server.log").open("wb"))
    process = subprocess.Popen(
        [sys.executable, "-m", "indipyserver", "-p", str(port), "-u", str(workdir / "sock"),
         *args, "--demo"], cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(workdir), "PYTHONPATH": str(ROOT)},
        start_new_session=True)
    stack.callback(lambda: (process.terminate(), process.wait(20)))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return port
        if process.poll() is not None:
            raise SystemExit(f"our server exited: {(workdir / 'server.log').read_text()}")
        time.sleep(0.05)
    raise SystemExit(f"our server did not listen: {(workdir / 'server.log').read_text()}")


def announces() -> bool:
    """Whether this checkout's indipyserver announces itself (has ``--no-announce``)."""
    out = subprocess.run([sys.executable, "-m", "indipyserver", "--help"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         check=False)
    return "--no-announce" in out.stdout


async def one_listing(expected: set[tuple[str, int]], timeout: float,
                      alpaca_port: int) -> tuple[float | None, float | None, int]:
    """Seconds to the first service and to the last expected one (None: not within the
    listing), and how many services the listing held."""
    started = time.monotonic()
    first: list[float] = []
    complete: list[float] = []
    seen: set[tuple[str, int]] = set()

    def found(service: Service) -> None:
        now = time.monotonic() - started
        if not first:
            first.append(now)
        seen.add((service.kind, service.port))
        if not complete and expected <= seen:
            complete.append(now)

    listed = await discover_async(timeout, on_found=found, alpaca_port=alpaca_port)
    return (first[0] if first else None, complete[0] if complete else None, len(listed))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--avahi", type=int, default=4, help="services avahi-publish publishes")
    p.add_argument("--ours", type=int, default=2, help="our servers announcing themselves")
    p.add_argument("--timeout", type=float, default=3.0, help="each listing's time")
    args = p.parse_args()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="discovery-speed-")))
        (work / "avahi").mkdir()
        avahi = stack.enter_context(running_avahi(work / "avahi"))
        expected: set[tuple[str, int]] = set()
        for index in range(args.avahi):
            port = listener(stack)
            if index % 2 == 0:
                txt = server_txt(version="1.0", devices=[f"Telescope {index}"])
                stack.enter_context(avahi.publish(f"Bench INDI {index}", "_indi._tcp", port, txt))
                expected.add(("indi", port))
            else:
                stack.enter_context(avahi.publish(f"Bench INDIGO {index}", "_indigo._tcp", port))
                expected.add(("indigo", port))
        if args.ours and not announces():
            raise SystemExit("this checkout's indipyserver does not announce: run with --ours 0")
        for index in range(args.ours):
            port = our_server(stack, work / f"ours-{index}", "--mdns-interface", "lo")
            expected.add(("indi", port))
        api, udp = free_port(), free_port(socket.SOCK_DGRAM)
        quiet = ("--no-announce",) if announces() else ()
        our_server(stack, work / "alpaca", "--alpaca", str(api), "--alpaca-discovery", str(udp),
                   "--alpaca-devices", str(work / "ids.json"), *quiet)
        expected.add(("alpaca", api))
        firsts, completes, misses = [], [], 0
        print(f"{len(expected)} servers: {args.avahi} avahi-publish'd, {args.ours} ours "
              f"announcing, 1 Alpaca; listing {args.timeout:g} s, {args.reps} reps")
        for rep in range(args.reps):
            first, complete, count = asyncio.run(one_listing(expected, args.timeout, udp))
            print(f"rep {rep + 1}: first {_ms(first)}, complete {_ms(complete)}, "
                  f"{count} listed")
            if first is not None:
                firsts.append(first)
            if complete is None:
                misses += 1
            else:
                completes.append(complete)
        load = os.getloadavg()[0]
        print(f"median first found {_ms(statistics.median(firsts) if firsts else None)} "
              f"(target <= 1000 ms); median complete "
              f"{_ms(statistics.median(completes) if completes else None)} (target <= 3000 ms); "
              f"incomplete listings {misses}/{args.reps}; load average {load:.2f}")
    return 0


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    sys.exit(main())
