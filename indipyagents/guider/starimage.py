"""PHD2's get_star_image, as pure code: the square of the last guide frame around the guide
star, as PHD2's ``event_server.cpp`` answers it. Ekos 3.6 asks it after every GuideStep to
show the star in its Guide module.

The square is ``2 * min((size - 1) // 2, 31) + 1`` pixels wide (15 by default, 63 at most),
centred on the star's pixel (rounded as C's ``rint``, halves to even), cut to the frame; the
result names the frame's number, the square's width and height, the star's position in it
(``star_pos``, [x, y]) and its pixels as 16-bit unsigned integers, row after row, little-endian
(PHD2 copies its ``unsigned short`` buffer as it lies in memory on a PC), in base64.
No numpy: at most 63 x 63 pixels are read out of the FITS bytes.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from indipycore.fits import FITSError
from indipycore.fits import read_header

__all__ = ["DEFAULT_SIZE", "FITSError", "star_image"]

#: PHD2's default and smallest size (reqsize), and its largest half width.
DEFAULT_SIZE = 15
MAX_HALF = 31
#: FITS' big-endian sample formats by BITPIX.
_FORMATS = {8: "B", 16: "h", 32: "i", -32: "f", -64: "d"}


def star_image(fits: bytes, frame: int, star: tuple[float, float],
               size: int = DEFAULT_SIZE) -> dict[str, Any]:
    """get_star_image's result for the star at `star` (pixels, from the frame's corner) on
    the guide frame `fits`, number `frame`. `FITSError` when the frame is not an image this
    reads, ValueError when `size` is below PHD2's 15."""
    if size < DEFAULT_SIZE:
        raise ValueError(f"size {size} below {DEFAULT_SIZE}")
    header = read_header(fits)
    bitpix, naxis = int(header["BITPIX"]), int(header["NAXIS"])
    if bitpix not in _FORMATS or naxis not in (2, 3):
        raise FITSError(f"not an image: BITPIX {bitpix}, NAXIS {naxis}")
    width, height = int(header["NAXIS1"]), int(header["NAXIS2"])
    planes = int(header["NAXIS3"]) if naxis == 3 else 1
    if len(fits) < header.data_offset + header.data_size:
        raise FITSError("the frame is cut short")
    zero = float(header.values.get("BZERO", 0))
    scale = float(header.values.get("BSCALE", 1))
    half = min((size - 1) // 2, MAX_HALF)
    sx, sy = round(star[0]), round(star[1])
    left, top = max(sx - half, 0), max(sy - half, 0)
    right, bottom = min(sx + half + 1, width), min(sy + half + 1, height)
    w, h = max(right - left, 0), max(bottom - top, 0)
    sample = struct.calcsize(_FORMATS[bitpix])
    row_format = f">{w}{_FORMATS[bitpix]}"
    out = bytearray()
    for y in range(top, top + h):
        sums = [0.0] * w
        for plane in range(planes):
            at = header.data_offset + ((plane * height + y) * width + left) * sample
            for i, value in enumerate(struct.unpack_from(row_format, fits, at)):
                sums[i] += value
        out += struct.pack(f"<{w}H", *(_to_u16(s / planes * scale + zero) for s in sums))
    return {"frame": frame, "width": w, "height": h,
            "star_pos": [star[0] - left, star[1] - top],
            "pixels": base64.b64encode(bytes(out)).decode("ascii")}


def _to_u16(value: float) -> int:
    if math.isnan(value):  # a float frame's NaN: no light
        return 0
    return min(max(round(value), 0), 65535)
