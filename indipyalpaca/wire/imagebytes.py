"""ImageBytes: the binary form of a camera's ImageArray, encoded and decoded.

A 44-byte header of eleven little-endian int32 (the reference, section 8.7), then the pixels
at DataStart in the transmission element type. The Alpaca array is ``Array[NumX, NumY]``
serialised with the y index fastest (then the colour plane innermost), the transpose of a
FITS/INDI buffer, whose rows hold x fastest; `from_rows` and `to_rows` turn one into the
other with the standard library only (``array``), so the wire needs no numpy: the client
side decodes with `to_rows`, and `from_rows` is the plain encoder any small frame can use
(the face, serving 16-megapixel frames as they arrive, writes them with numpy:
``indipyalpaca.face.fitsimage``, and only the header with `encode`). An error frame carries
its ErrorNumber and a UTF-8 message instead of pixels.
"""

from __future__ import annotations

import array
import dataclasses
import enum
import struct
import sys
from collections.abc import Sequence

HEADER = struct.Struct("<11i")
DATA_START = HEADER.size  # 44
METADATA_VERSION = 1
CONTENT_TYPE = "application/imagebytes"


class ElementType(enum.IntEnum):
    """The element types of the header (reference section 8.7.2)."""

    UNKNOWN = 0
    INT16 = 1
    INT32 = 2
    DOUBLE = 3
    SINGLE = 4
    UINT64 = 5
    BYTE = 6
    INT64 = 7
    UINT16 = 8
    UINT32 = 9


def _typecode(size: int, signed: bool) -> str:
    """The `array` typecode of an integer of `size` bytes on this platform."""
    for code in ("bBhHiIlLqQ"):
        if array.array(code).itemsize == size and code.islower() == signed:
            return code
    raise RuntimeError(f"no array typecode for a {size}-byte integer")


_TYPECODES = {
    ElementType.INT16: _typecode(2, True), ElementType.INT32: _typecode(4, True),
    ElementType.DOUBLE: "d", ElementType.SINGLE: "f", ElementType.UINT64: _typecode(8, False),
    ElementType.BYTE: "B", ElementType.INT64: _typecode(8, True),
    ElementType.UINT16: _typecode(2, False), ElementType.UINT32: _typecode(4, False),
}

_NARROWEST = ((ElementType.BYTE, 0, 0xFF), (ElementType.UINT16, 0, 0xFFFF),
              (ElementType.INT16, -0x8000, 0x7FFF), (ElementType.INT32, -(2**31), 2**31 - 1))


class ImageBytesError(ValueError):
    """Bytes that are not a valid ImageBytes frame."""


@dataclasses.dataclass(frozen=True)
class ImageBytes:
    """One ImageBytes frame: `data` holds the pixels (little-endian, transmission type, Alpaca
    order) or, when `error_number` is set, the UTF-8 error message."""

    client_transaction_id: int
    server_transaction_id: int
    image_element_type: int
    transmission_element_type: int
    rank: int
    dimensions: tuple[int, int, int]
    data: bytes
    error_number: int = 0

    @property
    def message(self) -> str:
        """The error text of an error frame ("" for an image)."""
        return self.data.decode("utf-8", "replace") if self.error_number else ""

    def values(self) -> array.array[int] | array.array[float]:
        """The pixels in Alpaca order (y fastest) as an `array` of the transmission type."""
        code = _TYPECODES[ElementType(self.transmission_element_type)]
        pixels = array.array(code)
        pixels.frombytes(self.data)
        if sys.byteorder == "big":
            pixels.byteswap()
        return pixels


def encode(frame: ImageBytes) -> bytes:
    """The frame's bytes: header, then the data at offset 44."""
    fields = (METADATA_VERSION, frame.error_number, frame.client_transaction_id,
              frame.server_transaction_id, DATA_START, frame.image_element_type,
              frame.transmission_element_type, frame.rank, *frame.dimensions)
    # The transaction IDs are uint32 on the wire: pack them through their int32 bit pattern.
    signed = [f - 2**32 if i in (2, 3) and f >= 2**31 else f for i, f in enumerate(fields)]
    return HEADER.pack(*signed) + frame.data


