"""The bridges' costs, measured in one run (not a timed test; quiet machine wanted):

1. a burst of setNumberVector from our server into redis by ``inditoredis`` (sets/s), beside a
   bare redis.asyncio pipeline writing the same keys (attributes and member hashes, the
   member's log stream and the ``from_indi`` publish) in batches of 100 and of 1000, the faster
   of the two taken: the bridge should reach a third of the bare rate. The server (``python -m
   indipyserver bench/trafficdriver.py``, which writes the burst pre-encoded) runs in its own
   process, as it would beside a bridge; the bridge runs in this one, and the burst is timed
   from the ``go`` to the last value stored in redis (polled every 2 ms; its publish is in the
   same pipeline). Nothing subscribes to ``from_indi`` in either (a subscriber in this process
   would time itself);
2. a round trip INDI client -> ``mqtttoport`` -> broker -> site (``inditomqtt`` before our
   server with an echoing driver) -> back, p50/p99, beside the same round trip to our server
   alone;
3. BLOBs across MQTT (site -> broker -> mqtttoport -> an INDI client), MB/s, alternated with
   the same payloads published and received by a bare aiomqtt pair through the same broker.

    python bench/bridges.py                       # 10k burst, 200 trips, 10 x 10 MB
    python bench/bridges.py --burst 500 --trips 20 --blobs 2 --blob-mb 1    # smoke run

It starts its own redis-server and mosquitto on free loopback ports (Debian packages) and
stops them. What bounds each figure is printed under the table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis.asyncio as aioredis
from indirequests import control
from indirequests import new_number
from serverkit import make_gadget

from indipyserver import IPyServer
from indiredis import indi_server
from indiredis import inditomqtt_async
from indiredis import inditoredis_async
from indiredis import mqtt_server
from indiredis import mqtttoport_async
from indiredis import redis_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server_process(args: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{args[0]} did not start")
        yield
    finally:
        process.terminate()
        process.wait(5)


@contextlib.asynccontextmanager
async def task(coro: object) -> AsyncIterator[None]:
    running = asyncio.create_task(coro)  # type: ignore[arg-type]
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


@contextlib.asynccontextmanager
async def serving(server: IPyServer) -> AsyncIterator[IPyServer]:
    async with task(server.asyncrun()):
        await server.started()
        yield server
        server.shutdown()


TRAFFIC = Path(__file__).resolve().parent / "trafficdriver.py"


async def burst_bridge(n: int, redis_port: int, folder: Path) -> tuple[float, int]:
    """Sets a second from the go to the last value in redis, and the member's log length."""
    port = free_port()
    r = aioredis.Redis(port=redis_port)
    key = "indi_elementattributes:v:NUM:Bench"
    with server_process([sys.executable, "-m", "indipyserver", "-p", str(port),
                         str(TRAFFIC)], port):
        async with task(inditoredis_async(indi_server("127.0.0.1", port),
                                          redis_server("127.0.0.1", redis_port),
                                          blob_folder=folder)):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # Only the status vector: this client must not read the burst itself.
            writer.write(b'<getProperties version="1.7" device="Bench" name="BENCH_STATUS"/>')
            await asyncio.wait_for(reader.readuntil(b"</defTextVector>"), 30)
            writer.write(control(f"prepare id=1 kind=num count={n}"))
            await asyncio.wait_for(reader.readuntil(b"ready 1"), 30)
            while not await r.exists(key):
                await asyncio.sleep(0.02)
            last = str(n - 1).encode()
            began = time.perf_counter()
            writer.write(control("go id=1"))
            while await r.hget(key, "value") != last:
                await asyncio.sleep(0.002)
            elapsed = time.perf_counter() - began
            logged = await r.xlen("indi_logdata:elementattributes:v:NUM:Bench")
            writer.close()
    await r.aclose()
    return n / elapsed, logged


