"""The face's FITS -> ImageBytes conversion (indipyalpaca.face.fitsimage), on FITS files
written here card by card: 8-bit, 16-bit unsigned (BZERO 32768) and signed, 32-bit, mono and
NAXIS3 colour, TOP-DOWN and BOTTOM-UP.

Protects: the pixels land in Alpaca's order (x slowest, y, then the plane), as the wire's own
standard-library decoder (`imagebytes.to_rows`) reads them back into FITS order, top row
first; the transmission type is the one the depth gives (Byte, UInt16, Int16; 32-bit the
narrowest that holds the values); the header says Rank 2 or 3 and the sizes; the JSON value is
``[x][y]`` (``[x][y][c]``); the conversion reports its progress by whole columns up to the
whole frame; a file it cannot serve is a FITSError naming why. `FrameStream`: every
download gets the whole frame in bounded pieces, an unreadable file is an AlpacaError.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyalpaca.face.fitsimage import FitsImage
from indipyalpaca.face.framestream import CHUNK
from indipyalpaca.face.framestream import FrameStream
from indipyalpaca.wire import imagebytes
from indipyalpaca.wire.errors import AlpacaError
from indipyalpaca.wire.imagebytes import ElementType
from indipycore.fits import BLOCK
from indipycore.fits import FITSError
from indipycore.fits import format_card

#: (BITPIX, BZERO, numpy type of the values, their range)
DEPTHS = {
    "u8": (8, 0, ">u1", (0, 255)),
    "u16": (16, 32768, ">u2", (0, 65535)),
    "i16": (16, 0, ">i2", (-32768, 32767)),
    "i32": (32, 0, ">i4", (-(2**31), 2**31 - 1)),
}


def fits_file(path: Path, cube: np.ndarray, depth: str, bottom_up: bool = False,
              naxis3: bool = False, extra: tuple[tuple[str, object], ...] = ()) -> Path:
    """`cube` (planes, rows top first, x) as a FITS file: as a camera writes it."""
    bitpix, bzero, dtype, _ = DEPTHS[depth]
    planes, height, width = cube.shape
    cards = [("SIMPLE", True), ("BITPIX", bitpix), ("NAXIS", 3 if naxis3 else 2),
             ("NAXIS1", width), ("NAXIS2", height)]
    if naxis3:
        cards.append(("NAXIS3", planes))
    if bzero:
        cards += [("BZERO", bzero), ("BSCALE", 1)]
    cards += [("ROWORDER", "BOTTOM-UP" if bottom_up else "TOP-DOWN"), *extra]
    header = b"".join(format_card(k, v) for k, v in cards) + b"END".ljust(80)
    header += b" " * (-len(header) % BLOCK)
    stored = cube[:, ::-1, :] if bottom_up else cube
    data = (stored.astype(np.int64) - bzero).astype(dtype).tobytes()
    path.write_bytes(header + data + b"\0" * (-len(data) % BLOCK))
    return path


@st.composite
def images(draw: st.DrawFn) -> tuple[np.ndarray, str, bool, bool]:
    depth = draw(st.sampled_from(sorted(DEPTHS)))
    low, high = DEPTHS[depth][3]
    if draw(st.booleans()):  # values that a narrower type holds, too
        low, high = max(low, 0), min(high, 300)
    width, height = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    colour = draw(st.booleans())
    planes = 3 if colour else 1
    values = draw(st.lists(st.integers(low, high), min_size=planes * width * height,
                           max_size=planes * width * height))
    cube = np.array(values, dtype=np.int64).reshape(planes, height, width)
    return cube, depth, draw(st.booleans()), colour


@given(images())
def test_pixels_are_in_alpaca_order_and_type(tmp_path_factory: pytest.TempPathFactory,
                                             image: tuple[np.ndarray, str, bool, bool]) -> None:
    """Any image, any depth, mono or colour, either row order: the ImageBytes the face sends
    decode (with the wire's standard-library decoder) to the FITS pixels, top row first, in
    the type the depth gives; the JSON value is [x][y] ([x][y][c])."""
    cube, depth, bottom_up, colour = image
    planes, height, width = cube.shape
    path = fits_file(tmp_path_factory.mktemp("fits") / "frame.fits", cube, depth, bottom_up,
                     naxis3=colour)
    seen: list[int] = []
    fits = FitsImage(path)
    fits.convert(lambda start, end: seen.append(end))
    fits.close()
    frame = fits.frame(7, 8)
    wire = imagebytes.encode(frame) + bytes(fits.data)
    back = imagebytes.decode(wire)
    assert (back.client_transaction_id, back.server_transaction_id) == (7, 8)
    assert back.image_element_type == ElementType.INT32
    assert back.rank == (3 if colour else 2)
    assert back.dimensions == (width, height, planes if colour else 0)
    if depth == "i32":
        assert back.transmission_element_type == imagebytes.narrowest_type(cube.ravel().tolist())
    else:
        assert back.transmission_element_type == {"u8": ElementType.BYTE,
                                                  "u16": ElementType.UINT16,
                                                  "i16": ElementType.INT16}[depth]
    assert imagebytes.to_rows(back) == (width, height, planes, cube.ravel().tolist())
    assert seen == sorted(seen) and seen[-1] == len(fits.data) == fits.nbytes
    assert all(ready % (fits.nbytes // width) == 0 for ready in seen)
    value = fits.json_value()
    assert np.array_equal(np.array(value), cube.transpose(2, 1, 0)[:, :, 0] if not colour
                          else cube.transpose(2, 1, 0))


def test_a_large_frame_is_reported_in_blocks_of_columns(tmp_path: Path) -> None:
    """A 1000-column frame is written in several blocks, each reported when done, so that a
    download can send the first columns while the others are written; converted in three
    parts (every third block each), the blocks reported tile the frame exactly."""
    cube = np.arange(1000 * 300, dtype=np.int64).reshape(1, 300, 1000) % 65536
    fits = FitsImage(fits_file(tmp_path / "big.fits", cube, "u16"))
    seen: list[tuple[int, int]] = []
    fits.convert(lambda start, end: seen.append((start, end)))
    assert len(seen) > 4 and seen[0] == (0, seen[0][1]) and seen[-1][1] == fits.nbytes
    assert bytes(fits.data) == cube[0].T.astype("<u2").tobytes()
    fits = FitsImage(fits_file(tmp_path / "big.fits", cube, "u16"))
    fits.choose_type()
    parts: list[tuple[int, int]] = []
    for part in range(3):
        fits.convert(lambda start, end: parts.append((start, end)), part, 3)
    fits.close()
    assert sorted(parts) == seen
    assert bytes(fits.data) == cube[0].T.astype("<u2").tobytes()


def test_exposure_facts_are_read_from_the_header(tmp_path: Path) -> None:
    """EXPTIME and DATE-OBS come from the header, before any pixel is converted."""
    cube = np.zeros((1, 2, 2), dtype=np.int64)
    fits = FitsImage(fits_file(tmp_path / "f.fits", cube, "u8",
                               extra=(("EXPTIME", 2.5), ("DATE-OBS", "2026-01-02T03:04:05"))))
    assert (fits.exposure, fits.date_obs) == (2.5, "2026-01-02T03:04:05")


@pytest.mark.parametrize(("mangle", "why"), [
    (lambda data: data[:BLOCK + 10], "ends before its image"),
    (lambda data: data[:100], "shorter than a FITS header"),
    (lambda data: data.replace(b"BITPIX  =                   16", b"BITPIX  =                  -32"),
     "BITPIX -32"),
    (lambda data: data.replace(b"NAXIS   =                    2", b"NAXIS   =                    1"),
     "1 axes"),
    (lambda data: b"JUNK" + data[4:], "not FITS"),
])
def test_what_cannot_be_served_is_a_fits_error(tmp_path: Path, mangle: object,
                                               why: str) -> None:
    """A short, truncated, float, one-axis or non-FITS file is a FITSError saying why."""
    path = fits_file(tmp_path / "f.fits", np.zeros((1, 40, 40), dtype=np.int64), "u16")
    path.write_bytes(mangle(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(FITSError, match=why):
        FitsImage(path)


async def test_a_frame_stream_hands_every_downloader_the_whole_frame(tmp_path: Path) -> None:
    """Two downloads begun at once while the frame converts each get exactly the ImageBytes
    pixels, in pieces of at most CHUNK bytes; the JSON path waits for the whole frame."""
    cube = (np.arange(1500 * 400, dtype=np.int64).reshape(1, 400, 1500) * 7) % 65536
    stream = FrameStream(str(fits_file(tmp_path / "f.fits", cube, "u16")), "Cam")

    async def download() -> list[bytes]:
        return [piece async for piece in stream.chunks()]

    first, second = await asyncio.gather(download(), download())
    expected = cube[0].T.astype("<u2").tobytes()
    assert b"".join(first) == b"".join(second) == expected
    assert max(len(p) for p in first) <= CHUNK
    image = await stream.converted()
    assert stream.done and image.json_value()[3][5] == cube[0, 5, 3]


async def test_an_unreadable_image_is_an_alpaca_error(tmp_path: Path) -> None:
    """A file that is not FITS (or is gone) is an AlpacaError naming why, for the header and
    the pixels alike, and is logged."""
    path = tmp_path / "junk.fits"
    path.write_bytes(b"x" * 5000)
    for filename in (path, tmp_path / "missing.fits"):
        stream = FrameStream(str(filename), "Cam")
        with pytest.raises(AlpacaError, match="unreadable"):
            await stream.image()
        with pytest.raises(AlpacaError, match="unreadable"):
            await stream.converted()
        assert stream.done
