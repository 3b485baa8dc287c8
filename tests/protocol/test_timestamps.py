"""INDI timeValue: lenient reading, one strict written form (INDI 1.7 p.5)."""

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.protocol.timestamps import format_timestamp
from indipycore.protocol.timestamps import now_timestamp
from indipycore.protocol.timestamps import parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T04:15:03", datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC)),
        ("2026-11-22T04:15:03.1", datetime(2026, 11, 22, 4, 15, 3, 100000, tzinfo=UTC)),
        ("2026-11-22T04:15:03.123", datetime(2026, 11, 22, 4, 15, 3, 123000, tzinfo=UTC)),
        ("2026-11-22T04:15:03.123456", datetime(2026, 11, 22, 4, 15, 3, 123456, tzinfo=UTC)),
        # Past microseconds: truncated, so .9999999 stays in the same second.
        ("2026-11-22T04:15:03.9999999", datetime(2026, 11, 22, 4, 15, 3, 999999, tzinfo=UTC)),
        ("2026-11-22T04:15:03.", datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC)),
        # SPEC examples use a space; some software appends Z; indilib pads with whitespace.
        ("2026-11-22 04:15:03", datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC)),
        ("2026-11-22T04:15:03Z", datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC)),
        ("2026-11-22T04:15:03.5z", datetime(2026, 11, 22, 4, 15, 3, 500000, tzinfo=UTC)),
        ("  2026-11-22T04:15:03\n", datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC)),
        ("2026-1-2T4:05:06", datetime(2026, 1, 2, 4, 5, 6, tzinfo=UTC)),
        # A leap second cannot be held by datetime: it becomes the last microsecond of the minute.
        ("2016-12-31T23:59:60", datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts_the_forms_peers_send(text: str, expected: datetime) -> None:
    """Lenient reading: T or space, any fraction, optional Z, all read as aware UTC."""
    result = parse_timestamp(text)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "now",
        "2026-11-22",
        "2026-11-22T04:15",
        "2026-13-01T00:00:00",
        "2026-02-30T00:00:00",
        "2026-11-22T24:00:00",
        "2026-11-22T04:15:03+01:00",
        "2026-11-22T04:15:03.123 UTC",
        "2026-11-22T04:15:03.1.2",
        "26-11-22T04:15:03",
        "1763784903",
    ],
)
def test_parse_timestamp_refuses_other_text_quoting_it(text: str) -> None:
    """Text that is not a UTC timeValue raises ValueError naming the text."""
    with pytest.raises(ValueError) as excinfo:
        parse_timestamp(text)
    assert repr(text) in str(excinfo.value)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2026, 11, 22, 4, 15, 3, 123456, tzinfo=UTC), "2026-11-22T04:15:03.123"),
        (datetime(2026, 11, 22, 4, 15, 3, tzinfo=UTC), "2026-11-22T04:15:03.000"),
        # Truncated, never rounded into the next second.
        (datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2026-12-31T23:59:59.999"),
        # Other zones are converted to UTC; naive datetimes are taken as UTC.
        (
            datetime(2026, 11, 22, 5, 15, 3, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-22T04:15:03.000",
        ),
        (datetime(2026, 11, 22, 4, 15, 3, 7000), "2026-11-22T04:15:03.007"),
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00.000"),
    ],
)
def test_format_timestamp_writes_utc_with_milliseconds(dt: datetime, expected: str) -> None:
    """Strict writing: one form, UTC, T separator, exactly three fraction digits, no zone."""
    assert format_timestamp(dt) == expected


@given(st.datetimes(timezones=st.just(UTC)))
def test_format_then_parse_gives_the_time_truncated_to_milliseconds(dt: datetime) -> None:
    """What we write reads back as the same instant, to the millisecond."""
    back = parse_timestamp(format_timestamp(dt))
    assert back == dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def test_now_timestamp_is_the_current_utc_time_in_the_strict_form() -> None:
    """now_timestamp() is well formed and within a few seconds of the clock."""
    text = now_timestamp()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}", text)
    assert abs(parse_timestamp(text) - datetime.now(UTC)) < timedelta(seconds=5)
