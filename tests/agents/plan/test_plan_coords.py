"""RA and Dec as observers write them (issue 71 item 3: the plan's targets at J2000 RA/Dec)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.plan.coords import parse_dec
from indipyagents.plan.coords import parse_ra


@pytest.mark.parametrize("text", ["05 35 17.3", "5h35m17.3s", "05:35:17.3", "5h 35m 17.3s"])
def test_ra_in_sexagesimal_forms(text: str) -> None:
    """Spaces, colons and h/m/s letters all read as hours, minutes, seconds."""
    assert parse_ra(text) == pytest.approx(5 + 35 / 60 + 17.3 / 3600)


@pytest.mark.parametrize("text", ["-05 23 28", "-5d23m28s", "-5°23'28\"", "-05:23:28"])
def test_dec_in_sexagesimal_forms(text: str) -> None:
    """The same for degrees, the sign applying to the whole angle."""
    assert parse_dec(text) == pytest.approx(-(5 + 23 / 60 + 28 / 3600))


def test_a_negative_dec_below_one_degree_keeps_its_sign() -> None:
    """"-00 30 00" is half a degree south, not north (the sign is read apart from the 00)."""
    assert parse_dec("-00 30 00") == -0.5


@pytest.mark.parametrize("text", ["5 60 00", "5 30 60", "5.5 30", "abc", "", "5h 3x", "--5"])
def test_malformed_angles_are_refused(text: str) -> None:
    """Minutes or seconds of 60, a fraction before the last field, stray text: ValueError."""
    with pytest.raises(ValueError):
        parse_ra(text)


@given(st.floats(0, 23.99, allow_nan=False))
def test_ra_numbers_and_their_sexagesimal_agree(hours: float) -> None:
    """Any RA written as h m s reads back as the same hours (to the written precision)."""
    h, rest = divmod(round(hours * 3600, 3), 3600)  # rounded first: never "60.000" seconds
    m, s = divmod(rest, 60)
    assert parse_ra(f"{int(h):02d} {int(m):02d} {s:06.3f}") == pytest.approx(hours, abs=1e-6)


@given(st.one_of(st.text(max_size=20), st.floats(), st.integers(), st.just(10**400),
                 st.booleans(), st.none()))
def test_anything_gives_an_angle_or_a_clear_error(value: object) -> None:
    """Any value gives hours in range or ValueError/TypeError, never another exception."""
    try:
        hours = parse_ra(value)
    except (ValueError, TypeError):
        return
    assert 0 <= hours < 24
