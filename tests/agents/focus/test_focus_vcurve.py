"""The V-curve fit (issue 71 item 6): a hyperbola HFR(x) = sqrt(m^2 + s^2 (x - c)^2) through
(position, HFR) samples. Protects: points on a hyperbola give back its best position whatever
its size, slope and where the samples fall around it; moving every position moves the best
with them and scaling every HFR does not move it; a curve with no minimum, or one outside the
sampled positions, or too few positions, is refused with the reason."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume
from hypothesis import given
from hypothesis import strategies as st

from indipyagents.focus.vcurve import Hyperbola
from indipyagents.focus.vcurve import VCurveError
from indipyagents.focus.vcurve import fit
from indipyagents.focus.vcurve import fit_curve


@st.composite
def sampled_curves(draw: st.DrawFn) -> tuple[Hyperbola, list[tuple[float, float]]]:
    """A hyperbola and 3..11 distinct positions whose range holds its best position (not on
    its outermost sample: that is for the caller to sample past), over which it rises
    visibly (by a tenth at least: over a flatter span no fit can say where its bottom is)."""
    curve = Hyperbola(best=draw(st.floats(0, 100000)), minimum=draw(st.floats(0.3, 20)),
                      slope=draw(st.floats(0.001, 2)))
    step = draw(st.integers(1, 500))
    count = draw(st.integers(3, 11))
    assume(curve.slope * step * (count - 1) >= curve.minimum / 2)
    first = curve.best - draw(st.floats(0.05, 0.95)) * step * (count - 1)
    positions = [first + k * step for k in range(count)]
    return curve, [(x, curve.hfr(x)) for x in positions]


@given(sampled_curves())
def test_points_on_a_hyperbola_give_back_its_best_position(
        case: tuple[Hyperbola, list[tuple[float, float]]]) -> None:
    curve, points = case
    span = points[-1][0] - points[0][0]
    found = fit_curve(points)
    assert found.best == pytest.approx(curve.best, abs=1e-6 * span)
    assert found.minimum == pytest.approx(curve.minimum, rel=1e-4, abs=1e-6)
    assert found.rms == pytest.approx(0, abs=1e-6 * max(h for _, h in points))


@given(sampled_curves(), st.floats(-5000, 5000), st.floats(0.1, 10))
def test_moving_the_positions_moves_the_best_and_scaling_the_sizes_does_not(
        case: tuple[Hyperbola, list[tuple[float, float]]], shift: float, scale: float) -> None:
    _, points = case
    best = fit(points)
    span = points[-1][0] - points[0][0]
    moved = fit([(x + shift, h) for x, h in points])
    scaled = fit([(x, h * scale) for x, h in points])
    assert moved == pytest.approx(best + shift, abs=1e-6 * span)
    assert scaled == pytest.approx(best, abs=1e-6 * span)


@given(st.floats(0.5, 10), st.floats(0.01, 1), st.integers(3, 9), st.integers(5, 100))
def test_samples_all_on_one_side_of_the_best_are_refused(
        minimum: float, slope: float, count: int, step: int) -> None:
    """The samples rise all the way (the best is beyond them): the minimum is an
    extrapolation, so no position is given and the error says to sample further."""
    curve = Hyperbola(0.0, minimum, slope)
    points = [(float(step * (k + 1)), curve.hfr(step * (k + 1))) for k in range(count)]
    with pytest.raises(VCurveError, match="outside the sampled positions"):
        fit(points)


@given(st.lists(st.floats(1, 10), min_size=3, max_size=9))
def test_an_upside_down_curve_has_no_minimum(heights: list[float]) -> None:
    """Samples that are highest in the middle (a ^, not a V) are refused."""
    count = len(heights)
    points = [(float(k), 20 - (k - (count - 1) / 2) ** 2) for k in range(count)]
    with pytest.raises(VCurveError, match="no minimum"):
        fit(points)


def test_too_few_positions_and_impossible_sizes_are_refused() -> None:
    with pytest.raises(VCurveError, match="three distinct positions"):
        fit([(10, 3.0), (20, 2.0), (20, 2.1)])
    with pytest.raises(VCurveError, match="positive"):
        fit([(10, 3.0), (20, 0.0), (30, 3.0)])
    with pytest.raises(VCurveError, match="positive"):
        fit([(10, 3.0), (20, math.nan), (30, 3.0)])


def test_a_noisy_v_from_the_simulator_lands_near_its_best() -> None:
    """Star sizes as measured on our simulated camera 60 steps from focus (a few % noise,
    far samples measured too small): the best within 5 steps of the true 50060."""
    points = [(50000, 6.05), (49980, 7.01), (50020, 4.36), (50040, 2.70), (50060, 1.79),
              (50080, 2.69), (50100, 4.36)]
    assert fit(points) == pytest.approx(50060, abs=5)


def test_a_v_of_two_straight_lines_has_its_vertex_as_best() -> None:
    """A V sharper than any star's (HFR 0 at its vertex) is fitted as its two lines."""
    points = [(float(x), abs(x - 33) * 0.1 + 0.0) for x in range(0, 100, 10)]
    points = [(x, h if h > 0 else 1e-9) for x, h in points]
    assert fit(points) == pytest.approx(33, abs=3)
