"""The scheduler's own sky (issue 82, item 2) against astroplan's and astropy's: twilight
within 2 minutes, altitudes, the Moon's place and its separation from a target within small
angles, and a target's windows where astroplan's constraints say the same."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from skyreference import moon_altaz_and_separation
from skyreference import observer
from skyreference import quiet
from skyreference import target_altaz
from skyreference import twilight

from indipyagents.plan.constraints import TWILIGHT_SUN_ALTITUDE
from indipyagents.schedule import sky
from indipyagents.schedule.skyrules import AltitudeConstraint
from indipyagents.schedule.skyrules import AtNightConstraint
from indipyagents.schedule.skyrules import MoonSeparationConstraint
from indipyagents.schedule.windows import NightSky
from indipyagents.schedule.windows import Placed
from indipyagents.schedule.windows import windows
from indipycore import astro

# Sites north and south, east and west, a winter and a summer night, within the span
# astropy-iers-data covers (2026-2027).
SITES = [
    (48.0, 2.0, 100.0, datetime(2026, 11, 27, tzinfo=UTC)),
    (-33.0, 151.0, 50.0, datetime(2027, 3, 10, tzinfo=UTC)),
    (40.0, -105.0, 1600.0, datetime(2026, 6, 21, tzinfo=UTC)),
    (28.76, -17.88, 2400.0, datetime(2027, 1, 15, tzinfo=UTC)),
    (55.0, 10.0, 0.0, datetime(2026, 5, 20, tzinfo=UTC)),
]


@pytest.mark.parametrize(("latitude", "longitude", "elevation", "day"), SITES)
@pytest.mark.parametrize("name", ["civil", "nautical", "astronomical"])
def test_dusk_and_dawn_agree_with_astroplan_within_two_minutes(
        latitude: float, longitude: float, elevation: float, day: datetime, name: str) -> None:
    place = sky.Place(latitude, longitude, elevation)
    noon = sky.local_noon(day, place)
    spans = sky.dark_spans(place, noon, noon + timedelta(days=1),
                           TWILIGHT_SUN_ALTITUDE[name])  # type: ignore[index]
    obs = observer(latitude, longitude, elevation)
    dusk, dawn = twilight(obs, noon, name, True), twilight(obs, noon, name, False)
    if dusk is None or dusk > noon + timedelta(days=1):
        assert spans == []  # a night too short for that twilight (55 N in May)
        return
    assert spans, f"astroplan has a {name} night from {dusk}"
    assert dawn is not None
    assert abs(spans[0][0] - dusk) < timedelta(minutes=2)
    assert abs(spans[-1][1] - dawn) < timedelta(minutes=2)


def test_a_night_too_bright_is_found_as_astroplan_finds_it() -> None:
    """55 N in late May: no astronomical night (the case above returns early on it)."""
    place = sky.Place(55.0, 10.0)
    noon = sky.local_noon(datetime(2026, 5, 20, tzinfo=UTC), place)
    assert sky.dark_spans(place, noon, noon + timedelta(days=1), -18.0) == []
    assert twilight(observer(55.0, 10.0), noon, "astronomical", True) is None


TARGETS = [(5.588, -5.39), (0.712, 41.27), (13.498, 47.2), (18.0, -60.0), (12.0, 0.0)]


@pytest.mark.parametrize(("latitude", "longitude", "elevation", "day"), SITES[:4])
def test_altitudes_moon_and_separation_agree_with_astropy(
        latitude: float, longitude: float, elevation: float, day: datetime) -> None:
    place = sky.Place(latitude, longitude, elevation)
    obs = observer(latitude, longitude, elevation)
    for hours in range(0, 24, 3):
        when = day + timedelta(hours=hours, minutes=17)
        moon_ra, moon_dec = sky.moon_radec(when, place)
        ref_moon_alt, ref_moon_az, _ = moon_altaz_and_separation(obs, 0.0, 0.0, when)
        moon_alt, moon_az = sky.altaz(moon_ra, moon_dec, when, place)
        assert moon_alt == pytest.approx(ref_moon_alt, abs=0.1)
        assert (moon_az - ref_moon_az + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=0.2)
        night = NightSky.sample(place, when - timedelta(minutes=3), when + timedelta(minutes=4))
        for ra, dec in TARGETS:
            # Between samples (the Sun and the Moon interpolated) as at a window's edge.
            at = night.sky_when(when, Placed.of(*astro.precess_from_j2000(ra, dec, when)))
            ref_alt, ref_az = target_altaz(obs, ra, dec, when)
            assert at.altitude == pytest.approx(ref_alt, abs=0.05)
            if abs(ref_alt) < 85:
                assert (at.azimuth - ref_az + 180.0) % 360.0 - 180.0 == pytest.approx(
                    0.0, abs=0.1)
            _, _, ref_sep = moon_altaz_and_separation(obs, ra, dec, when)
            assert at.moon_separation == pytest.approx(ref_sep, abs=0.1)


def test_a_targets_windows_are_where_astroplans_constraints_hold() -> None:
    """M42 from 48 N on a night the Moon comes within 60 degrees of it (at midnight, so the
    Moon makes an edge of its own): our windows against astroplan's
    AltitudeConstraint, AtNightConstraint and MoonSeparationConstraint, every 5 minutes,
    outside 2 minutes of an edge."""
    from astroplan import AltitudeConstraint as RefAltitude
    from astroplan import AtNightConstraint as RefNight
    from astroplan import FixedTarget
    from astroplan import MoonSeparationConstraint as RefMoon
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    place = sky.Place(48.0, 2.0, 100.0)
    obs = observer(48.0, 2.0, 100.0)
    day = datetime(2026, 12, 19, tzinfo=UTC)
    noon = sky.local_noon(day, place)
    night = NightSky.sample(place, noon, noon + timedelta(days=1))
    rules = (AtNightConstraint("astronomical"), AltitudeConstraint(25.0),
             MoonSeparationConstraint(60.0))
    spans = windows(night, 5.588, -5.39, rules)
    times = [noon + timedelta(minutes=5 * k) for k in range(24 * 12)]
    with quiet():
        target = FixedTarget(SkyCoord(ra=5.588 * 15 * u.deg, dec=-5.39 * u.deg))
        reference = [RefNight.twilight_astronomical(), RefAltitude(min=25 * u.deg),
                     RefMoon(min=60 * u.deg)]
        holds = [all(bool(c(obs, target, times=Time(t))) for c in reference) for t in times]
    edges = [moment for span in spans for moment in span]
    checked = 0
    for when, expected in zip(times, holds, strict=True):
        if any(abs(when - edge) < timedelta(minutes=2) for edge in edges):
            continue
        assert any(start <= when < end for start, end in spans) == expected, when
        checked += 1
    assert checked > 250
    assert any(holds) and not all(holds)
    assert len(spans) == 1 and spans[0][1].hour == 23  # the Moon's edge, not the altitude's