async def burst_bare(n: int, redis_port: int, batch: int) -> float:
    r = aioredis.Redis(port=redis_port)
    began = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        pipe.hset("bare_attributes:NUM:Bench", mapping={"timestamp": stamp, "state": "Ok"})
        pipe.hset("bare_elementattributes:v:NUM:Bench",
                  mapping={"name": "v", "value": str(i), "float_number": str(float(i)),
                           "formatted_number": f"{i:.6f}", "timestamp": stamp})
        pipe.xadd("bare_logdata:elementattributes:v:NUM:Bench",
                  {"timestamp": stamp, "datastring": f'{{"value": "{i}"}}'}, maxlen=50,
                  approximate=False)
        pipe.publish("bare_from_indi", b"<setNumberVector/>")
        if i % batch == batch - 1:
            await pipe.execute()
    await pipe.execute()
    elapsed = time.perf_counter() - began
    await r.aclose()
    return n / elapsed


async def round_trips(port: int, trips: int) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b'<getProperties version="1.7"/>')
    await asyncio.wait_for(reader.readuntil(b"</defNumberVector>"), 20)
    times = []
    for i in range(trips):
        began = time.perf_counter()
        writer.write(new_number("Gadget", "VALUE", "V", i))
        await asyncio.wait_for(reader.readuntil(b"</setNumberVector>"), 20)
        times.append(time.perf_counter() - began)
    writer.close()
    return times


async def blobs_across(port: int, driver: object, count: int, size: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 26)
    writer.write(b'<getProperties version="1.7"/><enableBLOB device="Gadget">Also</enableBLOB>')
    await asyncio.wait_for(reader.readuntil(b"</defBLOBVector>"), 20)
    await asyncio.sleep(1.0)  # the enableBLOB reaches the site
    vector = driver["Gadget"]["IMAGE"]  # type: ignore[index]
    payload = os.urandom(size)
    began = time.perf_counter()
    for _ in range(count):
        vector["I"] = payload
        vector.set_blobformat("I", ".bin")
        await vector.send_setVector()
    for _ in range(count):
        await asyncio.wait_for(reader.readuntil(b"</setBLOBVector>"), 120)
    elapsed = time.perf_counter() - began
    writer.close()
    return count * size / elapsed / 1e6


