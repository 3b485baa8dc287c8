"""The server's own CPU per round trip, without the kernel or the event loop.

`python bench/hotpath.py` drives the real objects of one round trip -- a client's
`ClientConnection`, the `Router`, an executable driver's `InboundProtocol` and its
`DriverConnection` -- through stand-in transports that only count bytes, and reports
microseconds per trip (client newNumberVector in -> driver write, driver setNumberVector in ->
client write). The round-trip scenario of `run.py` measures the same path with real sockets,
pipes and processes on a shared machine, where a trip's latency is mostly the kernel and
waking peers; this isolates the part that is ours, so a change to the hot path can be judged
without that noise. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from indirequests import new_number
from indirequests import one_line

from indipycore.protocol import Number
from indipycore.protocol import SetNumberVector
from indipycore.protocol import State

try:  # the server in folders by concern
    from indipyserver.blobs.cutthrough import BlobForwarder
    from indipyserver.clients.clientconnection import ClientConnection
    from indipyserver.drivers.driverconnection import DriverConnection
    from indipyserver.drivers.inbound import InboundProtocol
    from indipyserver.fastpath.shortcut import Shortcut
    from indipyserver.routing.router import Router
except ImportError:  # a checkout from before the folders (burstpath.py --ours-root), compared
    from indipyserver.cutthrough import BlobForwarder  # type: ignore[no-redef]
    from indipyserver.driverconn import DriverConnection  # type: ignore[no-redef]
    from indipyserver.peerio import InboundProtocol  # type: ignore[no-redef]
    from indipyserver.router import Router  # type: ignore[no-redef]

    from indipyserver.clients import ClientConnection  # type: ignore[no-redef,attr-defined]

    Shortcut = None  # type: ignore[assignment,misc]  # the router took the shortcut itself

_shortcuts: dict[int, object] = {}


def shortcut_of(router: Router) -> Shortcut:
    """The round trip's shortcut as the server hands it to a client and to a driver that
    reads a peer (one per router)."""
    if Shortcut is None:
        return router  # type: ignore[return-value]
    found = _shortcuts.get(id(router))
    if found is None:
        found = _shortcuts[id(router)] = Shortcut(router.tables)
        found.driver_added()
    return found  # type: ignore[return-value]

DEFS = (
    b'<defNumberVector device="Bench" name="NUM" label="n" group="g" state="Idle" perm="rw" '
    b'timeout="0"><defNumber name="v" label="v" format="%g" min="0" max="0" step="0">0'
    b"</defNumber></defNumberVector>\n"
)


class CountingTransport(asyncio.Transport):
    """Takes whatever is written at once, as a socket with room in its buffer would."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0
        self.writes = 0
        self.kept: list[bytes | bytearray | memoryview] | None = None  # what was written, if asked
        self.max_size = 1 << 16

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += len(data)
        self.writes += 1
        if self.kept is not None:
            self.kept.append(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 7624) if name == "peername" else default

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


class BenchDriver(DriverConnection):
    async def run(self, router: Router) -> None:  # never started: the bench feeds it directly
        raise NotImplementedError


def bench_driver(router: Router) -> tuple[InboundProtocol, CountingTransport]:
    """An executable driver's connection as `drivers.executable` wires it, its definitions routed: the
    protocol its output is fed to, and the transport that counts what is written to it."""
    driver = BenchDriver("bench")
    to_driver = CountingTransport()
    driver.attach_writer(to_driver)
    inbound = InboundProtocol(partial(router.driver_frames, driver), "bench",
                              BlobForwarder(router, driver))
    inbound.shortcut_route = partial(shortcut_of(router).route_set, driver)  # as the server gives it
    inbound.connection_made(CountingTransport())
    router.driver_ready(driver)
    inbound.start()
    inbound.data_received(DEFS)
    return inbound, to_driver


def bench_client(router: Router) -> tuple[ClientConnection, CountingTransport]:
    """A client that asked for every property, and the transport that counts what it gets."""
    client = ClientConnection(router, set())
    client._shortcut_route = shortcut_of(router).route_new  # as the server gives it
    to_client = CountingTransport()
    client.connection_made(to_client)
    client.data_received(b'<getProperties version="1.7"/>\n')
    return client, to_client


async def measure(trips: int, evict: int = 0) -> tuple[float, int, int]:
    """Seconds for `trips` round trips; bytes written to the driver and to the client.

    With `evict` > 0, that many bytes are written over before each half of every trip, so
    the server's code and data are out of the CPU caches, as they are in a real server
    between peers (whose turns on the shared CPUs evict them); only the server's calls are
    timed. Warm, the loop measures the code alone; evicted, it tracks the real server's
    extra CPU per trip (about 5x the warm figure here).
    """
    router = Router()
    inbound, to_driver = bench_driver(router)
    client, to_client = bench_client(router)
    news = [new_number("Bench", "NUM", "v", i) for i in range(trips)]
    sets = [one_line(SetNumberVector("Bench", "NUM", (Number("v", str(i)),), state=State.OK))
            for i in range(trips)]
    start = (to_driver.written, to_client.written)
    from_client = client.data_received
    from_driver = inbound.data_received
    if not evict:
        t0 = time.perf_counter()
        for new, set_ in zip(news, sets):
            from_client(new)
            from_driver(set_)
        elapsed = time.perf_counter() - t0
    else:
        junk = bytearray(evict)
        zeros = bytes(len(junk[::64]))  # one byte per cache line
        clock = time.perf_counter
        elapsed = 0.0
        for new, set_ in zip(news, sets):
            junk[::64] = zeros
            t0 = clock()
            from_client(new)
            t1 = clock()
            junk[::64] = zeros
            t2 = clock()
            from_driver(set_)
            elapsed += clock() - t2 + t1 - t0
    return elapsed, to_driver.written - start[0], to_client.written - start[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--trips", type=int, default=100_000)
    ap.add_argument("-r", "--reps", type=int, default=5)
    ap.add_argument("--cold", type=int, default=0, metavar="MB",
                    help="evict the CPU caches (write over MB MiB) before each half of a trip")
    args = ap.parse_args()
    per_trip = []
    for _ in range(args.reps):
        elapsed, to_driver, to_client = asyncio.run(measure(args.trips, args.cold << 20))
        if not (to_driver and to_client):
            raise SystemExit("nothing reached the driver or the client: the bench is broken")
        per_trip.append(elapsed / args.trips * 1e6)
    what = f", caches evicted ({args.cold} MiB)" if args.cold else ""
    print(f"server hot path{what}: {statistics.median(per_trip):.2f} us per round trip "
          f"(median of {args.reps} x {args.trips:,} trips; "
          f"min {min(per_trip):.2f}, max {max(per_trip):.2f})")


if __name__ == "__main__":
    main()
