"""indipysimulators.starcatalogue: Tycho-2 out of Debian's astrometry.net index 4107 (the
package scripts/run-tests installs), and ``gsc``, the program indilib's CCD simulator runs."""

from __future__ import annotations

import math
import os
import random
import re
import statistics
import subprocess
import sys
from datetime import UTC
from datetime import datetime

import numpy as np
import pytest
from astropy.coordinates import FK5
from astropy.coordinates import SkyCoord
from astropy.time import Time

from indipysimulators import gsc
from indipysimulators.starcatalogue import ENV
from indipysimulators.starcatalogue import PACKAGE
from indipysimulators.starcatalogue import CatalogueError
from indipysimulators.starcatalogue import StarCatalogue
from indipysimulators.starcatalogue import default_catalogue
from indipysimulators.starcatalogue import find_catalogue
from indipysimulators.starcatalogue import jnow_to_j2000

#: Four of the Pleiades, J2000 (Hipparcos, as SIMBAD gives them), and their Tycho VT.
PLEIADES = {"Atlas": (57.290592, 24.053417, 3.6), "Maia": (56.456696, 24.367747, 3.9),
            "Merope": (56.581558, 23.948356, 4.2), "Taygeta": (56.302067, 24.467281, 4.3)}
#: The default camera's field (430 mm, 5.2 um pixels, 1280 x 1024), radians.
FIELD = (1280 * 5.2e-3 / 430, 1024 * 5.2e-3 / 430)


def test_the_pleiades_are_where_they_are() -> None:
    """Each within 0.2 arcseconds of its Hipparcos position, at its magnitude."""
    stars = default_catalogue().cone(56.87, 24.1, 1.0, mag_limit=5.0)
    for name, (ra, dec, mag) in PLEIADES.items():
        near = [s for s in stars if math.hypot((s.ra - ra) * math.cos(math.radians(dec)),
                                               s.dec - dec) * 3600 < 0.2]
        assert len(near) == 1, name
        assert near[0].mag == pytest.approx(mag, abs=0.2), name
    assert [s.mag for s in stars] == sorted(s.mag for s in stars)  # brightest first


def test_a_cone_holds_exactly_the_stars_within_it() -> None:
    """The kd-tree walk finds what a search through every star finds, at the poles, at RA 0
    and anywhere, and no star fainter than the limit."""
    cat = default_catalogue()
    raw = np.frombuffer(cat._data, dtype=np.uint32).reshape(-1, 3)  # the file's star tree
    xyz = np.asarray(cat._low) + raw / cat._scale
    sky = random.Random(3)
    cones = [(0.0, 90.0, 0.6), (123.0, -90.0, 1.0), (359.95, 0.0, 0.57), (0.0, 0.0, 0.57)]
    cones += [(sky.uniform(0, 360), math.degrees(math.asin(sky.uniform(-1, 1))), 0.57)
              for _ in range(20)]
    for ra, dec, radius in cones:
        a, d = math.radians(ra), math.radians(dec)
        centre = np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
        chord = 2 * math.sin(math.radians(radius) / 2)
        every = set(np.nonzero(((xyz - centre) ** 2).sum(axis=1) <= chord * chord)[0].tolist())
        assert {s.index for s in cat.cone(ra, dec, radius)} == every, (ra, dec)
        assert all(s.mag <= 9.0 for s in cat.cone(ra, dec, radius, mag_limit=9.0))


def in_field(ra0: float, dec0: float, ra: float, dec: float) -> bool:
    """Whether (ra, dec) falls on the default camera's frame about (ra0, dec0), north up."""
    a0, d0, a, d = map(math.radians, (ra0, dec0, ra, dec))
    den = math.sin(d0) * math.sin(d) + math.cos(d0) * math.cos(d) * math.cos(a - a0)
    x = math.cos(d) * math.sin(a - a0) / den
    y = (math.cos(d0) * math.sin(d) - math.sin(d0) * math.cos(d) * math.cos(a - a0)) / den
    return abs(x) <= FIELD[0] / 2 and abs(y) <= FIELD[1] / 2


def test_a_default_field_holds_enough_stars_to_solve() -> None:
    """500 random fields of 0.89 x 0.71 degrees: a median of about 27 stars (measured: 5 at
    the fewest, 12 at the 5th percentile, 58 at the most), fast."""
    cat = default_catalogue()
    sky = random.Random(7)
    counts = []
    radius = math.degrees(math.hypot(*FIELD) / 2)
    for _ in range(500):
        ra, dec = sky.uniform(0, 360), math.degrees(math.asin(sky.uniform(-1, 1)))
        counts.append(sum(in_field(ra, dec, s.ra, s.dec) for s in cat.cone(ra, dec, radius)))
    counts.sort()
    assert 20 <= statistics.median(counts) <= 40, counts
    assert counts[25] >= 8, counts


