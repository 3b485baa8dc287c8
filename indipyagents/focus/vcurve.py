"""The V-curve: star size (HFR) against focuser position, fitted to find the best position.

The curve fitted is a hyperbola, HFR(x) = sqrt(m^2 + s^2 (x - c)^2): m the smallest star
size (at the best position c), s the slope of its two asymptotes. Why not two lines: a
defocused star's blur grows linearly with the distance from focus and adds to the seeing in
quadrature, so the real curve is this hyperbola: straight far out, round at the bottom. Two
lines fitted to it put the vertex where the asymptotes cross, biased whenever the samples are
not symmetric about the best position, and need the samples split by side first; the
hyperbola uses every point, the rounded ones near focus most of all.

Fitting it is linear: HFR^2 = m^2 + s^2 (x - c)^2 is a parabola in x, so a weighted least
squares fit of HFR^2 to p0 + p1 x + p2 x^2 gives c = -p1 / (2 p2). Each point is weighted
1 / HFR^2, since an error e in HFR is an error of 2 HFR e in HFR^2: to first order this is
the least squares fit of HFR itself, and on points exactly on a hyperbola it is exact.

Pure: numbers in, numbers out, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Hyperbola", "VCurveError", "fit", "fit_curve"]


class VCurveError(ValueError):
    """The points give no trustworthy best position (the reason says why)."""


@dataclass(frozen=True)
class Hyperbola:
    """HFR(x) = sqrt(minimum^2 + slope^2 (x - best)^2); `rms` is the fit's residual in HFR
    (pixels)."""

    best: float
    minimum: float
    slope: float
    rms: float = 0.0

    def hfr(self, position: float) -> float:
        return math.sqrt(self.minimum ** 2 + (self.slope * (position - self.best)) ** 2)


def _solve3(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """A 3 x 3 linear system by Gaussian elimination with partial pivoting; VCurveError when
    singular (the positions do not determine a parabola)."""
    rows = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for col in range(3):
        pivot = max(range(col, 3), key=lambda r: abs(rows[r][col]))
        if abs(rows[pivot][col]) < 1e-12:
            raise VCurveError("the positions do not determine a curve (too few distinct ones)")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(col + 1, 3):
            factor = rows[r][col] / rows[col][col]
            for k in range(col, 4):
                rows[r][k] -= factor * rows[col][k]
    solution = [0.0, 0.0, 0.0]
    for r in (2, 1, 0):
        solution[r] = (rows[r][3] - sum(rows[r][k] * solution[k] for k in range(r + 1, 3))
                       ) / rows[r][r]
    return solution


def fit_curve(points: Sequence[tuple[float, float]]) -> Hyperbola:
    """The hyperbola through `points` ((position, hfr) pairs).

    Refused (`VCurveError`) when there are fewer than three distinct positions, when a star
    size is not a positive number, when the points curve downwards (no minimum at all), and
    when the minimum lies outside the sampled positions: there the fit extrapolates from one
    side of the V, where its bottom is pinned by no point, so a small error in the slopes
    moves it far; the caller samples further that way instead of trusting it.
    """
    if any(not (math.isfinite(x) and math.isfinite(h) and h > 0) for x, h in points):
        raise VCurveError("positions must be finite and star sizes positive numbers")
    positions = sorted({x for x, _ in points})
    if len(positions) < 3:
        raise VCurveError(f"a V-curve needs three distinct positions, not {len(positions)}")
    low, high = positions[0], positions[-1]
    # Centred and scaled positions (u in -1..1) keep the normal equations well conditioned
    # at focuser positions of 100000.
    centre, half = (low + high) / 2, (high - low) / 2
    sums = [0.0] * 5
    rhs = [0.0] * 3
    for x, h in points:
        u, weight, target = (x - centre) / half, 1 / (h * h), h * h
        power = weight
        for k in range(5):
            sums[k] += power
            if k < 3:
                rhs[k] += power * target
            power *= u
    q0, q1, q2 = _solve3([[sums[0], sums[1], sums[2]], [sums[1], sums[2], sums[3]],
                          [sums[2], sums[3], sums[4]]], rhs)
    if not q2 > 0:
        raise VCurveError("no minimum: the star sizes do not rise on both sides (not a V)")
    vertex = -q1 / (2 * q2)
    best = centre + half * vertex
    slack = 1e-9 * (high - low)  # rounding, for a minimum on the outermost sample
    if not low - slack <= best <= high + slack:
        raise VCurveError(f"the fitted minimum {best:.0f} is outside the sampled positions "
                          f"{low:g}..{high:g}: sample further that way")
    best = min(high, max(low, best))
    # A negative minimum^2 (a V sharper than any star's) is a vertex of HFR 0: two lines.
    minimum = math.sqrt(max(0.0, q0 - q1 * q1 / (4 * q2)))
    slope = math.sqrt(q2) / half
    curve = Hyperbola(best, minimum, slope)
    rms = math.sqrt(sum((curve.hfr(x) - h) ** 2 for x, h in points) / len(points))
    return Hyperbola(best, minimum, slope, rms)


def fit(points: Sequence[tuple[float, float]]) -> float:
    """The best focuser position the V-curve through `points` gives (`fit_curve`)."""
    return fit_curve(points).best
