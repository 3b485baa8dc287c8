"""Issue 92 item 3, the pure part: sky flats' pointing (opposite the Sun, 20 degrees from the
zenith), each exposure from the last frame's level and the sky's fading, the filters' order,
when to stop and what is said (`plan.skyflats`). A synthetic twilight (exponential, each
frame integrating it exactly, the filters' throughputs off the bandwidth table's guess by up
to two times) stands for the sky; the real peers' proof is tests/agents/night."""

from __future__ import annotations

import math
import random
from datetime import UTC
from datetime import datetime

from agentkit import plan_toml
from agentkit import refused_at_line
from agentkit import target_toml
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.plan.skyflats import SkyExpose
from indipyagents.plan.skyflats import SkyFlats
from indipyagents.plan.skyflats import SkyOver
from indipyagents.plan.skyflats import SkyWait
from indipyagents.plan.skyflats import Source
from indipyagents.plan.skyflats import bandwidth
from indipyagents.plan.skyflats import fading
from indipyagents.plan.skyflats import pointing
from indipyagents.plan.skyflats import radec_of
from indipyagents.plan.skyflats import shortfall
from indipyagents.plan.skyflats import sky_order
from indipyagents.plan.steps import expand
from indipyagents.plan.steps import frames
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml
from indipyagents.schedule import sky
from indipyagents.schedule.sky import Place
from indipyagents.sequencer.skyflatwork import sun_rate
from indipycore import astro

GREENWICH = Place(51.4769, 0.0)
#: 2026-12-03 at Greenwich: the Sun sets about 15:53 UTC.
DUSK = datetime(2026, 12, 3, 16, 10, tzinfo=UTC)
DAWN = datetime(2026, 12, 4, 7, 30, tzinfo=UTC)

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                       timezones=st.just(UTC))
places = st.builds(Place, st.floats(-60, 60), st.floats(-180, 180))


@settings(max_examples=60, deadline=None)
@given(moments, places, st.integers(0, 30))
def test_the_flats_point_opposite_the_sun_twenty_degrees_from_the_zenith(
        when: datetime, place: Place, frame: int) -> None:
    """The pointing's RA/Dec (J2000), turned back to altitude and azimuth by the scheduler's
    sky, is 20 degrees from the zenith opposite the Sun's azimuth, each frame within a
    couple of degrees of it (a small move between frames)."""
    sun_az = sky.altaz(*sky.sun_radec(when), when, place)[1]
    altitude, azimuth = pointing(sun_az, frame)
    ra, dec = radec_of(altitude, azimuth, when, place.latitude, place.longitude)
    back_alt, back_az = sky.altaz(*astro.precess_from_j2000(ra, dec, when), when, place)
    assert abs(back_alt - altitude) < 0.01
    assert abs((back_az - azimuth + 180) % 360 - 180) * math.cos(math.radians(altitude)) < 0.01
    away = abs((azimuth - sun_az) % 360 - 180)
    assert abs(altitude - 70.0) <= 2.0 and away * math.cos(math.radians(altitude)) <= 2.0
    if frame == 0:
        assert altitude == 70.0 and away < 1e-6


def test_each_frame_is_pointed_a_little_apart() -> None:
    points = {tuple(round(value, 4) for value in pointing(123.0, frame))
              for frame in range(12)}
    assert len(points) == 12


def test_the_sky_fades_at_dusk_and_brightens_at_dawn() -> None:
    """The stated model: one magnitude a degree of the Sun's altitude (about 0.15 degree a
    minute at Greenwich in December: a tenth of a magnitude a minute and more)."""
    dusk, dawn = fading(sun_rate(DUSK, GREENWICH)), fading(sun_rate(DAWN, GREENWICH))
    assert dusk > 0 > dawn
    per_minute = dusk * 60 / (0.4 * math.log(10))
    assert 0.1 < per_minute < 0.25


@given(st.lists(st.sampled_from(["Luminance", "Red", "Green", "Blue", "H_Alpha", "OIII",
                                 "SII", "LPR", "L", "Ha", None]), max_size=8))
def test_narrow_filters_go_first_at_dusk_and_last_at_dawn(names: list[str | None]) -> None:
    dusk, dawn = sky_order(names, "dusk"), sky_order(names, "dawn")
    assert sorted(map(str, dusk)) == sorted(map(str, names)) == sorted(map(str, dawn))
    widths = [bandwidth(name) for name in dusk]
    assert widths == sorted(widths)
    assert [bandwidth(name) for name in dawn] == sorted(widths, reverse=True)


