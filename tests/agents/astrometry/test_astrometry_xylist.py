"""Issue 90 item 6: the agent solves a frame by its star list (sep's stars as the xylist
solve-field takes), with the real solve-field and image2xy: the list's stars are where
image2xy puts them (FITS' 1-based pixels), the list solves to where the image solves, and the
image is solved instead when too few stars are found (a blank frame fails as before) or the
list does not solve."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from astrokit import TARGET
from astrokit import frame
from astropy.io import fits

from indipyagents.astrometry import solver as solver_module
from indipyagents.astrometry.hints import Hints
from indipyagents.astrometry.solver import SolveFailed
from indipyagents.astrometry.solver import Solver
from indipyagents.astrometry.wcs import separation
from indipyagents.astrometry.xylist import MAX_STARS
from indipyagents.astrometry.xylist import MIN_STARS
from indipyagents.astrometry.xylist import StarList
from indipyagents.astrometry.xylist import star_list
from indipycore.astro import precess_to_j2000
from indipycore.fits import table_bytes

#: The hint the agent gives for the default field: its place within 2 degrees, its scale.
HINTS = Hints(ra=TARGET[0], dec=TARGET[1], radius=2, scale=2.494, cpulimit=60)


def test_the_star_list_holds_the_brightest_where_image2xy_finds_them(tmp_path: Path) -> None:
    image = frame()
    stars = star_list(image)
    assert stars is not None and (stars.width, stars.height) == (1280, 1024)
    assert stars.kept == min(stars.found, MAX_STARS) and stars.kept >= MIN_STARS
    with fits.open(io.BytesIO(stars.data)) as hdus:
        ours = hdus[1].data
        assert hdus[1].header["IMAGEW"] == 1280 and hdus[1].header["IMAGEH"] == 1024
    assert list(ours["FLUX"]) == sorted(ours["FLUX"], reverse=True)
    # astrometry.net's own star finder on the same frame: its 10 brightest are ours, within
    # a tenth of a pixel where the convention (1-based or 0-based) would put them a pixel off.
    (tmp_path / "frame.fits").write_bytes(image)
    subprocess.run(["image2xy", "-O", "-o", str(tmp_path / "frame.xy"),
                    str(tmp_path / "frame.fits")], check=True, capture_output=True, timeout=60)
    with fits.open(tmp_path / "frame.xy") as hdus:
        theirs = hdus[1].data
    theirs = theirs[np.argsort(theirs["FLUX"])[::-1][:10]]
    for x, y in zip(theirs["X"], theirs["Y"]):
        nearest = np.min(np.hypot(ours["X"] - x, ours["Y"] - y))
        assert nearest < 0.3, (x, y, nearest)


async def test_a_frame_solves_by_its_star_list_where_its_image_solves() -> None:
    image = frame()
    truth = precess_to_j2000(*TARGET, datetime.now(UTC))
    by_stars = await Solver().solve(image, HINTS, field_width=0.885)
    by_image = await Solver(use_stars=False).solve(image, HINTS, field_width=0.885)
    assert (by_stars.via, by_image.via) == ("stars", "image")
    assert separation(by_stars.ra, by_stars.dec, *truth) <= 30, (by_stars, truth)
    assert separation(by_stars.ra, by_stars.dec, by_image.ra, by_image.dec) <= 2.0
    assert abs(by_stars.scale - by_image.scale) < 0.01
    assert abs(by_stars.angle - by_image.angle) < 0.05 and by_stars.parity == by_image.parity


async def test_a_blank_frame_fails_as_before_without_a_star_list(tmp_path: Path) -> None:
    blank = frame(None)
    assert star_list(blank) is None  # fewer than MIN_STARS: the image is solved
    said = []
    for use_stars in (True, False):
        with pytest.raises(SolveFailed) as failed:
            await Solver(use_stars=use_stars, workdir=str(tmp_path)).solve(
                blank, HINTS, field_width=0.885)
        said.append(str(failed.value))
    assert said[0] == said[1] and said[0].startswith("no solution (scale 2.49\"/px"), said
    assert list(tmp_path.iterdir()) == []


async def test_a_star_list_that_does_not_solve_leaves_the_image_to_solve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A list of stars the sky has not (the frame's own, moved at random): solve-field finds
    nothing in it, and the image then solves in what is left of the time."""
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(1, 1280, 60), rng.uniform(1, 1024, 60)
    wrong = StarList(table_bytes([("X", xs.tolist()), ("Y", ys.tolist()),
                                  ("FLUX", sorted(rng.uniform(1, 1e5, 60), reverse=True))]),
                     1280, 1024, 60, 60)
    monkeypatch.setattr(solver_module, "star_list", lambda image: wrong)
    solver = Solver()
    found = await solver.solve(frame(), HINTS, field_width=0.885)
    assert found.via == solver.last_via == "image"
    truth = precess_to_j2000(*TARGET, datetime.now(UTC))
    assert separation(found.ra, found.dec, *truth) <= 30, (found, truth)
