#!/usr/bin/env python3
"""A simulated CCD camera: a star field as FITS, binning, an exposure countdown, abort, cooling.

Run it either way:

    python examples/ccd_simulator.py              # serves itself on localhost:7624
    python examples/ccd_simulator.py --port 7625  # (any port; --host to listen elsewhere)
    indiserver -v ./examples/ccd_simulator.py     # an executable driver under indilib's server

How it tells the two apart: it serves itself (with indipyserver's IPyServer) when given
``--port`` or ``--host``, or when its standard input is a terminal; otherwise -- its standard
input is a pipe, as when indiserver starts it -- it speaks INDI on stdin/stdout. ``--stdio``
forces the driver mode.

Then, in another terminal::

    indi_setprop -p 7624 "Python CCD Simulator.CONNECTION.CONNECT=On"
    indi_getprop -p 7624 "Python CCD Simulator.DRIVER_INFO.*"          # DRIVER_INTERFACE 2
    indi_setprop -p 7624 "Python CCD Simulator.CCD_BINNING.HOR_BIN;VER_BIN=2;2"
    indi_setprop -p 7624 "Python CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=2" &
    indi_getprop -p 7624 -t 10 "Python CCD Simulator.CCD1.CCD1"        # saves the .fits

or point KStars/Ekos at localhost:7624 and use it as the camera.

The hardware part is all that is written here: `SimulatedCamera.expose` returns an image of the
frame and binning the client chose; `SimulatedCooler` moves the chip's temperature towards its
set point at 0.5 C a second. indipydriver's `Camera` role runs the INDI side (the properties,
the states, the countdown, abort, the FITS file and the BLOB); `docs/guides/camera_driver.rst`
walks through this file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import random
import sys
import time
from array import array

from indipydriver import Device, IPyDriver
from indipydriver.standard.camera import Camera, Exposure, Image, Sensor

DEVICE = "Python CCD Simulator"
SENSOR = Sensor(width=1280, height=1024, pixel_size=5.2, bits=16, max_binning=4)

logger = logging.getLogger(__name__)


class SimulatedCooler:
    """A thermo-electric cooler: the chip moves towards the set point (cooler on) or the
    ambient temperature (off) at `rate` degrees a second."""

    def __init__(self, ambient: float = 20.0, rate: float = 0.5) -> None:
        self.ambient = ambient
        self.rate = rate
        self.on = False
        self.target = ambient
        self._celsius = ambient
        self._when = time.monotonic()

    def _now(self) -> float:
        now = time.monotonic()
        goal = self.target if self.on else self.ambient
        step = self.rate * (now - self._when)
        self._when = now
        if abs(goal - self._celsius) <= step:
            self._celsius = goal
        else:
            self._celsius += math.copysign(step, goal - self._celsius)
        return self._celsius

    async def temperature(self) -> float:
        return self._now()

    async def set_target(self, celsius: float) -> None:
        self._now()
        self.target = celsius

    async def set_cooler(self, on: bool) -> None:
        self._now()
        self.on = on


class SimulatedCamera:
    """The "hardware": a fixed field of stars on the sensor, imaged with noise."""

    def __init__(self, sensor: Sensor = SENSOR, stars: int = 150, seed: int = 42) -> None:
        self.sensor = sensor
        sky = random.Random(seed)
        # (x, y) in unbinned sensor pixels, and brightness in ADU per second at binning 1.
        self.stars = [(sky.uniform(0, sensor.width), sky.uniform(0, sensor.height),
                       200000.0 * 10 ** (-0.4 * sky.uniform(0, 6))) for _ in range(stars)]
        self.sigma = 1.6  # the stars' width (pixels), as seeing and focus would make it
        self.connected = False

    async def connect(self) -> None:
        """What a real driver would do to open the camera (USB, SDK...)."""
        self.connected = True
        logger.info("Simulated camera connected")

    async def disconnect(self) -> None:
        self.connected = False

    async def expose(self, exposure: Exposure) -> Image:
        """Wait out the exposure, then read out the frame (cancelled on abort)."""
        await asyncio.sleep(exposure.seconds)
        return await asyncio.to_thread(self.render, exposure)

    async def abort(self) -> None:
        """A real camera would stop its shutter here; the simulated one has nothing to stop."""

    def render(self, exposure: Exposure) -> Image:
        """The frame the client asked for, binned: noise on a background, plus the stars."""
        width, height = exposure.image_width, exposure.image_height
        count = width * height
        # The background, cheaply: each 16-bit pixel's low byte random (the noise), its high
        # byte the level (bias and dark frames lower, flats bright).
        level = {"Bias": 1, "Dark": 1, "Flat": 120}.get(exposure.frame_type, 3)
        raw = bytearray(2 * count)
        noise, base = (slice(0, None, 2), slice(1, None, 2))
        if sys.byteorder == "big":
            noise, base = base, noise
        raw[noise] = random.randbytes(count)
        raw[base] = bytes([level]) * count
        pixels = array("H")
        pixels.frombytes(bytes(raw))
        if exposure.frame_type == "Light":
            self._draw_stars(pixels, exposure, width, height)
        return Image(width, height, pixels, cards=[("OBJECT", "Simulated field", "")])

    def _draw_stars(self, pixels: array[int], exposure: Exposure, width: int,
                    height: int) -> None:
        bx, by = exposure.bin_x, exposure.bin_y
        sx, sy = self.sigma / bx, self.sigma / by
        reach = max(2, math.ceil(4 * max(sx, sy)))
        for star_x, star_y, flux in self.stars:
            # The star's centre in the binned image, (0, 0) at the frame's corner.
            cx = (star_x - exposure.x) / bx
            cy = (star_y - exposure.y) / by
            if not (-reach < cx < width + reach and -reach < cy < height + reach):
                continue
            peak = flux * exposure.seconds * bx * by / (2 * math.pi * sx * sy)
            for row in range(max(0, int(cy) - reach), min(height, int(cy) + reach + 1)):
                dy = (row + 0.5 - cy) / sy
                for col in range(max(0, int(cx) - reach), min(width, int(cx) + reach + 1)):
                    dx = (col + 0.5 - cx) / sx
                    add = peak * math.exp(-0.5 * (dx * dx + dy * dy))
                    if add >= 1:
                        index = row * width + col
                        pixels[index] = min(65535, pixels[index] + int(add))


def make_driver(device_name: str = DEVICE) -> IPyDriver:
    """The simulated camera as an IPyDriver with one standard device (the CCD role)."""
    camera = SimulatedCamera()
    cooler = SimulatedCooler()
    role = Camera(SENSOR, camera.expose, abort=camera.abort, cooler=cooler)
    device = Device(device_name, roles=[role], connect=camera.connect,
                    disconnect=camera.disconnect, driver_exec="ccd_simulator.py")
    return IPyDriver(device, camera=camera, cooler=cooler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=None, help="serve on this interface (default localhost)")
    parser.add_argument("--port", type=int, default=None, help="serve on this port (default 7624)")
    parser.add_argument("--stdio", action="store_true",
                        help="speak INDI on stdin/stdout (what indiserver expects)")
    args = parser.parse_args()
    serve = not args.stdio and (args.port is not None or args.host is not None
                                or sys.stdin.isatty())
    driver = make_driver()
    if not serve:
        # Under indiserver: stdout carries INDI, so logs go to stderr (its log).
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
        asyncio.run(driver.asyncrun())
        return
    from indipyserver import IPyServer

    host, port = args.host or "localhost", args.port or 7624
    logging.basicConfig(level=logging.INFO)
    logger.info("%s served on %s:%s; Ctrl-C to stop", DEVICE, host, port)
    try:
        IPyServer(driver, host=host, port=port).run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
