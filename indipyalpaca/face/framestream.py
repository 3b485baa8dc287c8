"""`FrameStream`: a camera's fresh image made ImageBytes from the moment it arrives.

A camera user downloads every frame once, so the conversion of a 16-megapixel FITS file (a
transpose, 32 MB) must not wait for the client to ask, nor hold up the server's event loop:
the file is opened and converted in worker threads (`fitsimage`, numpy; two share the
blocks of columns on a machine of two cores or more) as soon as the INDI client has it, and
a download sends the ImageBytes body's blocks as they are written (`chunks`), overlapping
the conversion instead of following it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.errors import ErrorNumber
from indipycore.fits import FITSError

from .fitsimage import FitsImage

logger = logging.getLogger(__name__)

#: Bytes of pixels per piece handed to the HTTP server: small enough that writing one is a
#: short step of the event loop, large enough that a frame is a few dozen steps.
CHUNK = 1 << 20
#: Worker threads converting one image (numpy gives the GIL back while each block is written).
WORKERS = min(2, os.cpu_count() or 1)


class ConversionFailed(RuntimeError):
    """The image could not be converted after its download had begun (logged)."""


class FrameStream:
    """One image file on its way to Alpaca clients; made in the event loop, it starts at
    once. `image()` is the opened image (its size and header facts), or the AlpacaError of
    an unreadable file; `chunks()` its ImageBytes pixels as they are ready; `converted()`
    the image once every pixel is."""

    def __init__(self, filename: str, device: str) -> None:
        self.filename = filename
        self.device = device
        self._loop = asyncio.get_running_loop()
        self._opened: asyncio.Future[FitsImage] = self._loop.create_future()
        self._ready = 0  # bytes of the pixels written, from the start
        self._written: dict[int, int] = {}  # blocks written past `_ready`: start -> end
        self._wake = asyncio.Event()
        self._finished = asyncio.Event()
        self._failure: str | None = None
        self._task = asyncio.create_task(self._run())

    def _open(self) -> FitsImage:
        image = FitsImage(self.filename)
        image.choose_type()
        return image

    async def _run(self) -> None:
        try:
            try:
                image = await asyncio.to_thread(self._open)
            except (OSError, FITSError) as exc:
                logger.error("the image of %s in %s is unreadable: %s", self.device,
                             self.filename, exc)
                self._opened.set_exception(AlpacaError(
                    ErrorNumber.UNSPECIFIED, f"the INDI device's image is unreadable: {exc}"))
                self._opened.exception()  # retrieved: a frame nobody asks for is no error
                return
            self._opened.set_result(image)
            try:
                await asyncio.gather(*(asyncio.to_thread(image.convert, self._progress, part,
                                                         WORKERS) for part in range(WORKERS)))
            except Exception as exc:  # a bug or no memory: the downloads waiting end
                logger.exception("converting the image of %s in %s failed", self.device,
                                 self.filename)
                self._failure = f"converting the image failed: {exc}"
                self._wake.set()
                return
            finally:
                await asyncio.to_thread(image.close)  # unmapped off the event loop
            logger.debug("the image of %s (%s) is ImageBytes", self.device,
                         Path(self.filename).name)
        finally:
            self._finished.set()

    def _progress(self, start: int, end: int) -> None:
        """Called by a worker thread after each block of columns."""
        self._loop.call_soon_threadsafe(self._advance, start, end)

    def _advance(self, start: int, end: int) -> None:
        written = self._written
        written[start] = end
        ready = self._ready
        while ready in written:  # the blocks written without a gap from the start
            ready = written.pop(ready)
        if ready != self._ready:
            self._ready = ready
            self._wake.set()

    @property
    def done(self) -> bool:
        """Whether the conversion has ended (or the file proved unreadable)."""
        return self._finished.is_set()

    async def image(self) -> FitsImage:
        """The image once opened (size, type, EXPTIME, DATE-OBS); AlpacaError if the file
        cannot be served. A caller given up does not stop the conversion."""
        return await asyncio.shield(self._opened)

    async def converted(self) -> FitsImage:
        """The image once all its pixels are written; AlpacaError if they cannot be."""
        image = await self.image()
        await self._finished.wait()
        if self._failure is not None:
            raise AlpacaError(ErrorNumber.UNSPECIFIED, self._failure)
        return image

    async def chunks(self) -> AsyncIterator[bytes]:
        """The ImageBytes pixels in pieces of at most `CHUNK` bytes, each as soon as it is
        written; ConversionFailed if the conversion stops before the end."""
        image = await self.image()
        total = image.nbytes
        sent = 0
        while sent < total:
            while self._ready <= sent:
                if self._failure is not None:
                    raise ConversionFailed(self._failure)
                self._wake.clear()
                await self._wake.wait()
            end = min(self._ready, sent + CHUNK)
            yield bytes(image.data[sent:end])
            sent = end
