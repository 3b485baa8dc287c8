"""One client process for bench/client_vs_0_9_4.py, written against indipyclient 0.9.4's API
(``IPyClient``, which this project's indipyclient keeps), so the very same code runs on both.

    python client_child.py MODE PORT COUNT [REPS]

MODE ``burst``: count NUM sets until the driver's ``done``; ``blob``: save BLOBs into the
BLOBfolder $BENCH_BLOBDIR until COUNT arrived or the driver's ``done`` (a server that coalesces
the BLOBs of a client that falls behind delivers fewer); ``snapshot``: wait for COUNT extra
vectors, then time ``snapshot()`` REPS times. Prints ``ready`` once the Bench device is learnt,
then one JSON line with the result, and exits. Every wait is bounded ($BENCH_WAIT seconds,
default 120): a run that does not finish says so in its result (``timeout``) instead of hanging.

The CPU time is read at the first message and once the stream is over (``done``), not per
message: ``time.process_time()`` is a system call (CLOCK_PROCESS_CPUTIME_ID has no vDSO), which
per message would add the same ~0.5 us to both clients and hide how much cheaper one of them is.

With $BENCH_RAW=1 no INDI library is loaded: a bare socket reader counts what the server sends
(the same moments measured, nothing parsed or saved), the ceiling the server sets for any client.
"""

import asyncio
import json
import os
import resource
import socket
import statistics
import sys
import time

MODE, PORT, COUNT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
WAIT = float(os.environ.get("BENCH_WAIT", "120"))


def rss_mb(field: str = "VmRSS:") -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def raw_reader() -> None:
    """The server's ceiling: read and count, nothing else (see the module docstring)."""
    sock = socket.create_connection(("127.0.0.1", PORT))
    ask = b'<getProperties version="1.7"/>'
    if MODE == "blob":
        ask += b'<enableBLOB device="Bench">Also</enableBLOB>'
    sock.sendall(ask)
    sock.settimeout(WAIT)
    seen = bytearray()
    while b"</defBLOBVector>" not in seen or b'name="BENCH_STATUS"' not in seen:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("server closed")
        seen += chunk
    time.sleep(0.3)  # as the library child does
    print("ready", flush=True)
    key = b"</setNumberVector>" if MODE == "burst" else b"</setBLOBVector>"
    done = b">done "
    n = 0
    nbytes = 0
    first = last = first_cpu = 0.0
    tail = b""
    result: dict[str, float] = {}
    buf = bytearray(1 << 22)
    view = memoryview(buf)
    try:
        while True:
            got = sock.recv_into(view)
            if not got:
                break
            now = time.perf_counter()
            if n == 0:
                first_cpu = time.process_time()
            nbytes += got
            # Only markup is counted: a BLOB's body has no `<`, so a chunk without one is
            # not searched (as bench/rawclient.py does).
            if buf.find(b"<", 0, got) < 0:
                tail = b""
                continue
            chunk = tail + bytes(view[:got])
            found = chunk.count(key)
            if found:
                if n == 0:
                    first = now
                n += found
                last = now
            if done in chunk:
                break
            tail = chunk[-(len(key) - 1):]  # never a whole key: none is counted twice
    except TimeoutError:
        result["timeout"] = 1
    cpu = time.process_time() - first_cpu
    size = 0 if MODE == "burst" else int(os.environ.get("BENCH_BLOB_SIZE", "0"))
    result.update(received=n, seconds=last - first, cpu_seconds=cpu, bytes=size,
                  wire_bytes=nbytes,
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result), flush=True)


if os.environ.get("BENCH_RAW") == "1":
    raw_reader()
    sys.exit(0)

from indipyclient import IPyClient  # (not loaded by the raw reader)


class Child(IPyClient):
    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.set_vector_timeouts(timeout_enable=False)
        self.n = 0
        self.first = 0.0
        self.last = 0.0
        self.first_cpu = 0.0
        self.last_cpu = 0.0
        self.finished = asyncio.Event()
        self.bytes = 0

    async def rxevent(self, event) -> None:
        kind = event.eventtype
        if kind == "Set":
            if event.vectorname == "NUM":
                self.tick()
            elif (event.vectorname == "BENCH_STATUS" and self.n
                  and "done" in event.get("status", "")):
                self.end()
        elif kind == "SetBLOB":
            self.tick()
            self.bytes += sum(size for size, _fmt in event.sizeformat.values())
            if self.n >= COUNT:
                self.end()

    def tick(self) -> None:
        now = time.perf_counter()
        if not self.n:
            self.first, self.first_cpu = now, time.process_time()
        self.n += 1
        self.last = now

    def end(self) -> None:
        if not self.finished.is_set():
            self.last_cpu = time.process_time()
            self.finished.set()

    def learnt(self) -> bool:
        if "Bench" not in self:
            return False
        device = self["Bench"]
        if "BENCH_STATUS" not in device or "BLOB" not in device:
            return False
        return MODE != "snapshot" or sum(1 for v in device if v.startswith("EXTRA_")) >= COUNT

    async def hardware(self) -> None:
        began = time.monotonic()
        while not self.learnt():
            if time.monotonic() - began > WAIT:
                print(json.dumps({"timeout": 1, "learning": 1}), flush=True)
                self.shutdown()
                return
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # the enableBLOB answering the BLOB vector's def is out
        base = rss_mb()
        print("ready", flush=True)
        result: dict[str, float] = {"rss_ready_mb": base}
        if MODE == "snapshot":
            vectors = sum(len(d) for d in self.values())
            times = []
            for _ in range(REPS):
                t0 = time.perf_counter()
                self.snapshot()
                times.append(time.perf_counter() - t0)
            dumps = []
            for _ in range(max(1, REPS // 4)):
                t0 = time.perf_counter()
                self.snapshot().dumps()
                dumps.append(time.perf_counter() - t0)
            result.update(snapshot_ms=statistics.median(times) * 1000,
                          snapshot_dumps_ms=statistics.median(dumps) * 1000, vectors=vectors)
        else:
            try:
                await asyncio.wait_for(self.finished.wait(), WAIT)
            except TimeoutError:
                result["timeout"] = 1
                self.last_cpu = time.process_time()
            result.update(received=self.n, seconds=self.last - self.first,
                          cpu_seconds=self.last_cpu - self.first_cpu,
                          bytes=self.bytes / max(self.n, 1))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result), flush=True)
        self.shutdown()


async def main() -> None:
    child = Child(PORT)
    if MODE == "blob":
        child.BLOBfolder = os.environ["BENCH_BLOBDIR"]
    await child.asyncrun()


if __name__ == "__main__":
    asyncio.run(main())
