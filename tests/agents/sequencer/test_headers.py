"""`with_cards`: the agent's cards written into a frame's FITS header (the camera's frame
otherwise untouched), read back by the core's FITS reader."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.sequencer.headers import with_cards
from indipycore.fits import BLOCK
from indipycore.fits import fits_bytes
from indipycore.fits import read_header

FRAME = fits_bytes(3, 2, [1, 2, 3, 4, 5, 65535], cards=[("EXPTIME", 30.0, ""),
                                                        ("OBJECT", "Unknown", "")])
KEYWORDS = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=8).filter(
    lambda k: k not in ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "BZERO", "BSCALE",
                        "END", "EXPTIME", "OBJECT"))
VALUES = st.one_of(st.integers(-10**12, 10**12),
                   st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
                   st.booleans())


def test_a_card_already_there_is_replaced_and_new_ones_follow() -> None:
    """OBJECT replaces the camera's "Unknown" (one card, not two); PLAN is added; the pixels
    and the camera's other cards are unchanged."""
    out = with_cards(FRAME, [("OBJECT", "M42", "target"), ("PLAN", "night", "")])
    header = read_header(out)
    assert header["OBJECT"] == "M42" and header["PLAN"] == "night" and header["EXPTIME"] == 30.0
    assert out[:header.data_offset].count(b"OBJECT  =") == 1
    assert out[header.data_offset:] == FRAME[read_header(FRAME).data_offset:]


@given(st.dictionaries(KEYWORDS, VALUES, max_size=60))
def test_any_cards_read_back_as_written(cards: dict[str, bool | int | float | str]) -> None:
    """Any number of cards (past the first 2880-byte block too) read back with their values,
    the header stays whole blocks and the data follows unchanged."""
    out = with_cards(FRAME, [(key, value, "") for key, value in cards.items()])
    header = read_header(out)
    assert header.data_offset % BLOCK == 0 and len(out) % BLOCK == 0
    for key, value in cards.items():
        got = header[key]
        if isinstance(value, float) and not isinstance(value, bool):
            assert abs(float(got) - value) <= abs(value) * 1e-9 + 1e-300
        elif isinstance(value, str):
            assert got == value.rstrip()
        else:
            assert got == value
    assert out[header.data_offset:] == FRAME[read_header(FRAME).data_offset:]
