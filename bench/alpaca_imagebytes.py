"""A fresh camera frame through the Alpaca face, from the moment its image reaches the face
to the end of an ImageBytes download, against the same HTTP stack serving the same number
of bytes, with the INDI round trip's worst case meanwhile (issue 69 item 9; issue 59's 0.8
is the repeated download's).

    python bench/alpaca_imagebytes.py                       # 4096 x 4096 16-bit, 7 reps
    python bench/alpaca_imagebytes.py --base /tmp/base      # before (a checkout) and after
    python bench/alpaca_imagebytes.py --size 1024 -r 3

Each arm (this checkout, and with ``--base DIR`` that checkout too) is a child process (this
script, ``--serve-child``, that checkout's library first on its path) running our server
(`IPyServer`) with the indipysimulators CCD on a `--size` x `--size` 16-bit sensor
in-process, the traffic driver (`trafficdriver.py`) as an executable driver, serving Alpaca
(``alpaca=PORT``), and in the same event loop a second Starlette app on uvicorn -- the stack
the face uses -- with two routes holding a payload of exactly the ImageBytes reply's length:
``/bytes`` (a `Response` of the bytes in memory) and ``/file`` (a `FileResponse` of them).
The child notes when each image reaches the face (its INDI client hands out the CCD1
setBLOBVector: `Client._deliver`, wrapped, prints ``time.monotonic()``, one clock for the
machine's processes).

Each rep, for each arm in turn (the order rotating): a 0.01 s dark exposure (StartExposure),
ImageReady polled back to back, and as soon as it is True the frame downloaded as ImageBytes
(``Accept: application/imagebytes``, into one buffer read to its end): the **fresh frame**
is the time from the image reaching the face to the end of that download. Meanwhile a raw
INDI client times round trips to the traffic driver (a newNumberVector and its echo, one
every 2 ms): the worst of those begun in that span says how long the server's event loop
was held up. Then the same frame again, and the two plain payloads, the first with the same
round trips beside it (the control: what the machine and a download alone do to a trip).
A span too short for a trip to begin in it (a small frame) counts those under way in it, or
else the first begun after it began.
Reported: medians (and the worst round trip over all reps); fresh / plain bytes (target <= 6), the worst round trip
(target <= 20 ms), and the repeated download's rate over the plain one's (issue 59: >= 0.8).
Standard library and the project (its `[alpaca]` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

# Multicast DNS and UDP broadcasts on the loopback only: this machine's other interfaces
# lead to networks that are not ours (a server started here announces on lo at most).
os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from processes import free_ports
from processes import stop_group
from rawclient import Hub
from rawclient import RawClient

HOST = "127.0.0.1"
CAMERA = "Bench CCD"
HEADER_BYTES = 44
#: Seconds between the round trips timed beside a fresh frame.
TRIP_PACE = 0.002


# -- the server's process -------------------------------------------------------------------

def serve_child(size: int, root: str) -> int:
    """Our server (of checkout `root`) with the camera, the traffic driver and the plain
    app, until stdin closes. Prints the ports, then a line each time an image reaches the
    face."""
    sys.path.insert(0, root)
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.responses import Response
    from starlette.routing import Route

    import indipyalpaca.face.camera
    from indipyclient.session import connect as session
    from indipydriver import Device
    from indipydriver import IPyDriver
    from indipydriver.standard.camera import Camera
    from indipydriver.standard.camera import Sensor
    from indipyserver import IPyServer
    from indipysimulators.ccd import SimulatedCamera

    deliver = session.Client._deliver

    async def noted(self: session.Client, event: object) -> None:
        if (type(event).__name__ == "setBLOBVector"
                and getattr(event, "devicename", None) == CAMERA):
            print(json.dumps({"arrived": time.monotonic()}), flush=True)
        await deliver(self, event)  # type: ignore[arg-type]

    session.Client._deliver = noted  # type: ignore[method-assign]

    sensor = Sensor(width=size, height=size, pixel_size=3.76, bits=16, max_binning=1)
    hardware = SimulatedCamera(sensor)
    role = Camera(sensor, hardware.expose, abort=hardware.abort)
    driver = IPyDriver(Device(CAMERA, roles=[role], connect=hardware.connect,
                              disconnect=hardware.disconnect), camera=hardware)
    folder = Path(tempfile.mkdtemp(prefix="bench-alpaca-img-"))
    payload = bytes(range(256)) * ((HEADER_BYTES + 2 * size * size) // 256 + 1)
    payload = payload[:HEADER_BYTES + 2 * size * size]
    plain_file = folder / "frame.bin"
    plain_file.write_bytes(payload)

    async def as_bytes(request: object) -> Response:
        return Response(payload, media_type="application/octet-stream")

    async def as_file(request: object) -> FileResponse:
        return FileResponse(plain_file, media_type="application/octet-stream")

    plain = Starlette(routes=[Route("/bytes", as_bytes), Route("/file", as_file)])
    indi_port, alpaca_port, plain_port = free_ports(3)

    async def main() -> None:
        server = IPyServer(driver, host=HOST, port=indi_port, alpaca=alpaca_port,
                           alpaca_discovery=0, alpaca_registry=str(folder / "ids.json"),
                           handle_signals=False)
        server.add_exdriver(str(HERE / "trafficdriver.py"))
        web = uvicorn.Server(uvicorn.Config(plain, host=HOST, port=plain_port,
                                            log_level="warning", lifespan="off"))
        loop = asyncio.get_running_loop()

        def stop() -> None:
            server.shutdown()
            web.should_exit = True

        threading.Thread(target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop)),
                         daemon=True).start()
        tasks = [asyncio.create_task(server.asyncrun()), asyncio.create_task(web.serve())]
        await server.started()
        while not web.started:
            await asyncio.sleep(0.05)
        print(json.dumps({"alpaca": alpaca_port, "plain": plain_port, "indi": indi_port,
                          "camera": indipyalpaca.face.camera.__file__}), flush=True)
        await asyncio.gather(*tasks)

    try:
        asyncio.run(main())
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the frame and the registry, never left
    return 0


# -- the client (this process) ------------------------------------------------------------

class Http:
    """One keep-alive connection; bodies read into a reused buffer."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.buffer = bytearray()

    def _ask(self, method: str, path: str, body: bytes | None,
             headers: dict[str, str]) -> http.client.HTTPResponse:
        """The response, on a new connection if the server closed the idle one (uvicorn
        does after 5 s; the other arm's rep may take longer)."""
        try:
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            return self.conn.getresponse()

    def json(self, method: str, path: str, body: str = "") -> dict[str, object]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        response = self._ask(method, path, body.encode() if body else None, headers)
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        reply: dict[str, object] = json.loads(data)
        if reply.get("ErrorNumber"):
            raise RuntimeError(f"{method} {path}: {reply}")
        return reply

    def download(self, path: str, accept: str = "*/*") -> tuple[int, float, bytes]:
        """(bytes, seconds, the first 44 bytes) of one GET read to its end."""
        started = time.perf_counter()
        response = self._ask("GET", path, None, {"Accept": accept})
        length = int(response.headers.get("Content-Length", 0))
        if len(self.buffer) < length:
            self.buffer = bytearray(length)
        view = memoryview(self.buffer)
        got = 0
        while got < length:
            n = response.readinto(view[got:length])
            if not n:
                break
            got += n
        response.read()  # nothing left; ends the response for the next request
        seconds = time.perf_counter() - started
        if response.status != 200 or got != length:
            raise RuntimeError(f"GET {path}: {response.status}, {got} of {length} bytes")
        return got, seconds, bytes(view[:HEADER_BYTES])

    def close(self) -> None:
        self.conn.close()


