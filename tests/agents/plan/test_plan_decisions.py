"""The decisions the sequencer takes between frames (issue 71 item 3: dither every N frames,
autofocus at start, on a filter change, every N minutes, on temperature; the meridian flip
past an hour-angle limit), as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.plan.decisions import autofocus_due
from indipyagents.plan.decisions import dither_due
from indipyagents.plan.decisions import flip_due
from indipyagents.plan.decisions import hour_angle
from indipyagents.plan.model import Autofocus
from indipyagents.plan.model import Dither
from indipyagents.plan.model import Flip


def test_dither_every_n_frames() -> None:
    """Due once `every` frames were taken since the last dither; never with every = 0."""
    assert [dither_due(n, Dither(every=3)) for n in range(5)] == [False, False, False, True, True]
    assert not dither_due(100, Dither(every=0))


def due(settings: Autofocus, *, first: bool = False, changed: bool = False,
        minutes: float | None = 1.0, moved: float | None = None) -> str | None:
    return autofocus_due(settings, first_of_target=first, filter_changed=changed,
                         minutes_since=minutes, temperature_moved=moved)


def test_autofocus_reasons() -> None:
    """Each trigger, on only when its setting is: the start of a target, a filter change,
    minutes since the last (at once when none ran), the temperature moved either way."""
    never = Autofocus()
    assert due(never, first=True, changed=True, minutes=None, moved=9) is None
    assert due(Autofocus(at_start=True), first=True) == "at the start of the target"
    assert due(Autofocus(at_start=True), first=False) is None
    assert due(Autofocus(on_filter_change=True), changed=True) == "the filter changed"
    hourly = Autofocus(every_minutes=60)
    assert due(hourly, minutes=59.9) is None
    assert due(hourly, minutes=61) == "61 minutes since the last"
    assert due(hourly, minutes=None) == "no autofocus yet"
    warm = Autofocus(temperature_delta=1.0)
    assert due(warm, moved=-1.2) == "the temperature moved by 1.2 degrees"
    assert due(warm, moved=0.5) is None and due(warm, moved=None) is None


@pytest.mark.parametrize(("ra", "lst", "expected"), [
    (5.0, 5.0, 0.0), (5.0, 6.0, 15.0), (5.0, 4.0, -15.0), (23.0, 1.0, 30.0), (1.0, 23.0, -30.0),
    (0.0, 12.0, 180.0), (12.0, 0.0, 180.0),
])
def test_hour_angle_is_degrees_positive_west(ra: float, lst: float, expected: float) -> None:
    """HA = LST - RA in degrees, wrapped to (-180, 180] across 0h."""
    assert hour_angle(ra, lst) == pytest.approx(expected)


@given(st.floats(0, 24, exclude_max=True), st.floats(0, 24, exclude_max=True))
def test_hour_angle_range(ra: float, lst: float) -> None:
    """Always in (-180, 180]."""
    assert -180 < hour_angle(ra, lst) <= 180


def test_flip_past_the_limit_on_the_east_facing_side_only() -> None:
    """Due once the hour angle passes the limit while the mount is still on the west of the
    pier (or does not say); not after it flipped (EAST, or indilib's PIER_EAST); never when
    disabled."""
    flip = Flip(hour_angle_limit=2.5)
    assert not flip_due(2.0, flip, "WEST")
    assert flip_due(3.0, flip, "WEST") and flip_due(3.0, flip, None)
    assert not flip_due(3.0, flip, "EAST") and not flip_due(3.0, flip, "PIER_EAST")
    assert not flip_due(-30.0, flip, "WEST")
    assert not flip_due(3.0, Flip(enabled=False), "WEST")
