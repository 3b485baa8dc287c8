"""The image viewer's server side on a large frame: an 8000 x 6000 16-bit FITS (96 MB of
pixels) read and halved into levels, the whole frame drawn at a screen's size, a zoomed region
at full resolution, the histogram and a pixel value, each timed (wall clock, this machine).

    python bench/web_image.py [--width 8000 --height 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np
from astropy.io import fits  # type: ignore[import-untyped]

from indipyweb.imaging.store import ImageStore
from indipyweb.imaging.store import View


async def run(width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.fits"
        data = np.random.default_rng(1).integers(500, 4000, (height, width)).astype(np.uint16)
        fits.PrimaryHDU(data).writeto(path)
        store = ImageStore()
        try:
            start = time.perf_counter()
            info = await store.info(path)
            first = time.perf_counter() - start
            start = time.perf_counter()
            whole = await store.render(path, View(0, 0, width, height, 1200, 900))
            fit = time.perf_counter() - start
            start = time.perf_counter()
            await store.render(path, View(0, 0, width, height, 1200, 900, "log", "minmax"))
            restretch = time.perf_counter() - start
            start = time.perf_counter()
            zoom = await store.render(path, View(4000, 3000, 4300, 3225, 1200, 900))
            zoomed = time.perf_counter() - start
            start = time.perf_counter()
            for x in range(100):
                await store.pixel(path, x, x)
            pixel = (time.perf_counter() - start) / 100
        finally:
            store.close()
    print(f"{width} x {height} uint16 ({data.nbytes / 1e6:.0f} MB), {info['levels']} levels")
    print(f"read + levels + histogram (first open): {first * 1000:.0f} ms")
    print(f"whole frame at 1200 x 900 (zscale, asinh): {fit * 1000:.0f} ms, {len(whole) // 1024} KB PNG")
    print(f"whole frame again, another stretch (log, min-max): {restretch * 1000:.0f} ms")
    print(f"300 x 225 region at 400 % (full resolution): {zoomed * 1000:.0f} ms, {len(zoom) // 1024} KB PNG")
    print(f"a pixel value: {pixel * 1e6:.0f} us")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--width", type=int, default=8000)
    p.add_argument("--height", type=int, default=6000)
    args = p.parse_args()
    asyncio.run(run(args.width, args.height))


if __name__ == "__main__":
    main()