def answered(client: RawClient, want: int) -> bool:
    return client.counts["setNumber"] >= want


class Trips:
    """INDI round trips to the traffic driver, one every `TRIP_PACE` s while running, on a
    thread: (start, end) in `time.monotonic()` of each."""

    def __init__(self, port: int) -> None:
        self.client = RawClient(HOST, port, "rt")
        self.client.send(b'<getProperties version="1.7" device="Bench"/>\n')
        self.hub = Hub([self.client])
        if not self.hub.run_until(lambda: self.client.defs() >= 4, 30):
            raise RuntimeError("no definitions from the traffic driver")
        self.trips: list[tuple[float, float]] = []
        self._running = threading.Event()
        self._closed = False
        self._sent = 0
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from indirequests import new_number

        try:
            while not self._closed:
                if not self._running.wait(0.1):
                    continue
                self._sent += 1
                want = self.client.counts["setNumber"] + 1
                start = time.monotonic()
                self.client.send(new_number("Bench", "NUM", "v", self._sent))
                if not self.hub.run_until(partial(answered, self.client, want), 30):
                    raise RuntimeError("a round trip timed out")
                self.trips.append((start, time.monotonic()))
                time.sleep(TRIP_PACE)
        except Exception as exc:  # noqa: BLE001 - raised on the main thread by settle
            self.error = exc

    def run(self) -> None:
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def worst(self, since: float, until: float) -> tuple[float, int]:
        """(the longest, how many) of the trips begun between `since` and `until`; for a
        span too short for any, those under way in it, or else the first begun after it
        began (`pause` after `settle(since)`, so that there is one)."""
        trips = self.trips
        spans = [end - start for start, end in trips if since <= start <= until]
        if not spans:
            spans = [end - start for start, end in trips if start <= until and end >= since]
        if not spans:
            spans = [next((end - start for start, end in trips if start >= since),
                          float("nan"))]
        return max(spans), len(spans)

    def settle(self, since: float, timeout: float = 30.0) -> None:
        """Return once a trip begun after `since` is over."""
        end = time.monotonic() + timeout
        while not any(start >= since for start, _ in reversed(self.trips[-3:])):
            if self.error is not None or time.monotonic() > end:
                raise RuntimeError(f"the round trips stopped: {self.error}")
            time.sleep(0.001)

    def close(self) -> None:
        self._closed = True
        self._running.set()
        self._thread.join(10)
        self.hub.close()
        self.client.close()


