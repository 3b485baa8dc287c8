"""INDI numbers: numberValue parsing, printf/sexagesimal display and wire output (INDI 1.7 p.5)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol.errors import LocalProtocolError
from indipycore.protocol.numbers import format_number
from indipycore.protocol.numbers import format_sexagesimal
from indipycore.protocol.numbers import number_to_wire
from indipycore.protocol.numbers import parse_number

# --- parse_number -------------------------------------------------------------------------------

EXACT_VALUES = [
    # SPEC p.5 and the brief: sexagesimal with every separator, sign applying to the whole value.
    ("-5 30", -5.5),
    ("-10:30:18", -10.505),
    ("-10 30.3", -10.505),
    ("-10.505", -10.505),
    ("12;30", 12.5),
    ("-0:30", -0.5),
    ("+5:30", 5.5),
    ("0:0:36", 0.01),
    # Runs of separators count as one; a trailing separator is a missing (zero) component.
    ("12 :: 30", 12.5),
    ("12:", 12.0),
    ("12\t30", 12.5),
    # Plain integers and reals as float() reads them, including indilib's %.20g output.
    ("42", 42.0),
    ("-7", -7.0),
    ("0.1", 0.1),
    (".5", 0.5),
    ("5.", 5.0),
    ("1e-06", 1e-06),
    ("1.8826685845851898193e-05", 1.8826685845851898193e-05),
    ("-2.5E+3", -2500.0),
    ("-0", -0.0),
    # indilib pads values with newlines and spaces.
    ("\n      3.25\n", 3.25),
    ("  -1:30  ", -1.5),
]


@pytest.mark.parametrize(("text", "expected"), EXACT_VALUES)
def test_parse_number_reads_integer_real_and_sexagesimal_exactly(
    text: str, expected: float
) -> None:
    """Every accepted form gives exactly the expected double, sign applied to the whole value."""
    result = parse_number(text)
    assert result == expected
    assert math.copysign(1.0, result) == math.copysign(1.0, expected)


def test_parse_number_three_components_add_minutes_and_seconds() -> None:
    """'12:30:15' is 12 + 30/60 + 15/3600."""
    assert parse_number("12:30:15") == pytest.approx(12.504166666666667, rel=1e-15)


def test_parse_number_minutes_beyond_59_are_added_not_refused() -> None:
    """Lenient on input: components are just summed, so 1:90 is 2.5."""
    assert parse_number("1:90") == 2.5


REJECTED = [
    "",
    "   ",
    "-",
    "+",
    ":30",
    "1_000",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "infinity",
    "1e400",  # overflows to inf
    "0x10",
    "12:30:15:01",  # more than three components
    "12:-30",  # sign inside
    "--5",
    "+-5",
    "- 5",
    "5 apples",
    "1,5",
    "١٢",  # Arabic-Indic digits: float() takes them, INDI peers do not
    "1.2.3",
    "e5",
]


@pytest.mark.parametrize("text", REJECTED)
def test_parse_number_refuses_non_indi_text_with_a_message_quoting_it(text: str) -> None:
    """Anything that is not a finite INDI number raises ValueError naming the offending text."""
    with pytest.raises(ValueError) as excinfo:
        parse_number(text)
    assert repr(text) in str(excinfo.value)


@given(st.text(max_size=30))
def test_parse_number_gives_a_finite_float_or_value_error_for_any_text(text: str) -> None:
    """No input makes the parser fail in any other way or return inf/nan."""
    try:
        value = parse_number(text)
    except ValueError:
        return
    assert math.isfinite(value)


@given(
    st.integers(0, 400),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from([" ", ":", ";"]),
    st.booleans(),
)
def test_parse_number_sexagesimal_matches_the_decimal_sum(
    d: int, m: int, s: int, sep: str, negative: bool
) -> None:
    """d<sep>m<sep>s equals ±(d + m/60 + s/3600) for every separator."""
    text = f"{'-' if negative else ''}{d}{sep}{m}{sep}{s}"
    expected = d + m / 60 + s / 3600
    assert parse_number(text) == pytest.approx(-expected if negative else expected, abs=1e-12)


# --- number_to_wire -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (5.0, "5.0"),
        (5, "5.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1e-07, "1e-07"),
        (1e22, "1e+22"),
        (-123.75, "-123.75"),
        (1.8826685845851898e-05, "1.8826685845851898e-05"),
    ],
)
def test_number_to_wire_writes_a_plain_shortest_decimal(value: float, wire: str) -> None:
    """Wire numbers are repr(float): plain decimal, never sexagesimal or a display format."""
    assert number_to_wire(value) == wire


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_number_to_wire_refuses_non_finite_values(value: float) -> None:
    """C peers cannot read inf/nan, so sending them is our own protocol error."""
    with pytest.raises(LocalProtocolError):
        number_to_wire(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_to_wire_round_trips_through_parse_number(value: float) -> None:
    """What we send is read back as exactly the same double, sign of zero included."""
    wire = number_to_wire(value)
    assert " " not in wire and ":" not in wire and ";" not in wire
    back = parse_number(wire)
    assert back == value
    assert math.copysign(1.0, back) == math.copysign(1.0, value)


# --- format_number: sexagesimal ------------------------------------------------------------------

SEXAGESIMAL = [
    # SPEC p.5 examples.
    (-123.75, "%7.3m", "-123:45"),
    (0.017222, "%9.6m", "  0:01:02"),
    # Each precision's layout (indilib numberFormat).
    (12.5042, "%12.9m", " 12:30:15.12"),
    (12.5042, "%11.8m", " 12:30:15.1"),
    (12.5042, "%9.6m", " 12:30:15"),
    (12.5042, "%8.5m", " 12:30.3"),
    (12.5042, "%6.3m", " 12:30"),
    (12.5042, "%4.2m", "12:30"),  # unknown precision falls back to :mm
    # Carries from the rounded total at every precision: never ":60".
    (0.99999999, "%12.9m", "  1:00:00.00"),
    (0.9999999, "%11.8m", "  1:00:00.0"),
    (0.9999999, "%9.6m", "  1:00:00"),
    (0.9999999, "%8.5m", "  1:00.0"),
    (0.9999999, "%6.3m", "  1:00"),
    (1.9999, "%6.3m", "  2:00"),
    (23.999999, "%9.6m", " 24:00:00"),
    (-0.9999999, "%9.6m", " -1:00:00"),
    # Half of the smallest unit rounds up on the magnitude.
    (0.5 / 3600, "%9.6m", "  0:00:01"),
    (-0.5 / 60, "%6.3m", " -0:01"),
    # Negative values in (-1, 0) keep their sign on a zero whole part.
    (-0.5, "%9.6m", " -0:30:00"),
    (-0.25, "%6.3m", " -0:15"),
    (-0.01, "%11.8m", " -0:00:36.0"),
    # Negative zero has no sign (indilib tests value < 0); a tiny negative keeps it as indilib does.
    (-0.0, "%9.6m", "  0:00:00"),
    (-1e-9, "%9.6m", " -0:00:00"),
    # The '0' flag of the common %010.6m is ignored: the whole part is space padded.
    (1.5, "%010.6m", "   1:30:00"),
    # Large values overflow the width rather than being cut.
    (1234567.25, "%9.6m", "1234567:15:00"),
    (-98765.5, "%6.3m", "-98765:30"),
    # Width narrower than needed, or absent.
    (5.5, "%.6m", "5:30:00"),
    (5.5, "%m", "5:30"),
]


@pytest.mark.parametrize(("value", "fmt", "expected"), SEXAGESIMAL)
def test_format_number_sexagesimal_layout_rounding_and_carries(
    value: float, fmt: str, expected: str
) -> None:
    """%<w>.<f>m renders like indilib, with carries from rounding the total."""
    assert format_number(value, fmt) == expected


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from([(9, 360000), (8, 36000), (6, 3600), (5, 600), (3, 60)]),
)
def test_format_sexagesimal_round_trips_within_half_a_unit(
    value: float, precision_fracbase: tuple[int, int]
) -> None:
    """Display text parses back to the value within half of the smallest unit shown."""
    precision, fracbase = precision_fracbase
    text = format_sexagesimal(value, precision + 3, precision)
    assert ":60" not in text
    fields = text.strip().lstrip("-").split(":")
    assert all(float(f) < 60 for f in fields[1:])
    assert parse_number(text) == pytest.approx(value, abs=0.5 / fracbase + 1e-9 * abs(value))


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_format_sexagesimal_shows_non_finite_values_like_printf(value: float) -> None:
    """inf/nan cannot be split into minutes; they print as %f would, right-aligned."""
    assert format_number(value, "%9.6m") == f"{value:f}".rjust(9)


# --- format_number: printf -----------------------------------------------------------------------

PRINTF = [
    (3.14159, "%f", "3.141590"),
    (3.14159, "%.2f", "3.14"),
    (3.14159, "%8.3f", "   3.142"),
    (3.14159, "%-8.3f|", "3.142   |"),
    (3.14159, "%+.1f", "+3.1"),
    (3.14159, "% .1f", " 3.1"),
    (3.14159, "%08.3f", "0003.142"),
    (2.5, "%.0f", "2"),  # C rounds half to even here too
    (3.5, "%.f", "4"),  # empty precision means 0
    (-0.0, "%.1f", "-0.0"),
    (12345.678, "%e", "1.234568e+04"),
    (12345.678, "%.2E", "1.23E+04"),
    (1e-7, "%g", "1e-07"),
    (123456789.0, "%G", "1.23457E+08"),
    (1.0, "%#g", "1.00000"),
    (2.5, "%lf", "2.500000"),
    (2.5, "%.3Lf", "2.500"),
    (3.7, "%d", "3"),
    (-3.7, "%5i", "   -3"),
    (42.9, "%05u", "00042"),
    (-2.0, "%u", "-2"),  # no unsigned wrap-around: shown signed
    (1e20, "%d", "100000000000000000000"),
    (21.5, "%.1f °C", "21.5 °C"),
    (50.0, "%.0f%%", "50%"),
    (1.0, "100%% of %.1f", "100% of 1.0"),
    (math.inf, "%.2f", "inf"),
    (-math.inf, "%E", "-INF"),
    (math.nan, "%6d", "   nan"),
]


@pytest.mark.parametrize(("value", "fmt", "expected"), PRINTF)
def test_format_number_printf_matches_c_for_a_double(value: float, fmt: str, expected: str) -> None:
    """printf conversions behave as C's for a double; %d/%i/%u show the truncated value."""
    assert format_number(value, fmt) == expected


@pytest.mark.parametrize(
    "fmt", ["", "abc", "%s", "%x", "%.2f %.2f", "%*d", "%", "%.2f %", "%q", "%5.2"]
)
def test_format_number_refuses_formats_without_one_number_conversion(fmt: str) -> None:
    """Unusable formats raise ValueError quoting the format, so callers can fall back."""
    with pytest.raises(ValueError) as excinfo:
        format_number(1.0, fmt)
    assert repr(fmt) in str(excinfo.value)
