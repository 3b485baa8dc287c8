"""Dithering's arithmetic (`indipyagents.rig.dither`): random offsets within the asked size,
pulses that move a simulated mount (`EquatorialMotion`) by exactly the offset, and offsets
as a small slew's target."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.rig.dither import DEFAULT_FOCAL_MM
from indipyagents.rig.dither import DEFAULT_PIXEL_UM
from indipyagents.rig.dither import Offset
from indipyagents.rig.dither import offset_target
from indipyagents.rig.dither import plate_scale
from indipyagents.rig.dither import random_offset
from indipyagents.rig.dither import to_pulses
from indipycore.astro import SIDEREAL_DEG_PER_S
from indipydriver.standard.motion import EquatorialMotion

arcsec = st.floats(-120.0, 120.0, allow_nan=False)
decs = st.floats(-80.0, 80.0, allow_nan=False)
rates = st.floats(0.1, 1.0)


def test_plate_scale_of_the_defaults_and_of_a_camera() -> None:
    """206.265 x pixel (um) / focal length (mm): indilib's simulators' 5.2 um behind 900 mm
    by default, 1.19"/px; a given pixel and focal length are used, nonsense refused."""
    assert plate_scale() == pytest.approx(206.264806 * DEFAULT_PIXEL_UM / DEFAULT_FOCAL_MM)
    assert plate_scale() == pytest.approx(1.1918, abs=1e-4)
    assert plate_scale(3.76, 400.0) == pytest.approx(1.9389, abs=1e-4)
    with pytest.raises(ValueError, match="must be > 0"):
        plate_scale(0.0, 400.0)


@given(st.integers(0, 2**32), st.floats(0.0, 50.0), st.floats(0.1, 10.0))
def test_random_offsets_stay_within_the_pixels_and_repeat_with_the_seed(
        seed: int, pixels: float, scale: float) -> None:
    """Each axis within +-pixels x scale arcsec; the same seed gives the same offsets (a
    resumed night dithers as planned)."""
    first = [random_offset(random.Random(seed), pixels, scale) for _ in range(3)]
    rng = random.Random(seed)
    offset = random_offset(rng, pixels, scale)
    assert offset == first[0]
    assert abs(offset.north) <= pixels * scale + 1e-9
    assert abs(offset.west) <= pixels * scale + 1e-9


def test_random_offset_refuses_a_negative_size() -> None:
    """A negative size or a zero scale is a mistake, said so."""
    with pytest.raises(ValueError, match="dither of"):
        random_offset(random.Random(1), -1.0, 1.0)


@given(arcsec, arcsec, decs, rates, rates)
def test_pulses_move_a_simulated_mount_by_the_offset(
        north: float, west: float, dec: float, rate_ns: float, rate_we: float) -> None:
    """The pulses `to_pulses` asks, run on `EquatorialMotion` (tracking, as the simulator's
    mount is) at the guide rates, move it `north` arcsec in Dec and `west` arcsec on the sky
    (RA down by west / cos(Dec))."""
    pulses = to_pulses(Offset(north, west), dec, rate_ns, rate_we)
    motion = EquatorialMotion(ra=12.0, dec=dec, tracking=True)
    motion.guide(1 if pulses.north_ms >= 0 else -1, 0, rate_ns * SIDEREAL_DEG_PER_S,
                 abs(pulses.north_ms) / 1000)
    motion.guide(0, 1 if pulses.west_ms >= 0 else -1, rate_we * SIDEREAL_DEG_PER_S,
                 abs(pulses.west_ms) / 1000)
    longest = max(abs(pulses.north_ms), abs(pulses.west_ms)) / 1000
    for _ in range(4):
        motion.advance(longest / 3, 0.0)
    assert not motion.guiding
    assert (motion.dec - dec) * 3600 == pytest.approx(north, abs=1e-6)
    moved_west = -((motion.ra - 12.0 + 12) % 24 - 12) * 15 * 3600 * math.cos(math.radians(dec))
    assert moved_west == pytest.approx(west, abs=1e-6)


@given(st.floats(0.0, 23.99), decs, arcsec, arcsec)
def test_offset_target_is_the_offset_on_the_sky(ra: float, dec: float, north: float,
                                                west: float) -> None:
    """For a mount without pulses: the target moved `north` arcsec in Dec and `west` arcsec
    on the sky (towards smaller RA), RA kept in [0, 24)."""
    new_ra, new_dec = offset_target(ra, dec, Offset(north, west))
    assert 0.0 <= new_ra < 24.0
    assert (new_dec - dec) * 3600 == pytest.approx(north, abs=1e-6)
    moved_west = -((new_ra - ra + 12) % 24 - 12) * 15 * 3600 * math.cos(math.radians(dec))
    assert moved_west == pytest.approx(west, abs=1e-6)


def test_pulses_refuse_a_zero_rate() -> None:
    """A guide rate of 0 would ask endless pulses: refused, saying so."""
    with pytest.raises(ValueError, match="guide rates"):
        to_pulses(Offset(1.0, 1.0), 0.0, 0.0, 0.5)