class Arm:
    """One checkout's server process and the bench's clients of it."""

    def __init__(self, name: str, root: Path, size: int) -> None:
        self.name, self.root, self.size = name, root, size
        env = dict(os.environ, PYTHONPATH=str(root))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-child", str(size), str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
            env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{name}: the server process did not start")
        ports = json.loads(line)
        if not Path(ports["camera"]).resolve().is_relative_to(root.resolve()):
            raise RuntimeError(f"{name}: the child imported {ports['camera']}, not {root}")
        self.arrivals: queue.Queue[float] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.face, self.plain = Http(ports["alpaca"]), Http(ports["plain"])
        self.trips = Trips(ports["indi"])
        self.number = self._connect()
        self.path = f"/api/v1/camera/{self.number}/imagearray"
        self.times: dict[str, list[float]] = {"fresh": [], "ready": [], "again": [],
                                              "bytes": [], "file": []}
        self.worst: list[float] = []
        self.control: list[float] = []
        self.trip_count = 0
        self.nbytes = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            arrived = json.loads(line).get("arrived")
            if arrived is not None:
                self.arrivals.put(float(arrived))

    def _connect(self, timeout: float = 120.0) -> int:
        end = time.monotonic() + timeout
        number = None
        while number is None:
            if time.monotonic() > end:
                raise RuntimeError(f"the face never listed {CAMERA}")
            devices = self.face.json("GET", "/management/v1/configureddevices")["Value"]
            assert isinstance(devices, list)
            number = next((d["DeviceNumber"] for d in devices if d["DeviceName"] == CAMERA),
                          None)
            if number is None:
                time.sleep(0.1)
        self.face.json("PUT", f"/api/v1/camera/{number}/connected", "Connected=true")
        return int(number)

    def fresh(self, timeout: float = 120.0) -> None:
        """One exposure, its frame downloaded as soon as ready, the round trips beside it;
        then the same frame again and the plain payloads."""
        base = f"/api/v1/camera/{self.number}"
        while not self.arrivals.empty():
            self.arrivals.get_nowait()
        self.trips.run()
        self.face.json("PUT", f"{base}/startexposure", "Duration=0.01&Light=false")
        end = time.monotonic() + timeout
        while not self.face.json("GET", f"{base}/imageready")["Value"]:
            if time.monotonic() > end:
                raise RuntimeError(f"{self.name}: the exposure never ended")
        ready = time.monotonic()
        nbytes, _, header = self.face.download(self.path, "application/imagebytes")
        done = time.monotonic()
        self.trips.settle(done)
        self.trips.pause()
        arrived = self.arrivals.get(timeout=30)
        fields = [int.from_bytes(header[i:i + 4], "little", signed=True)
                  for i in range(0, HEADER_BYTES, 4)]
        if fields[1] != 0 or fields[8:10] != [self.size, self.size]:
            raise RuntimeError(f"{self.name}: not the frame: ImageBytes header {fields}")
        self.nbytes = nbytes
        self.times["fresh"].append(done - arrived)
        self.times["ready"].append(ready - arrived)
        worst, count = self.trips.worst(arrived, done)
        self.worst.append(worst)
        self.trip_count += count
        got, seconds, _ = self.face.download(self.path, "application/imagebytes")
        self.times["again"].append(seconds)
        for kind in ("bytes", "file"):
            if kind == "bytes":  # the control: the same trips beside a plain download
                self.trips.run()
                self.trips.settle(time.monotonic())
                start = time.monotonic()
            got, seconds, _ = self.plain.download(f"/{kind}")
            if kind == "bytes":
                until = time.monotonic()
                self.trips.settle(until)
                self.trips.pause()
                self.control.append(self.trips.worst(start, until)[0])
            if got != nbytes:
                raise RuntimeError(f"{kind}: {got} bytes, the frame is {nbytes}")
            self.times[kind].append(seconds)

    def close(self) -> None:
        self.trips.close()
        self.face.close()
        self.plain.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            stop_group(self.proc)


