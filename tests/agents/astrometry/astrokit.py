"""The Astrometry Agent's test rig: our server in-process with our mount and camera
simulators (the real sky, Tycho-2) and the agent, a client on it; and what the tests read."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import numpy as np
from serverkit import running
from serverkit import server
from waiting import until

import indipyclient
from indipyagents import astrometry
from indipycore.astro import precess_from_j2000
from indipycore.astro import precess_to_j2000
from indipysimulators import ccd
from indipysimulators import telescope

AGENT = "Astrometry Agent"
MOUNT = telescope.DEVICE
CAMERA = ccd.DEVICE
#: The Double Cluster (J2000): rich in Tycho-2 stars, and above Greenwich's horizon at any
#: hour (Dec 57 > 90 - 51.5), which our mount simulator's limit needs.
TARGET = (2.35, 57.14)


@dataclass
class Sky:
    client: indipyclient.Client
    port: int

    def number(self, device: str, vector: str, member: str) -> float:
        return float(self.client.get(device, vector, member))

    def state(self, device: str, vector: str) -> str:
        found = self.client.devices.vector(device, vector)
        return str(found.state.value) if found is not None else ""

    def true_pointing(self) -> tuple[float, float]:
        """Where the mount truly points (EQUATORIAL_PE, JNow) as J2000."""
        return precess_to_j2000(self.number(MOUNT, "EQUATORIAL_PE", "RA_PE"),
                                self.number(MOUNT, "EQUATORIAL_PE", "DEC_PE"),
                                datetime.now(UTC))

    async def upload(self, data: bytes, fmt: str = ".fits",
                     timeout: float = 240.0) -> tuple[str, str]:
        """`data` uploaded to AGENT_PLATESOLVER_IMAGE and solved: WCS' (state, message)."""
        said: list[tuple[str, str]] = []

        def watch(event: Any) -> bool:
            if getattr(event, "devicename", None) == AGENT \
                    and getattr(event, "vectorname", None) == "AGENT_PLATESOLVER_WCS" \
                    and event.message and event.state is not None \
                    and event.state.value in ("Ok", "Alert"):
                said.append((event.state.value, str(event.message)))
                return True
            return False

        with self.client.waiters.watching(watch) as done:
            await self.client.set(AGENT, "AGENT_PLATESOLVER_IMAGE",
                                  {"IMAGE": (data, len(data), fmt)}, wait=False)
            await asyncio.wait_for(done, timeout)
        return said[-1]

    async def start(self, process: str, timeout: float = 240.0) -> tuple[str, str]:
        """AGENT_START_PROCESS `process` run to its end: (state, message)."""
        messages: list[str] = []

        def watch(event: Any) -> bool:
            if getattr(event, "devicename", None) == AGENT \
                    and getattr(event, "vectorname", None) == "AGENT_START_PROCESS":
                if event.message:
                    messages.append(str(event.message))
                return event.state is not None and event.state.value in ("Ok", "Alert")
            return False

        with self.client.waiters.watching(watch) as done:
            await self.client.set(AGENT, "AGENT_START_PROCESS", {process: "On"}, wait=False)
            await asyncio.wait_for(done, timeout)
        return self.state(AGENT, "AGENT_START_PROCESS"), messages[-1] if messages else ""


async def aim(client: indipyclient.Client, camera: str) -> float:
    """The agent told to take `camera`'s frames (1 s) and point our mount; the mount tracking,
    sent to `TARGET` at JNow: the declination it was sent to."""
    await client.set(AGENT, "ACTIVE_DEVICES", {"ACTIVE_CCD": camera,
                                                "ACTIVE_TELESCOPE": MOUNT}, timeout=10)
    await client.set(AGENT, "AGENT_PLATESOLVER_EXPOSURE_SETTINGS", {"EXPOSURE": 1.0},
                     timeout=10)
    await client.set(MOUNT, "ON_COORD_SET", {"TRACK": "On"}, timeout=10)
    ra, dec = precess_from_j2000(*TARGET, datetime.now(UTC))
    await client.set(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec}, timeout=60)
    return dec


@contextlib.asynccontextmanager
async def sky(*, error: tuple[float, float] = (0.0, 0.0), extra: tuple[object, ...] = (),
              **agent: Any) -> AsyncIterator[Sky]:
    """The rig served, the mount at `TARGET` with the pointing error `error` (arcmin), the
    agent's ACTIVE_DEVICES naming our simulators, exposures of 1 s."""
    mount_driver = telescope.make_driver(50.0)
    agent_driver = astrometry.make_driver(**agent)
    async with running(server(mount_driver, ccd.make_driver(), agent_driver, *extra)) as ours, \
            indipyclient.connect("127.0.0.1", ours.port) as client:
        rig = Sky(client, ours.port)
        for device in (MOUNT, CAMERA):
            await client.set(device, "CONNECTION", {"CONNECT": "On"}, timeout=10)
        await client.wait_for(AGENT, "AGENT_START_PROCESS", timeout=10)
        dec = await aim(client, CAMERA)
        await client.set(MOUNT, "SIM_POINTING_ERROR",
                         {"RA_ERROR": error[0], "DEC_ERROR": error[1]}, timeout=10)
        await until(lambda: math.isclose(rig.number(MOUNT, "EQUATORIAL_PE", "DEC_PE"),
                                         dec + error[1] / 60, abs_tol=1e-5), timeout=10)
        yield rig


def frame(ra: float | None = TARGET[0], dec: float = TARGET[1], seconds: float = 1.0) -> bytes:
    """A FITS frame of our camera simulator's sky at JNow (`ra`, `dec`), no mount needed;
    `ra` None: blank (no stars, as under clouds). Its header says the pixel size and focal
    length, as our camera's and indilib's do."""
    from astropy.io import fits

    from indipydriver.standard.camera import Exposure

    camera = ccd.SimulatedCamera()
    camera.fwhm = lambda: 4.0
    if ra is not None:
        camera.pointing = lambda: (ra, dec)
    else:
        camera.field_stars = list  # type: ignore[method-assign]
    image = camera.render(Exposure(seconds, 0, 0, 1280, 1024))
    data = np.array(image.pixels, dtype=np.uint16).reshape(image.height, image.width)
    out = io.BytesIO()
    hdu = fits.PrimaryHDU(data)
    hdu.header["PIXSIZE1"], hdu.header["FOCALLEN"] = 5.2, 430.0
    hdu.writeto(out)
    return out.getvalue()


def hopeless_frame() -> bytes:
    """`frame()` cut in squares of 128 px and shuffled, without its scale cards: stars, but no
    quad of the index scales (22' and up, 530 px and more here) left whole, and no scale to
    narrow the search: a blind solve searches for seconds (8.6 s here) and finds nothing,
    where the real sky's blind solve takes under one."""
    from astropy.io import fits

    data = fits.getdata(io.BytesIO(frame()))
    size = 128
    rows, cols = data.shape[0] // size, data.shape[1] // size
    squares = [data[r * size:(r + 1) * size, c * size:(c + 1) * size].copy()
               for r in range(rows) for c in range(cols)]
    for place, taken in enumerate(np.random.default_rng(1).permutation(len(squares))):
        r, c = divmod(place, cols)
        data[r * size:(r + 1) * size, c * size:(c + 1) * size] = squares[taken]
    out = io.BytesIO()
    fits.PrimaryHDU(data).writeto(out)
    return out.getvalue()
