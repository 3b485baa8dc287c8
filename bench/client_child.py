"""One client process for bench/client_vs_0_9_4.py, written against indipyclient 0.9.4's API
(``IPyClient``, which this project's indipyclient keeps), so the very same code runs on both.

    python client_child.py MODE PORT COUNT [REPS]

MODE ``burst``: count NUM sets until the driver's ``done``; ``blob``: save BLOBs into the
BLOBfolder $BENCH_BLOBDIR until COUNT arrived; ``snapshot``: wait for COUNT extra vectors, then time
``snapshot()`` REPS times. Prints ``ready`` once the Bench device is learnt, then one JSON line
with the result, and exits.
"""

import asyncio
import json
import os
import resource
import statistics
import sys
import time

from indipyclient import IPyClient

MODE, PORT, COUNT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
REPS = int(sys.argv[4]) if len(sys.argv) > 4 else 20


def rss_mb(field: str = "VmRSS:") -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


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
            elif (MODE == "burst" and event.vectorname == "BENCH_STATUS"
                  and "done" in event.get("status", "")):
                self.finished.set()
        elif kind == "SetBLOB":
            self.tick()
            self.bytes += sum(size for size, _fmt in event.sizeformat.values())
            if self.n >= COUNT:
                self.finished.set()

    def tick(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if not self.n:
            self.first, self.first_cpu = now, cpu
        self.n += 1
        self.last, self.last_cpu = now, cpu

    def learnt(self) -> bool:
        if "Bench" not in self:
            return False
        device = self["Bench"]
        if "BENCH_STATUS" not in device or "BLOB" not in device:
            return False
        return MODE != "snapshot" or sum(1 for v in device if v.startswith("EXTRA_")) >= COUNT

    async def hardware(self) -> None:
        while not self.learnt():
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
                await asyncio.wait_for(self.finished.wait(), 600)
            except TimeoutError:
                result["timeout"] = 1
            result.update(received=self.n, seconds=self.last - self.first,
                          cpu_seconds=self.last_cpu - self.first_cpu, bytes=self.bytes)
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
