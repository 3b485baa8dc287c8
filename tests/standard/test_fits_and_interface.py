"""The FITS writer and header reader (`standard.fits`) and DRIVER_INTERFACE text
(`standard.interface`): round trips with hypothesis, and what the reader refuses; the binary
table writer (`table_bytes`, the astrometry agent's xylist) read back by astropy."""

from __future__ import annotations

import io
import sys
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.fits import BLOCK
from indipycore.fits import FITSError
from indipycore.fits import fits_bytes
from indipycore.fits import format_card
from indipycore.fits import read_header
from indipycore.fits import table_bytes
from indipycore.interface import Interface

keywords = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=8).filter(
    lambda k: k not in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "BZERO", "BSCALE",
                        "END"))
values = st.one_of(
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)


@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_16_bit_pixels_round_trip(width: int, height: int, data: st.DataObject) -> None:
    """Unsigned 16-bit pixels come back from the file (signed big-endian, BZERO 32768) as
    written; the file is whole 2880-byte blocks; the header gives the size."""
    pixels = data.draw(st.lists(st.integers(0, 65535), min_size=width * height,
                                max_size=width * height))
    blob = fits_bytes(width, height, array("H", pixels))
    assert len(blob) % BLOCK == 0
    header = read_header(blob)
    assert (header["BITPIX"], header["NAXIS1"], header["NAXIS2"]) == (16, width, height)
    stored = array("h")
    stored.frombytes(blob[header.data_offset:header.data_offset + header.data_size])
    if sys.byteorder == "little":
        stored.byteswap()
    assert [v + int(header["BZERO"]) for v in stored] == pixels


@given(st.lists(st.tuples(keywords, values), max_size=12, unique_by=lambda kv: kv[0]))
def test_header_cards_round_trip(cards: list[tuple[str, bool | int | float | str]]) -> None:
    """Any card written (bool, int, float, printable string with quotes) reads back equal."""
    blob = fits_bytes(2, 2, [0, 1, 2, 3], cards=[(k, v, "a comment") for k, v in cards])
    header = read_header(blob)
    for key, value in cards:
        got = header[key]
        if isinstance(value, float):
            assert got == pytest.approx(value, rel=1e-9, abs=1e-300)
        elif isinstance(value, str):
            assert got == value.rstrip()
        else:
            assert got == value


@given(st.binary(max_size=400))
def test_the_reader_refuses_what_is_not_fits(data: bytes) -> None:
    """Random bytes: a FITSError (never another exception) unless they happen to be FITS."""
    try:
        read_header(data)
    except FITSError:
        pass


column_names = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=8)
numbers = st.floats(allow_nan=False, allow_infinity=False)


@given(st.lists(column_names, min_size=1, max_size=4, unique=True), st.integers(0, 30),
       st.data())
def test_binary_tables_read_back_by_astropy(names: list[str], rows: int,
                                            data: st.DataObject) -> None:
    """A table's columns (64-bit floats), its row count and its extra cards come back
    through astropy.io.fits as written; the file is whole blocks and astropy finds it valid."""
    from astropy.io import fits

    columns = [(name, data.draw(st.lists(numbers, min_size=rows, max_size=rows)))
               for name in names]
    blob = table_bytes(columns, cards=[("IMAGEW", 1280, "width"), ("IMAGEH", 1024, "")])
    assert len(blob) % BLOCK == 0
    with fits.open(io.BytesIO(blob)) as hdus:
        hdus.verify("exception")
        table = hdus[1]
        assert table.header["XTENSION"] == "BINTABLE" and table.header["NAXIS2"] == rows
        assert (table.header["IMAGEW"], table.header["IMAGEH"]) == (1280, 1024)
        assert table.columns.names == names
        for name, values in columns:
            assert table.data[name].tolist() == values


def test_a_table_refuses_uneven_or_no_columns() -> None:
    with pytest.raises(FITSError, match="one length"):
        table_bytes([("X", [1.0, 2.0]), ("Y", [1.0])])
    with pytest.raises(FITSError, match="at least one"):
        table_bytes([])


def test_8_bit_images_and_bad_sizes() -> None:
    header = read_header(fits_bytes(3, 2, bytes(range(6)), bitpix=8))
    assert (header["BITPIX"], header.data_size) == (8, 6) and "BZERO" not in header.values
    with pytest.raises(FITSError):
        fits_bytes(3, 2, [0] * 5)
    with pytest.raises(FITSError):
        fits_bytes(2, 2, [0] * 4, bitpix=32)
    with pytest.raises(FITSError):
        format_card("TOOLONGKEY", 1)
    assert len(format_card("OBJECT", "M31", "x" * 200)) == 80


@given(st.integers(0, 2**20 - 1))
def test_interface_text_round_trips(bits: int) -> None:
    """DRIVER_INTERFACE is sent as decimal text and read back to the same bits."""
    assert Interface.from_text(Interface(bits).to_text()) == bits


@given(st.text(max_size=12))
def test_interface_text_refuses_non_numbers(text: str) -> None:
    try:
        value = Interface.from_text(text)
    except ValueError:
        return
    assert int(value) == int(text.strip())


def test_interface_values_are_indilibs() -> None:
    assert (Interface.CCD | Interface.GUIDER | Interface.FILTER) == 22
    assert Interface.TELESCOPE | Interface.GUIDER == 5
    assert (Interface.WEATHER, Interface.AUX, Interface.SENSOR) == (128, 32768, 26624)


@given(st.text(max_size=400), st.sampled_from([5, 10, 20, 30, 40, 50]))
def test_a_log_record_becomes_one_tagged_line_of_at_most_256_characters(
        text: str, level: int) -> None:
    """Any message text: one line, the level's tag first, at most 256 characters; below
    DEBUG nothing."""
    import logging

    from indipydriver.standard.messages import indi_text

    record = logging.LogRecord("x", level, __file__, 1, "%s", (text,), None)
    line = indi_text(record)
    if level < logging.DEBUG:
        assert line is None
        return
    assert line is not None and len(line) <= 256
    assert "\n" not in line and "\r" not in line
    tag = {10: "[DEBUG] ", 20: "[INFO] ", 30: "[WARNING] ", 40: "[ERROR] ", 50: "[ERROR] "}[level]
    assert line.startswith(tag)