def twilight(source: Source, start: float, fade: float, through: dict[str, float],
             bias: float, filters: list[str], count: int, adu: float, tolerance: float,
             overhead: float, longest: float = 60.0,
             shortest: float = 0.01) -> tuple[dict[str, int], int, list[str]]:
    """Sky flats through `filters` (in the sky's order) against an exponential twilight:
    its rate (ADU a second, unfiltered) `start` at time 0, fading `fade` a second; each
    frame integrates it exactly, with 0.2 % noise; `overhead` seconds between frames. The
    flats kept per filter, the frames not kept, and what was said."""
    flats = SkyFlats(adu, tolerance, source, shortest=shortest, longest=longest, bias=bias,
                     first=1.0)
    noise = random.Random(7)
    now, kept, tests, said = 0.0, {name: 0 for name in filters}, 0, []
    for name in sky_order(filters, source):
        assert isinstance(name, str)
        while kept[name] < count:
            verdict = flats.next(name, now, fade)
            if isinstance(verdict, SkyOver):
                said.append(verdict.why)
                break
            if isinstance(verdict, SkyWait):
                now += verdict.seconds
                continue
            seconds = verdict.seconds
            rate = start * through[name] * math.exp(-fade * now)
            light = rate * (1 - math.exp(-fade * seconds)) / fade
            median = min(65535.0, bias + light * (1 + noise.gauss(0, 0.002)))
            if flats.measured(name, now, seconds, median):
                kept[name] += 1
            else:
                tests += 1
            now += seconds + overhead
    return kept, tests, said


@settings(max_examples=80, deadline=None)
@given(source=st.sampled_from(["dusk", "dawn"]),
       minutes=st.floats(3.0, 12.0),
       off=st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3),
       adu=st.floats(15000, 40000), tolerance=st.floats(0.05, 0.2),
       overhead=st.floats(0.5, 5.0))
def test_nine_flats_in_ten_are_kept_while_the_sky_allows(
        source: Source, minutes: float, off: list[float], adu: float, tolerance: float,
        overhead: float) -> None:
    """Three filters, five flats each, a twilight fading (or brightening) ten times in
    `minutes` and starting where the narrowest filter needs 5 s (dusk) or the widest 30 s
    (dawn): at least 90 % of the flats asked are kept, and a filter's frames not kept are
    at most 2 (its first, on the bandwidth's guess, and one more)."""
    fade = math.log(10) / (minutes * 60) * (1 if source == "dusk" else -1)
    filters = ["Luminance", "Red", "H_Alpha"]
    through = {name: bandwidth(name) / 300 * factor for name, factor in zip(filters, off,
                                                                             strict=True)}
    first = "H_Alpha" if source == "dusk" else "Luminance"
    start = (adu - 500) / (5.0 if source == "dusk" else 30.0) / through[first]
    kept, tests, said = twilight(source, start, fade, through, 500.0, filters, 5, adu,
                                 tolerance, overhead)
    assert sum(kept.values()) >= 0.9 * 15, (kept, tests, said)
    assert tests <= 2 * len(filters), (kept, tests, said)


def test_the_exposure_grows_at_dusk_and_shrinks_at_dawn() -> None:
    for source, fade in (("dusk", 0.005), ("dawn", -0.005)):
        flats = SkyFlats(30000, 0.1, source, bias=0.0)
        flats.measured("Red", 0.0, 2.0, 30000.0)
        verdict = flats.next("Red", 20.0, fade)
        assert isinstance(verdict, SkyExpose)
        grown = verdict.seconds > 2.0
        assert grown == (source == "dusk")


def test_a_sky_too_bright_at_dusk_is_waited_for_and_at_dawn_ends_the_filter() -> None:
    dusk = SkyFlats(30000, 0.1, "dusk", shortest=0.1)
    dusk.measured("Red", 0.0, 0.1, 65535.0)  # saturated: at least 20 times too bright
    verdict = dusk.next("Red", 1.0, 0.005)
    assert isinstance(verdict, SkyWait) and verdict.seconds > 60
    assert "too bright for Red yet" in verdict.why
    dawn = SkyFlats(30000, 0.1, "dawn", shortest=0.1)
    dawn.measured("Red", 0.0, 0.1, 65535.0)
    over = dawn.next("Red", 1.0, -0.005)
    assert isinstance(over, SkyOver) and "too bright for Red" in over.why
    assert "0.1 s: 65535 ADU" in over.why


def test_a_sky_already_too_dark_at_dusk_ends_the_filter_and_at_dawn_is_waited_for() -> None:
    dusk = SkyFlats(30000, 0.1, "dusk", longest=60.0)
    dusk.measured("Luminance", 0.0, 60.0, 3000.0)
    over = dusk.next("Luminance", 70.0, 0.005)
    assert isinstance(over, SkyOver) and "too dark for Luminance" in over.why
    dawn = SkyFlats(30000, 0.1, "dawn", longest=60.0)
    dawn.measured("Luminance", 0.0, 60.0, 3000.0)
    wait = dawn.next("Luminance", 70.0, -0.005)
    assert isinstance(wait, SkyWait) and "too dark for Luminance yet" in wait.why
    never = SkyFlats(30000, 0.1, "dawn", longest=60.0, max_wait=60.0)
    never.measured("Luminance", 0.0, 60.0, 30.0)
    assert isinstance(never.next("Luminance", 70.0, -0.005), SkyOver)


