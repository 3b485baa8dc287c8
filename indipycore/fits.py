"""A small FITS writer (and header reader) for camera images, standard library only.

One primary HDU: the header's 80-character cards in 2880-byte blocks, then the pixels
big-endian, padded to a whole block. 16-bit images are unsigned, stored as FITS does it:
signed 16-bit values with ``BZERO = 32768``. 8-bit images are unsigned bytes as they are.
`read_header` reads the cards back (clients and tests check NAXIS1/NAXIS2/BITPIX with it).
`table_bytes` writes a binary table instead (an empty primary HDU, then one BINTABLE of
64-bit float columns): the star list (xylist) astrometry.net's ``solve-field`` takes.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BLOCK", "Card", "FITSError", "fits_bytes", "format_card", "read_header",
           "table_bytes"]

BLOCK = 2880
CARD = 80
#: Each byte with its top bit flipped (a big-endian 16-bit value's high byte: unsigned to
#: FITS' signed with BZERO 32768).
_TOP_BIT_FLIPPED = bytes(b ^ 0x80 for b in range(256))

#: A header card: keyword, value (bool, int, float or str) and an optional comment.
Card = tuple[str, "bool | int | float | str", str]


class FITSError(ValueError):
    """Not a FITS primary header we can read, or values a FITS header cannot hold."""


def format_card(keyword: str, value: bool | float | str, comment: str = "") -> bytes:
    """One 80-character header card: fixed format (values right-justified to column 30, strings
    quoted from column 11), as FITS 4.0 section 4.2 gives it."""
    key = keyword.upper()
    if len(key) > 8 or not key or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_" for c in key):
        raise FITSError(f"bad FITS keyword {keyword!r}")
    if isinstance(value, bool):
        text = f"{'T' if value else 'F':>20}"
    elif isinstance(value, int):
        text = f"{value:>20d}"
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FITSError(f"{keyword}: {value} cannot be written in a FITS header")
        text = f"{value:>20.10G}"
        if "." not in text and "E" not in text:
            text = f"{value:>20.1f}"
    else:
        if not all(32 <= ord(c) < 127 for c in value):
            raise FITSError(f"{keyword}: FITS strings are printable ASCII: {value!r}")
        quoted = "'" + value.replace("'", "''").ljust(8) + "'"
        text = f"{quoted:<20}"
    card = f"{key:<8}= {text}"
    if comment:
        card += " / " + "".join(c if 32 <= ord(c) < 127 else "?" for c in comment)
    return card[:CARD].ljust(CARD).encode("ascii")


def _header(cards: Iterable[bytes]) -> bytes:
    data = b"".join(cards) + b"END".ljust(CARD)
    return data + b" " * (-len(data) % BLOCK)


def fits_bytes(width: int, height: int, pixels: Sequence[int] | bytes | bytearray | memoryview,
               *, bitpix: int = 16, cards: Iterable[Card] = ()) -> bytes:
    """A FITS file of one ``width`` x ``height`` image.

    `pixels` are row-major, bottom row first as FITS stores them (or top first, if the
    camera does not care): `bitpix` 16 takes unsigned 16-bit values (an ``array('H')``, any
    sequence of ints, or their native-endian bytes); 8 takes bytes or ints 0..255. `cards`
    are extra header cards (EXPTIME, CCD-TEMP...).
    """
    if width < 1 or height < 1:
        raise FITSError(f"image size {width} x {height}")
    count = width * height
    data: bytes | bytearray
    if bitpix == 16:
        if isinstance(pixels, (bytes, bytearray, memoryview)):
            values = array("H")
            values.frombytes(bytes(pixels))
        elif isinstance(pixels, array) and pixels.typecode == "H":
            values = pixels
        else:
            values = array("H", pixels)
        if len(values) != count:
            raise FITSError(f"{len(values)} pixels for a {width} x {height} image")
        # Big-endian, then unsigned -> FITS' signed with BZERO 32768: the top bit of each
        # value flipped, its high byte (every other byte) looked up in a table at C speed
        # (a third of the CPU of flipping the whole buffer as one integer).
        swapped = array("H", values)
        if sys.byteorder == "little":
            swapped.byteswap()
        data = bytearray(swapped)
        data[0::2] = data[0::2].translate(_TOP_BIT_FLIPPED)
        scale: list[bytes] = [format_card("BZERO", 32768, "offset data range to that of unsigned short"),
                              format_card("BSCALE", 1, "default scaling factor")]
    elif bitpix == 8:
        data = bytes(pixels)
        if len(data) != count:
            raise FITSError(f"{len(data)} pixels for a {width} x {height} image")
        scale = []
    else:
        raise FITSError(f"BITPIX {bitpix}: this writer does 8 and 16")
    header = _header([
        format_card("SIMPLE", True, "file conforms to FITS standard"),
        format_card("BITPIX", bitpix, "number of bits per data pixel"),
        format_card("NAXIS", 2, "number of data axes"),
        format_card("NAXIS1", width, "length of data axis 1"),
        format_card("NAXIS2", height, "length of data axis 2"),
        *scale,
        *(format_card(k, v, c) for k, v, c in cards),
    ])
    return b"".join((header, data, b"\x00" * (-len(data) % BLOCK)))


def table_bytes(columns: Sequence[tuple[str, Sequence[float]]], *,
                cards: Iterable[Card] = ()) -> bytes:
    """A FITS file of one binary table: `columns` (name, values), all of one length, each
    written as FITS' 64-bit floats (TFORM ``D``, big-endian), row by row; `cards` go in the
    table's header (astrometry.net reads IMAGEW/IMAGEH there)."""
    if not columns:
        raise FITSError("a table needs at least one column")
    rows = len(columns[0][1])
    if any(len(values) != rows for _, values in columns):
        raise FITSError("a table's columns are all of one length")
    primary = _header([format_card("SIMPLE", True, "file conforms to FITS standard"),
                       format_card("BITPIX", 8, "no data"),
                       format_card("NAXIS", 0, "no image: the table follows"),
                       format_card("EXTEND", True, "extensions follow")])
    header = _header([
        format_card("XTENSION", "BINTABLE", "binary table extension"),
        format_card("BITPIX", 8, "8-bit bytes"),
        format_card("NAXIS", 2, "2-dimensional binary table"),
        format_card("NAXIS1", 8 * len(columns), "width of table in bytes"),
        format_card("NAXIS2", rows, "number of rows in table"),
        format_card("PCOUNT", 0, "size of special data area"),
        format_card("GCOUNT", 1, "one data group"),
        format_card("TFIELDS", len(columns), "number of fields in each row"),
        *(card for number, (name, _) in enumerate(columns, start=1)
          for card in (format_card(f"TTYPE{number}", name),
                       format_card(f"TFORM{number}", "D", "64-bit float"))),
        *(format_card(k, v, c) for k, v, c in cards),
    ])
    row = struct.Struct(">" + "d" * len(columns))
    try:
        data = b"".join(row.pack(*values) for values in zip(*(v for _, v in columns)))
    except struct.error as exc:
        raise FITSError(f"a table's values are numbers: {exc}") from None
    return primary + header + data + b"\x00" * (-len(data) % BLOCK)


