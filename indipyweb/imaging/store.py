"""`ImageStore`: decoded frames and their downsampled levels, kept in a small LRU cache, and
every decode, stretch and PNG made in a bounded thread pool, never on the event loop.

Why on the server: an 8000 x 6000 16-bit frame is 96 MB, too much to send to a phone or to
decode in a page's JavaScript; here it is read once, halved level by level (each level the
2 x 2 mean of the one before), and a view asks only for the pixels it shows: the whole frame
from a small level, a zoomed region from the full-resolution one.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import threading
from collections import OrderedDict
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from .decoding import Frame
from .decoding import read_frame
from .stretch import histogram
from .stretch import limits
from .stretch import stretch_to_bytes

__all__ = ["ImageStore", "View"]

logger = logging.getLogger(__name__)

SMALLEST = 512     # levels are halved until the larger side is at most this
MAX_OUTPUT = 4096  # the largest PNG side a view may ask for
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class View:
    """A region of the frame, in stored pixels (top-down), drawn into `width` x `height`."""

    x0: float
    y0: float
    x1: float
    y1: float
    width: int
    height: int
    stretch: str = "asinh"
    limits: str = "zscale"
    percent: float = 99.5


@dataclass(slots=True)
class _Entry:
    frame: Frame
    levels: list[npt.NDArray[np.float32]]
    lims: dict[tuple[str, float], list[tuple[float, float]]] = field(default_factory=dict)
    hist: dict[str, Any] | None = None


def _halve(level: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    h, w = level.shape[0] // 2 * 2, level.shape[1] // 2 * 2
    cut = level[:h, :w]
    return ((cut[0::2, 0::2] + cut[1::2, 0::2] + cut[0::2, 1::2] + cut[1::2, 1::2]) * 0.25
            ).astype(np.float32)


def _load(path: Path) -> _Entry:
    frame = read_frame(path)
    levels = [frame.display]
    while max(levels[-1].shape[:2]) > SMALLEST and min(levels[-1].shape[:2]) >= 4:
        levels.append(_halve(levels[-1]))
    return _Entry(frame, levels)


class ImageStore:
    """At most `frames` decoded frames kept (the least recently used dropped), at most
    `workers` threads working, at most `pending` jobs waiting for them."""

    def __init__(self, frames: int = 2, workers: int = 2, pending: int = 8) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="indipyweb-image")
        self._cache: OrderedDict[tuple[str, int, int], Future[_Entry]] = OrderedDict()
        self._lock = threading.Lock()
        self._frames = frames
        self._slots = asyncio.Semaphore(pending)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, job: Any, *args: Any) -> Any:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._pool, job, *args)

    def _entry_future(self, path: Path) -> Future[_Entry]:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            future = self._cache.get(key)
            if future is not None:
                self._cache.move_to_end(key)
                return future
            future = self._pool.submit(_load, path)
            self._cache[key] = future
            while len(self._cache) > self._frames:
                self._cache.popitem(last=False)
            return future

    async def _entry(self, path: Path) -> _Entry:
        async with self._slots:
            future = self._entry_future(path)
            try:
                return await asyncio.wrap_future(future)
            except Exception:
                with self._lock:  # a broken file is tried again once it changes
                    for key, value in list(self._cache.items()):
                        if value is future:
                            del self._cache[key]
                raise

    async def info(self, path: Path) -> dict[str, Any]:
        """Size, colour, header and histogram of the file's frame."""
        entry = await self._entry(path)

        def work() -> dict[str, Any]:
            if entry.hist is None:
                entry.hist = histogram(_sampled_level(entry))
            frame = entry.frame
            return {"name": path.name, "width": frame.width, "height": frame.height,
                    "colour": frame.colour, "channels": 3 if frame.display.ndim == 3 else 1,
                    "dtype": str(frame.raw.dtype), "header": frame.header,
                    "histogram": entry.hist, "levels": len(entry.levels)}

        result: dict[str, Any] = await self._run(work)
        return result

    async def pixel(self, path: Path, x: int, y: int) -> list[float] | None:
        entry = await self._entry(path)
        return entry.frame.pixel(x, y)

    async def render(self, path: Path, view: View) -> bytes:
        """The view as a PNG."""
        entry = await self._entry(path)
        png: bytes = await self._run(_render, entry, view)
        return png

    async def limits(self, path: Path, method: str, percent: float) -> list[tuple[float, float]]:
        entry = await self._entry(path)
        result: list[tuple[float, float]] = await self._run(_limits, entry, method, percent)
        return result


def _sampled_level(entry: _Entry) -> npt.NDArray[np.float32]:
    """The finest level of at most about four million values (limits, histogram)."""
    for level in entry.levels:
        if level.size <= 4_000_000 * (3 if level.ndim == 3 else 1):
            return level
    return entry.levels[-1]


def _limits(entry: _Entry, method: str, percent: float) -> list[tuple[float, float]]:
    key = (method, percent if method == "percentile" else 0.0)
    found = entry.lims.get(key)
    if found is None:
        found = entry.lims[key] = limits(_sampled_level(entry), method, percent)
    return found


def _render(entry: _Entry, view: View) -> bytes:
    from PIL import Image

    frame = entry.frame
    width = max(1, min(int(view.width), MAX_OUTPUT))
    height = max(1, min(int(view.height), MAX_OUTPUT))
    # the region in displayed pixels (a Bayer frame is shown at half size), kept inside
    scale = frame.scale
    dh, dw = frame.display.shape[:2]
    x0 = min(max(view.x0 / scale, 0.0), dw - 1)
    y0 = min(max(view.y0 / scale, 0.0), dh - 1)
    x1 = min(max(view.x1 / scale, x0 + 1), dw)
    y1 = min(max(view.y1 / scale, y0 + 1), dh)
    ratio = max((x1 - x0) / width, (y1 - y0) / height, 1.0)
    k = min(math.floor(math.log2(ratio)), len(entry.levels) - 1)
    level, f = entry.levels[k], 2 ** k
    lh, lw = level.shape[:2]
    c0, r0 = int(x0 / f), int(y0 / f)
    c1, r1 = max(c0 + 1, min(lw, math.ceil(x1 / f))), max(r0 + 1, min(lh, math.ceil(y1 / f)))
    crop = stretch_to_bytes(level[r0:r1, c0:c1], _limits(entry, view.limits, view.percent),
                            view.stretch)
    picture = Image.fromarray(crop, "RGB" if crop.ndim == 3 else "L")
    upsampling = (c1 - c0) < width
    picture = picture.resize((width, height), Image.Resampling.NEAREST if upsampling
                             else Image.Resampling.BILINEAR)
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)
    return out.getvalue()