def test_a_dusk_that_ends_says_which_filters_got_fewer_flats() -> None:
    """A twilight too short for three filters of ten flats: the widest filter's frames run
    out of range, and `shortfall` names it with its count."""
    fade = math.log(10) / 60.0
    filters = ["Luminance", "Red", "H_Alpha"]
    through = {name: bandwidth(name) / 300 for name in filters}
    kept, _tests, said = twilight("dusk", 29500 / 5 / through["H_Alpha"], fade, through,
                                  500.0, filters, 10, 30000, 0.1, 2.0, longest=10.0)
    assert said and all("too dark" in why for why in said), said
    text = shortfall(dict.fromkeys(filters, 10), kept)
    assert text.startswith("fewer sky flats than asked: ")
    assert any(f"{name} {kept[name]} of 10" in text for name in filters if kept[name] < 10)
    assert shortfall({"Red": 2}, {"Red": 2}) == ""


def test_a_first_frame_is_the_guess_and_a_new_filter_is_scaled_by_bandwidth() -> None:
    flats = SkyFlats(30000, 0.1, "dusk", first=3.0)
    assert flats.next("H_Alpha", 0.0, 0.0) == SkyExpose(3.0)
    flats.measured("H_Alpha", 0.0, 3.0, 30000.0)
    wide = flats.next("Red", 3.0, 0.0)
    assert isinstance(wide, SkyExpose)
    assert abs(wide.seconds - 3.0 * 6.0 / 100.0) < 1e-9



SKY_FLATS = plan_toml(
    "Dusk flats", {"camera": "Python CCD Simulator", "wheel": "Python Filter Wheel",
                   "mount": "Python Mount"},
    target_toml("Dusk flats", {"type": "Flat", "count": 3, "exposure": 2.0,
                               "filter": "H_Alpha", "adu": 30000, "source": "dusk"}))


def test_a_sky_flat_batch_is_read_and_written_back_and_needs_no_panel() -> None:
    """``source = "dusk"`` with ``adu``: read, written back, no panel asked (the mount
    is); ``source`` without ``adu``, or not one of panel/dusk/dawn, refused at its line."""
    plan = parse_plan(SKY_FLATS)
    assert plan.targets[0].batches[0].source == "dusk"
    assert parse_plan(plan_to_toml(plan)) == plan
    assert parse_plan(SKY_FLATS.replace('source = "dusk"', 'source = "Dawn"')) \
        .targets[0].batches[0].source == "dawn"
    assert "give adu too" in str(refused_at_line(SKY_FLATS, "adu = 30000\n", "",
                                                 at='source = "dusk"'))
    error = refused_at_line(SKY_FLATS, 'source = "dusk"', 'source = "noon"')
    assert '"panel", "dusk", "dawn"' in str(error), str(error)
    error = refused_at_line(SKY_FLATS, 'mount = "Python Mount"\n', "", at='source = "dusk"')
    assert "mount" in str(error), str(error)


def test_a_target_of_sky_flats_is_taken_in_the_order_the_sky_allows() -> None:
    """Sky flats asked batch by batch, wide first as written, are taken narrow first at
    dusk and wide first at dawn, as the ``[calibration]`` section's (item 3); each batch
    keeps its index in the steps' ids and file names, and a panel's flats stay as written."""
    batches = ({"type": "Flat", "count": 2, "exposure": 2.0, "filter": "Luminance",
                "adu": 30000, "source": "dusk"},
               {"type": "Flat", "count": 2, "exposure": 2.0, "filter": "Red", "adu": 30000,
                "source": "dusk"},
               {"type": "Flat", "count": 2, "exposure": 2.0, "filter": "H_Alpha",
                "adu": 30000, "source": "dusk"})
    rig = {"camera": "Python CCD Simulator", "wheel": "Python Filter Wheel",
           "mount": "Python Mount"}

    def taken(source: str) -> list[str]:
        plan = parse_plan(plan_toml("Twilight", rig, target_toml("Flats", *(
            {**batch, "source": source} for batch in batches))))
        return [frame.id for frame in frames(expand(plan))]

    assert taken("dusk") == ["Flats/2/H_Alpha/Flat/001", "Flats/2/H_Alpha/Flat/002",
                             "Flats/1/Red/Flat/001", "Flats/1/Red/Flat/002",
                             "Flats/0/Luminance/Flat/001", "Flats/0/Luminance/Flat/002"]
    assert taken("dawn") == ["Flats/0/Luminance/Flat/001", "Flats/0/Luminance/Flat/002",
                             "Flats/1/Red/Flat/001", "Flats/1/Red/Flat/002",
                             "Flats/2/H_Alpha/Flat/001", "Flats/2/H_Alpha/Flat/002"]