@dataclass(frozen=True)
class Header:
    """A primary header read back: the cards' values by keyword, and where the data starts."""

    values: dict[str, bool | int | float | str]
    data_offset: int

    def __getitem__(self, keyword: str) -> bool | int | float | str:
        return self.values[keyword]

    @property
    def data_size(self) -> int:
        """Bytes of image data the header announces (before padding)."""
        bitpix = int(self.values["BITPIX"])
        size = abs(bitpix) // 8
        for axis in range(1, int(self.values["NAXIS"]) + 1):
            size *= int(self.values[f"NAXIS{axis}"])
        return size if int(self.values["NAXIS"]) else 0


def _value(text: str) -> bool | int | float | str:
    text = text.strip()
    if text.startswith("'"):
        end = 1
        out = []
        while True:
            quote = text.find("'", end)
            if quote < 0:
                raise FITSError(f"unterminated string {text!r}")
            out.append(text[end:quote])
            if text[quote + 1:quote + 2] == "'":
                out.append("'")
                end = quote + 2
                continue
            return "".join(out).rstrip()
    value = text.split("/", 1)[0].strip()
    if value in ("T", "F"):
        return value == "T"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value.replace("D", "E"))
    except ValueError:
        raise FITSError(f"unreadable value {text!r}") from None


def read_header(data: bytes) -> Header:
    """The primary header of a FITS file: SIMPLE first, then cards up to END. FITSError when
    it is not one."""
    values: dict[str, bool | int | float | str] = {}
    offset = 0
    while True:
        card = data[offset:offset + CARD]
        if len(card) < CARD:
            raise FITSError("no END card")
        try:
            text = card.decode("ascii")
        except UnicodeDecodeError:
            raise FITSError(f"a header card at byte {offset} is not ASCII") from None
        offset += CARD
        keyword = text[:8].strip()
        if offset == CARD and keyword != "SIMPLE":
            raise FITSError("not FITS: the first card is not SIMPLE")
        if keyword == "END":
            break
        if text[8:10] == "= ":
            values[keyword] = _value(text[10:])
    for required in ("BITPIX", "NAXIS"):
        if required not in values:
            raise FITSError(f"no {required} card")
    return Header(values, offset + (-offset % BLOCK))
