"""A camera's FITS image as Alpaca needs it: pixels in FITS order, size, exposure facts.

indipycore.fits reads the header; the pixels (8-bit unsigned, 16-bit with BZERO 32768,
32-bit signed) are turned into an unsigned or signed `array` without numpy. FITS rows are
taken as they are: indilib writes ROWORDER TOP-DOWN, so row 0 is Alpaca's y 0; a file that
says BOTTOM-UP is flipped.
"""

from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

from indipycore.fits import FITSError
from indipycore.fits import read_header

_FLIP_SIGN = bytes(i ^ 0x80 for i in range(256))


@dataclass(frozen=True)
class FitsImage:
    """Pixels in FITS order (planes, then rows, then x), as integers."""

    width: int
    height: int
    planes: int
    pixels: array[int]
    exposure: float | None
    date_obs: str | None

    @property
    def rank(self) -> int:
        return 3 if self.planes > 1 else 2

    def json_value(self) -> list[list[int]] | list[list[list[int]]]:
        """Alpaca's JSON ``Value[x][y]`` (``[x][y][c]`` for colour)."""
        w, h = self.width, self.height
        if self.planes == 1:
            return [self.pixels[x::w].tolist() for x in range(w)]
        size = w * h
        planes = [self.pixels[c * size:(c + 1) * size] for c in range(self.planes)]
        return [[[plane[y * w + x] for plane in planes] for y in range(h)] for x in range(w)]


def read_fits_image(data: bytes) -> FitsImage:
    """The image of a FITS file's primary HDU; FITSError for what it cannot read."""
    header = read_header(data)
    bitpix = int(header["BITPIX"])
    naxis = int(header["NAXIS"])
    if naxis not in (2, 3):
        raise FITSError(f"a FITS image of {naxis} axes is not a camera image")
    width, height = int(header["NAXIS1"]), int(header["NAXIS2"])
    planes = int(header["NAXIS3"]) if naxis == 3 else 1
    raw = data[header.data_offset:header.data_offset + header.data_size]
    if len(raw) < header.data_size:
        raise FITSError("the FITS file ends before its image does")
    bzero = float(header.values.get("BZERO", 0))
    if bitpix == 8:
        pixels = array("B", raw)
    elif bitpix == 16 and bzero == 32768:
        flipped = bytearray(raw)
        flipped[0::2] = flipped[0::2].translate(_FLIP_SIGN)  # signed + 32768 = unsigned
        pixels = array("H", bytes(flipped))
    elif bitpix == 16:
        pixels = array("h", raw)
    elif bitpix == 32 and bzero == 0:
        pixels = array("i", raw)
    else:
        raise FITSError(f"FITS BITPIX {bitpix} with BZERO {bzero} is not served as Alpaca")
    if bitpix != 8 and sys.byteorder == "little":
        pixels.byteswap()
    if str(header.values.get("ROWORDER", "TOP-DOWN")).upper() == "BOTTOM-UP":
        flipped_rows = array(pixels.typecode)
        for c in range(planes):
            base = c * width * height
            for y in reversed(range(height)):
                flipped_rows.extend(pixels[base + y * width:base + (y + 1) * width])
        pixels = flipped_rows
    exposure = header.values.get("EXPTIME")
    date_obs = header.values.get("DATE-OBS")
    return FitsImage(width, height, planes, pixels,
                     float(exposure) if isinstance(exposure, (int, float)) else None,
                     str(date_obs) if date_obs is not None else None)
