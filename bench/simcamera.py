"""The simulated cameras' CPU per frame (issue 90 item 6): rendered in-process, and the whole
exposure (render, FITS, the BLOB sent) in the camera's own process under our server.

    python bench/simcamera.py                 # render: imaging camera bin 1 and 2, guide camera
    python bench/simcamera.py --pure          # the same without numpy (the base install's path)
    python bench/simcamera.py --chain -f 50   # our server, the camera and mount executables

The render part draws M45's real sky (Tycho-2, the camera's `pointing` set, a 4" FWHM) and
prints each frame kind's CPU per frame (``time.process_time``, caches warmed by one frame)
and a digest of the frames' bytes: two runs of one seed, with and without numpy, print the
same digests. The chain part starts our server with ``indipy_simulator_ccd`` (or
``indipy_simulator_guide``) and ``indipy_simulator_telescope``, takes `--frames` 0.01 s
exposures one after the other through a client that takes the BLOBs, and reads the camera
process's CPU from ``/proc/PID/stat`` before and after. Run it under another checkout's
interpreter (``/other/.venv/bin/python bench/simcamera.py``) to measure that checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

os.environ["INDIPY_MDNS_INTERFACES"] = "lo"

import indipyclient
from indipyclient import events
from indipydriver.standard.camera import Exposure
from indipydriver.standard.camera import Sensor
from indipyserver import IPyServer
from indipysimulators import ccd
from indipysimulators import guidecamera
from indipysimulators import telescope

WHEN = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
HOST = "127.0.0.1"
TICK = os.sysconf("SC_CLK_TCK")


def camera(sensor: Sensor, vignetting: float) -> ccd.SimulatedCamera:
    made = ccd.SimulatedCamera(sensor, vignetting=vignetting)
    made.clock = lambda: WHEN
    made.pointing = lambda: (3.80, 24.30)
    made.fwhm = lambda: 4.0
    return made


def render(frames: int) -> None:
    """CPU per rendered frame, and the frames' digest."""
    for label, sensor, vignetting, exposure in (
            ("ccd bin 1, 5 s", ccd.SENSOR, 0.28, Exposure(5, 0, 0, 1280, 1024)),
            ("ccd bin 2, 5 s", ccd.SENSOR, 0.28, Exposure(5, 0, 0, 1280, 1024, 2, 2)),
            ("ccd bin 1, 60 s", ccd.SENSOR, 0.28, Exposure(60, 0, 0, 1280, 1024)),
            ("guide bin 1, 2 s", guidecamera.SENSOR, guidecamera.VIGNETTING,
             Exposure(2, 0, 0, 640, 512))):
        made = camera(sensor, vignetting)
        digest = hashlib.sha256(bytes(made.render(exposure).pixels))
        start = time.process_time()
        for _ in range(frames):
            digest.update(bytes(made.render(exposure).pixels))
        spent = (time.process_time() - start) / frames
        print(f"{label:18s} {spent * 1000:6.1f} ms CPU a frame   sha256 {digest.hexdigest()[:16]}")


def cpu_of(pid: int) -> float:
    """A process's user + system CPU (s), from /proc."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def child_named(name: str) -> int:
    """The pid of this process's child running the executable `name`."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == os.getpid() and \
                    name.encode() in command:
                return int(entry.name)
    raise SystemExit(f"no child process {name}")


async def chain(executable: str, device: str, binning: int, frames: int) -> None:
    """CPU per exposure of the camera's process under our server, BLOBs taken by a client."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    server = IPyServer(host=HOST, port=port, handle_signals=False)
    for name in (executable, telescope.EXEC):
        server.add_exdriver(str(Path(sys.executable).with_name(name)), max_restarts=0)
    task = asyncio.create_task(server.asyncrun())
    await asyncio.wait_for(server.started(), 20)
    try:
        async with indipyclient.connect(HOST, port) as client:
            for name in (device, telescope.DEVICE):
                await client.set(name, "CONNECTION", {"CONNECT": "On"}, timeout=20)
            await client.send_enableBLOB("Also", device)
            await client.set(device, "CCD_BINNING", {"HOR_BIN": binning, "VER_BIN": binning},
                             timeout=10)
            stream = client.events()

            async def one() -> int:
                await client.set(device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.01},
                                 wait=False)
                async with asyncio.timeout(60):
                    async for event in stream:
                        if isinstance(event, events.setBLOBVector) and \
                                event.devicename == device and "CCD1" in event.data:
                            return len(event["CCD1"])
                raise SystemExit("no image")

            await one()
            await one()  # the catalogue opened, the caches warm
            pid = child_named(executable)
            before, start = cpu_of(pid), time.monotonic()
            size = 0
            for _ in range(frames):
                size = await one()
            spent = (cpu_of(pid) - before) / frames
            print(f"{executable} bin {binning}: {spent * 1000:6.1f} ms CPU an exposure in its "
                  f"process ({size} bytes of FITS, {time.monotonic() - start:.1f} s wall)")
    finally:
        server.shutdown()
        await asyncio.wait_for(task, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--frames", type=int, default=10, help="frames a figure")
    parser.add_argument("--pure", action="store_true", help="render without numpy")
    parser.add_argument("--chain", action="store_true", help="under our server instead")
    args = parser.parse_args()
    if args.pure:
        from indipysimulators import fastpixels
        fastpixels.ENABLED = False
    if not args.chain:
        render(args.frames)
        return
    for executable, device, binning in ((ccd.EXEC, ccd.DEVICE, 1), (ccd.EXEC, ccd.DEVICE, 2),
                                        (guidecamera.EXEC, guidecamera.DEVICE, 1)):
        asyncio.run(chain(executable, device, binning, args.frames))


if __name__ == "__main__":
    main()