def measure(size: int, reps: int, base: Path | None) -> list[Arm]:
    """Start the arms, run the reps (arms alternating), stop them."""
    arms: list[Arm] = []
    try:
        if base is not None:
            arms.append(Arm(f"before ({base})", base, size))
        arms.append(Arm("after (this checkout)", ROOT, size))
        for rep in range(reps):
            for i in range(len(arms)):
                arms[(rep + i) % len(arms)].fresh()
    finally:
        for arm in arms:
            arm.close()
    return arms


def ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e3:.0f}"


def most(xs: list[float]) -> float:
    """The largest of `xs` in ms, NaN (no trip) left out."""
    return max((x for x in xs if not math.isnan(x)), default=float("nan")) * 1e3


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-child"]:
        return serve_child(int(argv[1]), argv[2])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096, help="sensor width and height")
    ap.add_argument("-r", "--reps", type=int, default=7)
    ap.add_argument("--base", type=Path, help="a checkout to compare with (the before arm)")
    args = ap.parse_args(argv)
    arms = measure(args.size, args.reps, args.base)
    nbytes = arms[-1].nbytes
    print(f"| {args.size}x{args.size} 16-bit, {nbytes} bytes, median of {args.reps} | "
          "fresh frame ms | of which to ImageReady ms | worst INDI round trip ms | "
          "ImageBytes again ms | plain bytes ms | plain file ms | fresh / plain bytes | "
          "again / plain bytes (rate) | worst trip beside plain bytes ms |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for arm in arms:
        t = arm.times
        fresh_ratio = statistics.median(t["fresh"]) / statistics.median(t["bytes"])
        again_rate = statistics.median(t["bytes"]) / statistics.median(t["again"])
        print(f"| {arm.name} | {ms(t['fresh'])} | {ms(t['ready'])} | "
              f"{most(arm.worst):.1f} | {ms(t['again'])} | {ms(t['bytes'])} | "
              f"{ms(t['file'])} | {fresh_ratio:.2f} | {again_rate:.2f} | "
              f"{most(arm.control):.1f} |")
    print()
    for arm in arms:
        t = arm.times
        print(f"{arm.name}: fresh frame (image at the face -> ImageBytes downloaded) "
              f"{ms(t['fresh'])} ms, {nbytes / statistics.median(t['fresh']) / 1e6:.0f} MB/s; "
              f"fresh / plain bytes {statistics.median(t['fresh']) / statistics.median(t['bytes']):.2f}"
              f" (target <= 6); worst INDI round trip meanwhile "
              f"{most(arm.worst):.1f} ms of {arm.trip_count} (target <= 20); "
              f"each rep's fresh ms {[round(x * 1e3) for x in t['fresh']]}, worst trip ms "
              f"{[round(x * 1e3, 1) for x in arm.worst]}; beside a plain download "
              f"{[round(x * 1e3, 1) for x in arm.control]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
