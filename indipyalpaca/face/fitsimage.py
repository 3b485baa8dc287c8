"""A camera's FITS image as Alpaca needs it: its ImageBytes pixels, size, exposure facts.

The file is mapped, not read, and its pixels are written once, with numpy, straight into
Alpaca's order (x slowest, then y, then the colour plane; the transpose of FITS' rows),
little-endian, in the transmission type its depth gives: 8-bit as Byte, 16-bit unsigned
(BZERO 32768) as UInt16, 16-bit signed as Int16, as INDIGO sends them; 32-bit signed as the
narrowest type that holds every value (the reference allows it, and 32-bit frames are rare).
`convert` goes by blocks of x columns, so the ImageBytes body is ready from its start while
the rest is written (`framestream` sends it as it comes), and two threads can share the
blocks (every other one each). numpy releases the GIL for each block, so a worker thread
converting holds up no event loop. FITS rows are taken as they
are: indilib writes ROWORDER TOP-DOWN, so row 0 is Alpaca's y 0; a file that says BOTTOM-UP
is read from its last row.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from indipyalpaca.wire.imagebytes import ElementType
from indipyalpaca.wire.imagebytes import ImageBytes
from indipycore.fits import BLOCK
from indipycore.fits import FITSError
from indipycore.fits import read_header

#: The header is looked for in this many bytes at most (a camera's takes a few blocks).
HEADER_LIMIT = 100 * BLOCK
#: x columns converted per block: a megabyte of a 4096-high 16-bit frame, so the first
#: bytes of a download are ready after a fraction of the conversion.
COLUMNS = 128
#: y rows per tile within a block: a tile's source and output stay in the CPU's cache.
ROWS = 256

_WIRE_DTYPES = {ElementType.BYTE: "u1", ElementType.UINT16: "<u2", ElementType.INT16: "<i2",
                ElementType.INT32: "<i4"}
_NARROWEST = ((ElementType.BYTE, 0, 0xFF), (ElementType.UINT16, 0, 0xFFFF),
              (ElementType.INT16, -0x8000, 0x7FFF), (ElementType.INT32, -(2**31), 2**31 - 1))


class FitsImage:
    """One FITS image mapped and its ImageBytes pixels (`data`), written by `convert`."""

    def __init__(self, path: str | Path) -> None:
        """Map the file and check its header; FITSError (or OSError) for what cannot be
        served. No pixel is converted yet."""
        with open(path, "rb") as file:
            size = file.seek(0, 2)
            if size < BLOCK:
                raise FITSError(f"{size} bytes is shorter than a FITS header")
            self._map: mmap.mmap | None = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            self._open(self._map)
        except BaseException:
            self.close()
            raise

    def _open(self, mapped: mmap.mmap) -> None:
        header = read_header(mapped[:HEADER_LIMIT])
        bitpix, naxis = int(header["BITPIX"]), int(header["NAXIS"])
        if naxis not in (2, 3):
            raise FITSError(f"a FITS image of {naxis} axes is not a camera image")
        self.width, self.height = int(header["NAXIS1"]), int(header["NAXIS2"])
        self.planes = int(header["NAXIS3"]) if naxis == 3 else 1
        if min(self.width, self.height, self.planes) < 1:
            raise FITSError(f"a FITS image of {self.width}x{self.height}x{self.planes}")
        bzero = float(header.values.get("BZERO", 0))
        self._flip_sign = False
        if bitpix == 8:
            source, self.wire_type = "u1", ElementType.BYTE
        elif bitpix == 16 and bzero == 32768:
            source, self.wire_type, self._flip_sign = ">u2", ElementType.UINT16, True
        elif bitpix == 16 and bzero == 0:
            source, self.wire_type = ">i2", ElementType.INT16
        elif bitpix == 32 and bzero == 0:
            source, self.wire_type = ">i4", ElementType.INT32
        else:
            raise FITSError(f"FITS BITPIX {bitpix} with BZERO {bzero} is not served as Alpaca")
        if header.data_offset + header.data_size > len(mapped):
            raise FITSError("the FITS file ends before its image does")
        cube = np.frombuffer(mapped, dtype=source, offset=header.data_offset,
                             count=self.planes * self.height * self.width)
        cube = cube.reshape(self.planes, self.height, self.width)
        if str(header.values.get("ROWORDER", "TOP-DOWN")).upper() == "BOTTOM-UP":
            cube = cube[:, ::-1, :]
        # (x, y, plane): Alpaca's order, as a view of FITS' (plane, y, x).
        self._source: Any = cube.transpose(2, 1, 0)
        if self.planes == 1:
            self._source = self._source[:, :, 0]
        exposure = header.values.get("EXPTIME")
        date_obs = header.values.get("DATE-OBS")
        self.exposure = float(exposure) if isinstance(exposure, (int, float)) else None
        self.date_obs = str(date_obs) if date_obs is not None else None
        self._pixels: Any = None

    @property
    def rank(self) -> int:
        return 3 if self.planes > 1 else 2

    def frame(self, client_transaction_id: int = 0,
              server_transaction_id: int = 0) -> ImageBytes:
        """The ImageBytes frame without its pixels (`data` empty): what its header says.
        Known once `convert` has begun (the transmission type of a 32-bit image is chosen
        from its values)."""
        dims = (self.width, self.height, self.planes if self.rank == 3 else 0)
        return ImageBytes(client_transaction_id, server_transaction_id, ElementType.INT32,
                          self.wire_type, self.rank, dims, b"")

    @property
    def nbytes(self) -> int:
        """Bytes of the ImageBytes pixels."""
        size = np.dtype(_WIRE_DTYPES[self.wire_type]).itemsize
        return self.width * self.height * self.planes * size

    @property
    def data(self) -> memoryview:
        """The ImageBytes pixels as bytes (valid as far as `convert` has reported)."""
        if self._pixels is None:
            raise RuntimeError("the image has not been converted")
        return memoryview(self._pixels).cast("B")

    def choose_type(self) -> None:
        """Settle the transmission type: a pass over a 32-bit image's values, nothing for
        the others. Call before `frame`, and before `convert` runs in parts."""
        if self._pixels is not None:
            return
        if self.wire_type is ElementType.INT32 and self._source.size:
            low, high = int(self._source.min()), int(self._source.max())
            self.wire_type = next(e for e, least, most in _NARROWEST
                                  if least <= low and high <= most)
        self._pixels = np.empty(self._source.shape, dtype=_WIRE_DTYPES[self.wire_type])

    def convert(self, progress: Callable[[int, int], None] = lambda start, end: None,
                part: int = 0, parts: int = 1) -> None:
        """Write the pixels in Alpaca's order: every `parts`-th block of columns from the
        `part`-th (all of them by default), calling `progress(start, end)` (their bytes)
        after each. Meant for worker threads, one per part; `close` once all are done."""
        self.choose_type()
        source, out = self._source, self._pixels
        per_column = self.nbytes // self.width
        flip = np.uint16(0x8000)
        for x in range(part * COLUMNS, self.width, parts * COLUMNS):
            block, target = source[x:x + COLUMNS], out[x:x + COLUMNS]
            for y in range(0, self.height, ROWS):
                if self._flip_sign:  # FITS' signed + 32768 = unsigned
                    np.bitwise_xor(block[:, y:y + ROWS], flip, out=target[:, y:y + ROWS])
                else:
                    np.copyto(target[:, y:y + ROWS], block[:, y:y + ROWS], casting="unsafe")
            progress(x * per_column, min(self.width, x + COLUMNS) * per_column)

    def close(self) -> None:
        """Let go of the mapped file (the pixels written so far stay). The mapping itself
        goes with the last view of it: closing it while a view lives is an error."""
        self._source = None
        self._map = None

    def json_value(self) -> list[Any]:
        """Alpaca's JSON ``Value[x][y]`` (``[x][y][c]`` for colour), from the converted
        pixels; one column at a time, so a worker thread gives the GIL back between them."""
        if self._pixels is None:
            raise RuntimeError("the image has not been converted")
        return [column.tolist() for column in self._pixels]
