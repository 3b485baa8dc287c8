"""The faint stars the catalogue lacks: synthetic, fixed on the sky, as dense as star counts say.

Index 4107 keeps Tycho-2 only to about magnitude 12 (and only the brightest ten of each 22.5'
cell), so a small field far from the Milky Way holds few or none of its stars. This module adds
the fainter ones: the sky is cut into fixed cells (bands `CELL` degrees of declination, each cut
into RA cells about `CELL` degrees wide), each cell's stars drawn from a generator seeded by the
cell's own indices, so a star is at the same place and magnitude every frame, every run and in
every field that overlaps it, whatever the framing. A cell's mean count is its area times
N(<FAINT_END) - N(<FAINT_START) at the cell centre's galactic latitude; magnitudes follow the
same counts.

Counts (`LOG_COUNTS`): log10 of the number of stars brighter than V per square degree at
galactic latitude 0, 20, 30, 45, 60 and 90 degrees, averaged over longitude (interpolated
linearly in |b| and in magnitude). From 20 degrees to the pole they are Bahcall & Soneira's
published star counts: "The universe at faint magnitudes. I." (ApJS 44, 73, 1980), Appendix
B, Eq. B1, an analytic fit to their Galaxy model in V (no photographic conversion needed),
valid for |b| >= 20 and within 15% of the model, with its V constants C1 925, alpha -0.132,
beta 0.035, delta 3, m* 15.75, C2 1050, kappa -0.18, eta 0.087, lambda 2.5, m-dagger 17.5
(as SDSS's astrotools `atStarCountsFind` and S.-M. Niemi's Euclid VIS tools code it). They
give at the pole 10.6, 48.9 and 188 stars to V 12, 14 and 16, and N(b)/N(90) 3.0 (V 14) and
3.7 (V 16) at b = 30, 5.5 and 7.7 at b = 20. The table's rows at 20-60 degrees are Eq. B1 averaged over 360
longitudes. No published count below 20 degrees was found (Seares & van Rhijn's PNAS 11, 358,
1925 is stored here only as its first page, Allen's table not at all), so the plane's row (b = 0) is the one unchecked number: it is set so that
the whole sphere (the integral of N(b) cos b) gives the whole sky's stars per square degree
counted in the Tycho-2 and UCAC4 catalogues (HNSKY's count, hnsky.com/star_count.htm: 9.28
to magnitude 10, 71.7 to 12, 417 to 14, 2155 to 16; Tycho-2 is complete to about V 11,
UCAC4 to about 16, its magnitudes between V and R) to within 1%, which makes the plane
(longitude-averaged) 42 times the pole's density to V 12, 50 to V 14 and 69 to V 16. The
first table (entered from memory of Allen's) had b = 30 at 5.0-5.6 times the pole, 1.7 times
Bahcall & Soneira's; the pole's counts agreed within 15%. Standard library only.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import lru_cache

#: Cell size, degrees.
CELL = 0.5
#: The synthetic stars' magnitude range: from where index 4107's Tycho-2 thins out.
FAINT_START = 12.0
FAINT_END = 16.0

#: Magnitudes and log10 N(<V) per square degree at |b| = `LATITUDES` degrees (see above).
MAGS = (10.0, 12.0, 14.0, 16.0)
LATITUDES = (0.0, 20.0, 30.0, 45.0, 60.0, 90.0)
LOG_COUNTS = (
    (1.62, 2.65, 3.39, 4.11),  # b = 0: set by the all-sky counts, unchecked
    (0.87, 1.60, 2.43, 3.16),  # b = 20 and higher: Bahcall & Soneira 1980, Eq. B1
    (0.66, 1.40, 2.17, 2.84),  # b = 30
    (0.48, 1.21, 1.93, 2.56),  # b = 45
    (0.37, 1.10, 1.79, 2.39),  # b = 60
    (0.30, 1.03, 1.69, 2.27),  # b = 90
)
#: The whole sky's mean stars per square degree brighter than MAGS (Tycho-2 + UCAC4, HNSKY's
#: count): what `LOG_COUNTS` averages to over the sphere.
ALL_SKY = (9.28, 71.7, 417.0, 2155.0)

# ICRS (J2000) to galactic: the IAU rotation matrix (rows: the galactic x, y, z axes).
_GAL = ((-0.0548755604, -0.8734370902, -0.4838350155),
        (0.4941094279, -0.4448296300, 0.7469822445),
        (-0.8676661490, -0.1980763734, 0.4559837762))


def galactic(ra: float, dec: float) -> tuple[float, float]:
    """J2000 (`ra`, `dec`) degrees as galactic (l, b) degrees."""
    a, d = math.radians(ra), math.radians(dec)
    v = (math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d))
    x, y, z = (sum(r[k] * v[k] for k in range(3)) for r in _GAL)
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.asin(max(-1.0, min(1.0, z))))


def _interp(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    if x <= xs[0]:
        i = 0
    elif x >= xs[-1]:
        i = len(xs) - 2
    else:
        i = max(k for k in range(len(xs) - 1) if xs[k] <= x)
    t = (x - xs[i]) / (xs[i + 1] - xs[i])
    return ys[i] + t * (ys[i + 1] - ys[i])


def log_density(mag: float, b: float) -> float:
    """log10 of the stars brighter than `mag` per square degree at galactic latitude `b`."""
    rows = [_interp(mag, MAGS, row) for row in LOG_COUNTS]
    return _interp(abs(b), LATITUDES, tuple(rows))


def density(mag: float, b: float) -> float:
    """Stars brighter than `mag` per square degree at galactic latitude `b` (degrees)."""
    return float(10.0 ** log_density(mag, b))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _band_cells(band: int) -> int:
    low = band * CELL
    widest = max(math.cos(math.radians(low)), math.cos(math.radians(low + CELL)))
    return max(1, math.ceil(360.0 * widest / CELL))


@lru_cache(maxsize=4096)
def cell_stars(band: int, cell: int) -> tuple[tuple[float, float, float], ...]:
    """The synthetic stars of one cell: (ra, dec, V magnitude), J2000 degrees; always the same."""
    cells = _band_cells(band)
    low, high = band * CELL, band * CELL + CELL
    width = 360.0 / cells
    rng = random.Random(f"faintstars:{band}:{cell}")
    s1, s2 = math.sin(math.radians(low)), math.sin(math.radians(high))
    area = math.degrees(1.0) ** 2 * math.radians(width) * (s2 - s1)
    _, b = galactic((cell + 0.5) * width, (low + high) / 2)
    n1, n2 = density(FAINT_START, b), density(FAINT_END, b)
    stars = []
    for _ in range(_poisson(rng, area * (n2 - n1))):
        ra = (cell + rng.random()) * width
        dec = math.degrees(math.asin(s1 + rng.random() * (s2 - s1)))
        stars.append((ra, dec, _magnitude(math.log10(n1 + rng.random() * (n2 - n1)), b)))
    return tuple(stars)


def _magnitude(log_n: float, b: float) -> float:
    """The magnitude at which `log_density` reaches `log_n` at latitude `b`: at a fixed
    latitude the table is linear in magnitude between its nodes, so solved segment by
    segment."""
    column = [_interp(abs(b), LATITUDES, tuple(row[k] for row in LOG_COUNTS))
              for k in range(len(MAGS))]
    k = 0
    while k < len(MAGS) - 2 and column[k + 1] < log_n:
        k += 1
    return MAGS[k] + (log_n - column[k]) / (column[k + 1] - column[k]) * (MAGS[k + 1] - MAGS[k])


def cone(ra: float, dec: float, radius: float,
         mag_limit: float = FAINT_END) -> Iterator[tuple[float, float, float]]:
    """The synthetic stars within `radius` degrees of (`ra`, `dec`) (J2000 degrees), no fainter
    than `mag_limit`: (ra, dec, mag)."""
    a0, d0 = math.radians(ra), math.radians(dec)
    cos_r = math.cos(math.radians(radius))
    first = math.floor((max(-90.0, dec - radius) + 90.0) / CELL) - round(90.0 / CELL)
    last = math.floor((min(90.0 - 1e-9, dec + radius) + 90.0) / CELL) - round(90.0 / CELL)
    for band in range(first, last + 1):
        cells = _band_cells(band)
        width = 360.0 / cells
        near = max(abs(band * CELL), abs(band * CELL + CELL))
        if near >= 89.0 or radius >= 45.0:
            indices: range | list[int] = range(cells)
        else:
            half = radius / max(1e-6, math.cos(math.radians(near))) + width
            if half >= 180.0:
                indices = range(cells)
            else:
                indices = sorted({int(((ra + k) % 360.0) // width) % cells
                                  for k in _steps(-half, half, width / 2)})
        for cell in indices:
            for sra, sdec, mag in cell_stars(band, cell):
                if mag > mag_limit:
                    continue
                a, d = math.radians(sra), math.radians(sdec)
                c = (math.sin(d0) * math.sin(d)
                     + math.cos(d0) * math.cos(d) * math.cos(a - a0))
                if c >= cos_r:
                    yield sra, sdec, mag


def _steps(start: float, stop: float, step: float) -> Iterator[float]:
    x = start
    while x <= stop:
        yield x
        x += step
    yield stop
