"""The sky clock (issue 82 item 4: a night rehearsed with simulators, through restarts), pure:
the sky time follows the wall time at its rate from the moment its setting fixes, the
setting read back gives the same clock, a restarted reader continues the same night, and a
bad setting is a `ValueError` saying what is wrong, never anything else."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipycore.skyclock import MAX_RATE
from indipycore.skyclock import SkyClock
from indipycore.skyclock import parse_sky_clock

zones = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)),
                  st.integers(-12 * 60, 14 * 60))
moments = st.builds(lambda when, zone: when.replace(tzinfo=UTC).astimezone(zone),
                    st.datetimes(datetime(2000, 1, 2), datetime(2100, 1, 1)), zones)
rates = st.floats(1e-3, MAX_RATE, allow_nan=False, allow_infinity=False)
seconds = st.floats(0, 86400 * 30)


@given(moments, moments, rates)
def test_the_setting_read_back_is_the_same_clock(sky: datetime, wall: datetime,
                                                 rate: float) -> None:
    clock = SkyClock(sky, wall, rate)
    assert parse_sky_clock(clock.text(), now=datetime(1999, 1, 1, tzinfo=UTC)) == clock


@given(moments, moments, rates, seconds, seconds)
def test_sky_time_runs_at_its_rate_from_the_fixed_moment(sky: datetime, wall: datetime,
                                                         rate: float, first: float,
                                                         more: float) -> None:
    clock = SkyClock(sky, wall, rate)
    assert clock.at(wall) == sky
    earlier = clock.at(wall + timedelta(seconds=first))
    later = clock.at(wall + timedelta(seconds=first + more))
    assert later >= earlier >= sky
    assert abs((later - earlier).total_seconds() - rate * more) < 1e-3 * max(1.0, rate * more)


@given(moments, moments, rates, seconds)
def test_a_sleep_of_sky_seconds_lasts_them_at_the_rate(sky: datetime, wall: datetime,
                                                       rate: float, asked: float) -> None:
    clock = SkyClock(sky, wall, rate)
    slept = clock.wall_seconds(asked)
    assert slept >= 0
    assert abs(slept * rate - asked) <= 1e-9 * max(1.0, asked)
    assert clock.wall_seconds(-asked) == 0


@given(moments, moments, rates, seconds, seconds)
def test_a_restarted_reader_continues_the_same_night(sky: datetime, wall: datetime,
                                                     rate: float, first_up: float,
                                                     later: float) -> None:
    """The process read the setting at one moment, was killed, and the new one reads it at
    another: at any moment after, both say the same sky time."""
    setting = SkyClock(sky, wall, rate).text()
    before = parse_sky_clock(setting, now=wall + timedelta(seconds=first_up))
    after = parse_sky_clock(setting, now=wall + timedelta(seconds=first_up + later))
    moment = wall + timedelta(seconds=first_up + later + 1)
    assert before.at(moment) == after.at(moment)


@given(moments, moments)
def test_without_a_wall_time_the_night_begins_when_read(sky: datetime, now: datetime) -> None:
    clock = parse_sky_clock(sky.isoformat(), now=now)
    assert clock.at(now) == sky and clock.rate == 1.0
    assert parse_sky_clock(f"{sky.isoformat()}x60", now=now).rate == 60.0


def test_the_usual_short_forms() -> None:
    now = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    clock = parse_sky_clock("2026-12-03T19:00Z@2026-06-01T09:00Zx2", now=now)
    assert clock == SkyClock(datetime(2026, 12, 3, 19, tzinfo=UTC),
                             datetime(2026, 6, 1, 9, tzinfo=UTC), 2.0)
    assert clock.at(now) == datetime(2026, 12, 3, 20, tzinfo=UTC)
    assert clock.text() == "2026-12-03T19:00:00+00:00@2026-06-01T09:00:00+00:00x2.0"


@pytest.mark.parametrize(("text", "said"), [
    ("", "not an ISO 8601 time"),
    ("tonight", "not an ISO 8601 time"),
    ("2026-12-03T19:00", "needs a zone"),
    ("2026-12-03T19:00Z@2026-06-01T09:00", "needs a zone"),
    ("2026-12-03T19:00Zxfast", "not a number"),
    ("2026-12-03T19:00Zx0", "above 0"),
    ("2026-12-03T19:00Zx-1", "above 0"),
    ("2026-12-03T19:00Zxnan", "above 0"),
    ("2026-12-03T19:00Zx1e9", "at most"),
])
def test_a_bad_setting_says_what_is_wrong(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_sky_clock(text, now=datetime(2026, 6, 1, tzinfo=UTC))


@given(st.text(max_size=60))
def test_any_text_gives_a_clock_or_a_value_error(text: str) -> None:
    try:
        clock = parse_sky_clock(text, now=datetime(2026, 6, 1, tzinfo=UTC))
    except ValueError:
        return
    assert clock.sky.tzinfo is not None and clock.wall.tzinfo is not None