async def blobs_bare(mport: int, count: int, size: int, qos: int = 2) -> float:
    """The same BLOBs as bare MQTT messages: one aiomqtt publisher and one subscriber in this
    process (as the bridges are), each payload the setBLOBVector the bridge carries (base64 of
    `size` bytes plus its XML), at the bridge's QoS; MB/s of decoded data, as `blobs_across`."""
    import aiomqtt

    encoded = base64.b64encode(os.urandom(size))
    payload = (b'<setBLOBVector device="Gadget" name="IMAGE" state="Ok"><oneBLOB name="I" '
               b'size="' + str(size).encode() + b'" format=".bin">' + encoded
               + b"</oneBLOB></setBLOBVector>")
    topic = f"bare/blobs/{os.getpid()}"
    async with aiomqtt.Client("127.0.0.1", mport, identifier=f"bare-sub-{os.getpid()}",
                              max_queued_incoming_messages=count + 1) as sub, \
            aiomqtt.Client("127.0.0.1", mport, identifier=f"bare-pub-{os.getpid()}") as pub:
        await sub.subscribe(topic, qos=qos)
        received = 0

        async def receive() -> None:
            nonlocal received
            async for message in sub.messages:
                assert isinstance(message.payload, bytes) and len(message.payload) == len(payload)
                received += 1
                if received == count:
                    return

        began = time.perf_counter()
        reading = asyncio.ensure_future(receive())
        for _ in range(count):
            await pub.publish(topic, payload, qos=qos)
        await asyncio.wait_for(reading, 120)
        elapsed = time.perf_counter() - began
    return count * size / elapsed / 1e6


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-bridges-"))
    rport, mport = free_port(), free_port()
    (tmp / "m.conf").write_text(f"listener {mport} 127.0.0.1\nallow_anonymous true\n"
                                f"set_tcp_nodelay {str(args.nodelay).lower()}\n"
                                "persistence false\n")
    redis_bin = shutil.which("redis-server") or "redis-server"
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    rows = []
    with server_process([redis_bin, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                         "--dir", str(tmp)], rport), \
            server_process([mosquitto, "-c", str(tmp / "m.conf")], mport):
        bare = {batch: await burst_bare(args.burst, rport, batch) for batch in (100, 1000)}
        best = max(bare.values())
        bridge, logged = await burst_bridge(args.burst, rport, tmp / "blobs")
        rows.append((f"{args.burst} sets into redis: bridge", f"{bridge:,.0f} sets/s",
                     f"bare pipeline {bare[100]:,.0f} (batches of 100) / {bare[1000]:,.0f} "
                     f"(1000) sets/s; bridge / faster bare {bridge / best:.2f} (target >= "
                     f"0.33); member log {logged} entries"))
        driver = make_gadget()
        mqtt = mqtt_server("127.0.0.1", mport)
        async with serving(IPyServer(driver, host="127.0.0.1", port=0,
                                     handle_signals=False)) as site:
            direct = await round_trips(site.port, args.trips)
            port = free_port()
            async with task(inditomqtt_async(indi_server("127.0.0.1", site.port), "site", mqtt)), \
                    task(mqtttoport_async("port", mqtt, port=port, host="127.0.0.1")):
                for _ in range(100):
                    with contextlib.suppress(OSError), socket.create_connection(
                            ("127.0.0.1", port), 0.2):
                        break
                    await asyncio.sleep(0.1)
                via = await round_trips(port, args.trips)
                rows.append((f"round trip through MQTT ({args.trips})",
                             f"p50 {pct(via, .5):.2f} ms, p99 {pct(via, .99):.2f} ms",
                             f"our server alone p50 {pct(direct, .5):.2f} ms, "
                             f"p99 {pct(direct, .99):.2f} ms"))
                size = args.blob_mb * 1_000_000
                # bare, bridge, bare, bridge...: each kind's median over --blob-reps, same run
                bare_rates: list[float] = []
                rates: list[float] = []
                for _ in range(args.blob_reps):
                    bare_rates.append(await blobs_bare(mport, args.blobs, size))
                    rates.append(await blobs_across(port, driver, args.blobs, size))
                rate, bare_rate = statistics.median(rates), statistics.median(bare_rates)
                rows.append((f"{args.blobs} x {args.blob_mb} MB BLOBs across MQTT",
                             f"{rate:.1f} MB/s ({min(rates):.0f}-{max(rates):.0f})",
                             f"site -> broker -> mqtttoport -> client; bare aiomqtt pub/sub "
                             f"{bare_rate:.1f} MB/s ({min(bare_rates):.0f}-"
                             f"{max(bare_rates):.0f}); bridge / bare {rate / bare_rate:.2f} "
                             f"(target >= 0.8); medians of {args.blob_reps}, alternated"))
    shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    for name, figure, beside in rows:
        print(f"{name:<{width}}  {figure:<32}  {beside}")
    print("\nBounds: the burst by redis-py in the bridge's process (one pipeline per read of "
          "the INDI connection; under cProfile about 3/4 of the bridge's time is packing the "
          "4 commands a set and reading their 4 replies, 1/6 the store's operations, 1/12 "
          "parsing); the bare rate by redis-py packing the same commands and redis executing "
          "them. The MQTT round trip by four "
          "hops through the broker at QoS 2 (four packets a hop) on one machine. BLOBs by "
          "base64 framing at each hop and the broker copying whole 10 MB payloads.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--trips", type=int, default=200)
    parser.add_argument("--blobs", type=int, default=10)
    parser.add_argument("--blob-mb", type=int, default=10)
    parser.add_argument("--blob-reps", type=int, default=3,
                        help="BLOB runs of each kind (bare MQTT, the bridges), alternated")
    parser.add_argument("--nodelay", action=argparse.BooleanOptionalAction, default=True,
                        help="mosquitto set_tcp_nodelay (its default is off: Nagle)")
    asyncio.run(main(parser.parse_args()))
