"""A camera frame's ImageBytes download through the Alpaca face against the same HTTP stack
serving the same number of bytes as a plain file (issue 59: at least 0.8 of the rate).

    python bench/alpaca_imagebytes.py                      # 4096 x 4096 16-bit, 7 reps
    python bench/alpaca_imagebytes.py --size 1024 -r 3

A child process (this script, ``--serve-child``) runs our server (`IPyServer`) with the
indipysimulators CCD on a `--size` x `--size` 16-bit sensor in-process, serving Alpaca
(``alpaca=PORT``), and in the same event loop a second Starlette app on uvicorn -- the stack
the face uses -- with two routes holding a payload of exactly the ImageBytes reply's length:
``/bytes`` (a `Response` of the bytes in memory) and ``/file`` (a `FileResponse` of them
written to a file). This process connects the camera through the face, takes a 0.01 s dark
exposure (StartExposure, ImageReady), then downloads, alternating, the frame as ImageBytes
(``GET /api/v1/camera/N/imagearray`` with ``Accept: application/imagebytes``) and the two
plain payloads, each into one buffer read to its end: MB/s each (median), and the face's
rate over each plain one. The first ImageBytes download (the image read from the FITS and
encoded) is shown on its own. Standard library and the project (its `[alpaca]` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from processes import stop_group

HOST = "127.0.0.1"
CAMERA = "Bench CCD"
HEADER_BYTES = 44


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- the server's process -------------------------------------------------------------------

def serve_child(size: int) -> int:
    """Our server with the camera and the plain app, until stdin closes. Prints the ports."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.responses import Response
    from starlette.routing import Route

    from indipydriver import Device
    from indipydriver import IPyDriver
    from indipydriver.standard.camera import Camera
    from indipydriver.standard.camera import Sensor
    from indipyserver import IPyServer
    from indipysimulators.ccd import SimulatedCamera

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
    indi_port, alpaca_port, plain_port = free_port(), free_port(), free_port()

    async def main() -> None:
        server = IPyServer(driver, host=HOST, port=indi_port, alpaca=alpaca_port,
                           alpaca_discovery=0, alpaca_registry=str(folder / "ids.json"),
                           handle_signals=False)
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
        print(json.dumps({"alpaca": alpaca_port, "plain": plain_port}), flush=True)
        await asyncio.gather(*tasks)

    asyncio.run(main())
    return 0


# -- the client (this process) ------------------------------------------------------------

class Http:
    """One keep-alive connection; bodies read into a reused buffer."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.buffer = bytearray()

    def json(self, method: str, path: str, body: str = "") -> dict[str, object]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        self.conn.request(method, path, body=body.encode() if body else None, headers=headers)
        response = self.conn.getresponse()
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
        self.conn.request("GET", path, headers={"Accept": accept})
        response = self.conn.getresponse()
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


def take_frame(face: Http, timeout: float = 120.0) -> int:
    """Connect the face's camera, take a dark frame; the camera's Alpaca number."""
    end = time.monotonic() + timeout
    number = None
    while number is None:
        if time.monotonic() > end:
            raise RuntimeError(f"the face never listed {CAMERA}")
        devices = face.json("GET", "/management/v1/configureddevices")["Value"]
        assert isinstance(devices, list)
        number = next((d["DeviceNumber"] for d in devices if d["DeviceName"] == CAMERA), None)
        if number is None:
            time.sleep(0.1)
    base = f"/api/v1/camera/{number}"
    face.json("PUT", f"{base}/connected", "Connected=true")
    face.json("PUT", f"{base}/startexposure", "Duration=0.01&Light=false")
    while not face.json("GET", f"{base}/imageready")["Value"]:
        if time.monotonic() > end:
            raise RuntimeError("the exposure never ended")
        time.sleep(0.05)
    return int(number)


def measure(size: int, reps: int) -> dict[str, object]:
    """Run the child, take the frame, time the downloads: the figures."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-child", str(size)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the server process did not start")
        ports = json.loads(line)
        face, plain = Http(ports["alpaca"]), Http(ports["plain"])
        number = take_frame(face)
        path = f"/api/v1/camera/{number}/imagearray"
        nbytes, first, header = face.download(path, "application/imagebytes")
        fields = [int.from_bytes(header[i:i + 4], "little", signed=True)
                  for i in range(0, HEADER_BYTES, 4)]
        if fields[1] != 0 or fields[8:10] != [size, size]:
            raise RuntimeError(f"not the frame: ImageBytes header {fields}")
        times: dict[str, list[float]] = {"imagebytes": [], "bytes": [], "file": []}
        for rep in range(reps):
            order = ["imagebytes", "bytes", "file"]
            order = order[rep % 3:] + order[:rep % 3]
            for kind in order:
                if kind == "imagebytes":
                    got, seconds, _ = face.download(path, "application/imagebytes")
                else:
                    got, seconds, _ = plain.download(f"/{kind}")
                if got != nbytes:
                    raise RuntimeError(f"{kind}: {got} bytes, the frame is {nbytes}")
                times[kind].append(seconds)
        face.close()
        plain.close()
    finally:
        proc.stdin.close()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            stop_group(proc)
    return {"bytes": nbytes, "first": first, "times": times}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-child"]:
        return serve_child(int(argv[1]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096, help="sensor width and height")
    ap.add_argument("-r", "--reps", type=int, default=7)
    args = ap.parse_args(argv)
    got = measure(args.size, args.reps)
    nbytes = got["bytes"]
    times = got["times"]
    assert isinstance(nbytes, int) and isinstance(times, dict)
    rates = {k: statistics.median(nbytes / s / 1e6 for s in v) for k, v in times.items()}
    print(f"| download ({args.size}x{args.size} 16-bit, {nbytes} bytes) | median ms | MB/s |\n"
          "|---|---:|---:|")
    print(f"| ImageBytes, the first (FITS read and encoded) | {got['first'] * 1e3:.0f} | "
          f"{nbytes / got['first'] / 1e6:.0f} |")
    for kind, title in (("imagebytes", "ImageBytes through the face"),
                        ("bytes", "plain: Response of the bytes"),
                        ("file", "plain: FileResponse")):
        print(f"| {title} | {statistics.median(times[kind]) * 1e3:.0f} | {rates[kind]:.0f} |")
    print(f"\n{args.reps} downloads each, alternated; face / plain bytes "
          f"{rates['imagebytes'] / rates['bytes']:.2f}, face / plain file "
          f"{rates['imagebytes'] / rates['file']:.2f} (target >= 0.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
