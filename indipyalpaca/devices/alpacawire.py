"""The few Alpaca wire facts the consuming side needs, until ``indipyalpaca.wire`` exists.

Error numbers (the API reference's table) and the ImageBytes header: 44 bytes of 11
little-endian int32, the pixels from DataStart, x-major (the y index changes fastest).
Standard library only, no I/O.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass

__all__ = ["ERROR_NAMES", "ImageBytes", "decode_imagebytes", "to_row_major"]

NOT_IMPLEMENTED = 0x400
INVALID_VALUE = 0x401
VALUE_NOT_SET = 0x402
NOT_CONNECTED = 0x407
INVALID_WHILE_PARKED = 0x408
INVALID_WHILE_SLAVED = 0x409
INVALID_OPERATION = 0x40B
ACTION_NOT_IMPLEMENTED = 0x40C
UNSPECIFIED_ERROR = 0x4FF

#: A short name for each error number, for messages.
ERROR_NAMES = {
    NOT_IMPLEMENTED: "not implemented",
    INVALID_VALUE: "invalid value",
    VALUE_NOT_SET: "value not set",
    NOT_CONNECTED: "not connected",
    INVALID_WHILE_PARKED: "invalid while parked",
    INVALID_WHILE_SLAVED: "invalid while slaved",
    INVALID_OPERATION: "invalid operation",
    ACTION_NOT_IMPLEMENTED: "action not implemented",
    UNSPECIFIED_ERROR: "unspecified error",
}

_HEADER = struct.Struct("<11i")

#: ImageBytes element type -> (array typecode, bytes per element).
_TYPES = {1: ("h", 2), 2: ("i", 4), 3: ("d", 8), 4: ("f", 4), 6: ("B", 1), 8: ("H", 2),
          9: ("I", 4)}


@dataclass(frozen=True)
class ImageBytes:
    """A decoded ImageBytes reply: `error` (0 for an image) and its message, or the image as
    `pixels` in Alpaca order (x-major) with its dimensions."""

    error: int
    message: str
    width: int = 0
    height: int = 0
    planes: int = 0
    pixels: array[int] | array[float] | None = None


def decode_imagebytes(data: bytes) -> ImageBytes:
    """Decode an ImageBytes body; ValueError when it is not one."""
    if len(data) < _HEADER.size:
        raise ValueError(f"ImageBytes reply of {len(data)} bytes: shorter than its header")
    (_version, error, _ctid, _stid, start, _image_type, wire_type, rank, dim1, dim2,
     dim3) = _HEADER.unpack_from(data)
    if start < _HEADER.size or start > len(data):
        raise ValueError(f"ImageBytes DataStart {start} is outside the reply")
    if error:
        return ImageBytes(error, data[start:].decode("utf-8", "replace"))
    if wire_type not in _TYPES:
        raise ValueError(f"ImageBytes transmission element type {wire_type} is not supported")
    if rank not in (2, 3) or dim1 < 1 or dim2 < 1 or (rank == 3 and dim3 < 1):
        raise ValueError(f"ImageBytes rank {rank} with dimensions {dim1}x{dim2}x{dim3}")
    code, size = _TYPES[wire_type]
    planes = dim3 if rank == 3 else 1
    count = dim1 * dim2 * planes
    if len(data) - start < count * size:
        raise ValueError(f"ImageBytes reply holds {len(data) - start} bytes of pixels, "
                         f"{count * size} expected")
    pixels = array(code)
    pixels.frombytes(data[start:start + count * size])
    if sys.byteorder == "big":
        pixels.byteswap()
    return ImageBytes(0, "", dim1, dim2, planes if rank == 3 else 0, pixels)


def to_row_major(pixels: array[int], width: int, height: int) -> array[int]:
    """Alpaca's x-major plane (offset ``x*height + y``) as FITS rows (``y*width + x``)."""
    rows = array(pixels.typecode, bytes(len(pixels) * pixels.itemsize))
    for x in range(width):
        rows[x::width] = pixels[x * height:(x + 1) * height]
    return rows