def test_a_mount_s_jnow_is_precessed_as_astropy_precesses_it() -> None:
    """JNow (mean equinox of date, precession only) to J2000 agrees with astropy's FK5 within
    an arcsecond, 26 years from J2000 (where the two differ by about 20 arcminutes)."""
    when = datetime(2026, 1, 1, tzinfo=UTC)
    jnow = SkyCoord(ra=56.87, dec=24.1, unit="deg", frame=FK5(equinox=Time("J2000")))
    now = jnow.transform_to(FK5(equinox=Time(when)))
    ra, dec = jnow_to_j2000(now.ra.deg / 15.0, now.dec.deg, when)
    assert math.hypot((ra - 56.87) * math.cos(math.radians(24.1)), dec - 24.1) * 3600 < 1.0
    moved = math.hypot((now.ra.deg - 56.87) * math.cos(math.radians(24.1)), now.dec.deg - 24.1)
    assert moved * 60 > 15


def test_no_catalogue_says_which_package_to_install(tmp_path: os.PathLike[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(CatalogueError, match=PACKAGE):
        find_catalogue(tmp_path)  # type: ignore[arg-type]
    bad = os.path.join(tmp_path, "not-an-index.fits")
    with open(bad, "wb") as file:
        file.write(b"SIMPLE  =                    T" + b" " * 50 + b"END" + b" " * 2797)
    with pytest.raises(CatalogueError, match="no star index"):
        StarCatalogue(bad)


#: indilib's ccd_simulator.cpp: sscanf(line, "%10s %f %f %f %f %f %d %d %4s %2s %f %d").
SSCANF = re.compile(r"\s*(\S{1,10})\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([-+]?\d+)\s+"
                    r"([-+]?\d+)\s+(\S{1,4})\s+(\S{1,2})\s+(\S+)\s+([-+]?\d+)\s*$")


def run_gsc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indipysimulators.gsc", *args],
                          check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_gsc_answers_indilib_s_query_in_its_twelve_fields() -> None:
    """The command indilib's simulator runs (%8.6f %+8.6f, -r %4.1f, -m 0 %4.2f, -n 3000):
    every line gives sscanf its twelve fields, the stars are the catalogue's, brightest
    first, within the radius and the magnitudes."""
    done = run_gsc("-c", "56.870000", "+24.100000", "-r", "40.0", "-m", "0", "11.00",
                   "-n", "3000")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    fields = [SSCANF.match(line) for line in lines]
    assert lines and all(fields), lines[:3]
    rows = [(float(m[2]), float(m[3]), float(m[5]), float(m[11])) for m in fields if m]
    expected = default_catalogue().cone(56.87, 24.1, 40 / 60, 11.0)
    assert [(round(s.ra, 6), round(s.dec, 6)) for s in expected] == [r[:2] for r in rows]
    assert all(r[3] <= 40.0 and 0 <= r[2] <= 11.0 for r in rows)
    for ra, dec, _ in PLEIADES.values():
        assert any(abs(r[0] - ra) < 1e-4 and abs(r[1] - dec) < 1e-4 for r in rows)


def test_gsc_keeps_the_brightest_n() -> None:
    done = run_gsc("-c", "56.87", "24.1", "-r", "60", "-m", "0", "12", "-n", "5")
    mags = [float(line.split()[4]) for line in done.stdout.splitlines()]
    assert len(mags) == 5 and mags == sorted(mags) and mags[0] < 4


def test_gsc_says_what_is_wrong() -> None:
    """A missing catalogue, a declination past the pole, no centre: a message and a failure
    (indilib's simulator then logs "Got no stars" and goes on)."""
    missing = run_gsc("-c", "1", "2", env={ENV: "/nonexistent/index.fits"})
    assert missing.returncode == 1 and "cannot read the star catalogue" in missing.stderr
    pole = run_gsc("-c", "10", "95")
    assert pole.returncode == 1 and "no such field" in pole.stderr
    assert run_gsc().returncode == 2


def test_a_gsc_line_measures_from_the_centre() -> None:
    star = default_catalogue().cone(57.290592, 24.053417, 0.01)[0]
    line = gsc.gsc_line(star, 56.87, 24.1)
    distance, direction = float(line.split()[10]), int(line.split()[11])
    assert distance == pytest.approx(23.19, abs=0.05) and 95 <= direction <= 100