def error_frame(number: int, message: str, client_transaction_id: int,
                server_transaction_id: int) -> bytes:
    """An ImageBytes error reply: no image, the message as UTF-8 after the header."""
    return encode(ImageBytes(client_transaction_id, server_transaction_id, 0, 0, 0, (0, 0, 0),
                             message.encode(), error_number=number))


def decode(buffer: bytes) -> ImageBytes:
    """The frame in `buffer`; a short, negative or inconsistent header is ImageBytesError."""
    if len(buffer) < DATA_START:
        raise ImageBytesError(f"{len(buffer)} bytes is shorter than the ImageBytes header")
    (version, error, ctid, stid, start, image_type, wire_type, rank, d1, d2,
     d3) = HEADER.unpack_from(buffer)
    if version != METADATA_VERSION:
        raise ImageBytesError(f"unknown ImageBytes metadata version {version}")
    if start < DATA_START or start > len(buffer):
        raise ImageBytesError(f"DataStart {start} is outside the {len(buffer)}-byte frame")
    ctid, stid = ctid % 2**32, stid % 2**32
    data = bytes(buffer[start:])
    if error:
        return ImageBytes(ctid, stid, image_type, wire_type, rank, (d1, d2, d3), data, error)
    if min(image_type, wire_type, rank, d1, d2, d3) < 0:
        raise ImageBytesError("a header field of the ImageBytes frame is negative")
    if rank not in (2, 3):
        raise ImageBytesError(f"ImageBytes rank {rank} is neither 2 nor 3")
    try:
        code = _TYPECODES[ElementType(wire_type)]
    except (ValueError, KeyError):
        raise ImageBytesError(f"unknown transmission element type {wire_type}") from None
    count = d1 * d2 * (d3 if rank == 3 else 1)
    expected = count * array.array(code).itemsize
    if len(data) != expected:
        raise ImageBytesError(f"{len(data)} bytes of pixels, the header promises {expected}")
    return ImageBytes(ctid, stid, image_type, wire_type, rank, (d1, d2, d3 if rank == 3 else 0),
                      data)


def narrowest_type(pixels: Sequence[int]) -> ElementType:
    """The smallest integer type on the wire that holds every value (Byte, UInt16, Int16,
    Int32), as the reference allows for an Int32 image."""
    low, high = (min(pixels), max(pixels)) if len(pixels) else (0, 0)
    for element, least, most in _NARROWEST:
        if least <= low and high <= most:
            return element
    raise ValueError("a pixel value does not fit in Int32, the type of ImageArray")


def from_rows(rows: Sequence[int], width: int, height: int, planes: int,
              client_transaction_id: int, server_transaction_id: int) -> ImageBytes:
    """The frame of an image given as FITS orders it: planes outermost, then rows (y), then x.

    `planes` is 1 for a mono or Bayer image (Rank 2) and 3 for colour (Rank 3, R, G, B).
    """
    if len(rows) != width * height * planes:
        raise ValueError(f"{len(rows)} pixels is not {width}x{height}x{planes}")
    wire_type = narrowest_type(rows)
    code = _TYPECODES[wire_type]
    out = array.array(code, bytes(width * height * planes * array.array(code).itemsize))
    plane_size = width * height
    for c in range(planes):
        plane = rows[c * plane_size:(c + 1) * plane_size]
        for x in range(width):
            # Alpaca offset of (x, y, c) is (x*H + y)*P + c: column x of the FITS plane.
            out[x * height * planes + c:(x + 1) * height * planes:planes] = \
                array.array(code, plane[x::width])
    if sys.byteorder == "big":
        out.byteswap()
    rank = 3 if planes > 1 else 2
    return ImageBytes(client_transaction_id, server_transaction_id, ElementType.INT32,
                      wire_type, rank, (width, height, planes if rank == 3 else 0),
                      out.tobytes())


def to_rows(frame: ImageBytes) -> tuple[int, int, int, list[int] | list[float]]:
    """(width, height, planes, pixels in FITS order) of an image frame: the inverse of
    `from_rows`."""
    width, height, depth = frame.dimensions
    planes = depth if frame.rank == 3 else 1
    values = frame.values()
    rows: list[int] | list[float] = [0] * (width * height * planes)
    plane_size = width * height
    for c in range(planes):
        for y in range(height):
            start = c * plane_size + y * width
            rows[start:start + width] = values[y * planes + c::height * planes]  # type: ignore[assignment]
    return width, height, planes, rows
