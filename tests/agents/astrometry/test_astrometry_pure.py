"""Issue 80 item 2: the Astrometry Agent's pure core. A ``.wcs`` header read into a Solution
(centre, angle, parity, scale, field, index) checked against astropy's WCS; any bytes give a
Solution or its problems, never an exception (hypothesis); solve-field's arguments from the
hints; the index files a field needs and which are installed; an image checked whole; the
centring's verdict."""

from __future__ import annotations

import io
import math

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from indipyagents.astrometry.centring import LONGEST
from indipyagents.astrometry.centring import CentreVerdict
from indipyagents.astrometry.centring import judge
from indipyagents.astrometry.centring import offset
from indipyagents.astrometry.centring import rung
from indipyagents.astrometry.hints import Hints
from indipyagents.astrometry.hints import arguments
from indipyagents.astrometry.hints import index_report
from indipyagents.astrometry.hints import installed_indexes
from indipyagents.astrometry.hints import needed_indexes
from indipyagents.astrometry.wcs import check_image
from indipyagents.astrometry.wcs import read_cards
from indipyagents.astrometry.wcs import separation
from indipyagents.astrometry.wcs import solution


def tobytes(hdu: fits.PrimaryHDU) -> bytes:
    out = io.BytesIO()
    hdu.writeto(out)
    return out.getvalue()


def wcs_file(ra: float, dec: float, cd: list[list[float]], crpix: tuple[float, float],
             width: int = 1280, height: int = 1024, index: int = 4108) -> bytes:
    """A header as solve-field writes one (astropy writes the cards)."""
    header = fits.Header()
    header["WCSAXES"] = 2
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["EQUINOX"] = 2000.0
    header["CRVAL1"], header["CRVAL2"] = ra, dec
    header["CRPIX1"], header["CRPIX2"] = crpix
    header["CD1_1"], header["CD1_2"] = cd[0]
    header["CD2_1"], header["CD2_2"] = cd[1]
    header["IMAGEW"], header["IMAGEH"] = width, height
    header.add_comment("-- properties of the matching quad: --")
    header.add_comment(f"index id: {index}")
    return tobytes(fits.PrimaryHDU(header=header))


@settings(max_examples=100, deadline=None)
@given(ra=st.floats(0, 359.99), dec=st.floats(-85, 85), angle=st.floats(-179, 179),
       scale=st.floats(0.5, 20), flipped=st.booleans(),
       px=st.floats(1, 1280), py=st.floats(1, 1024))
def test_the_solution_is_astropys_centre_angle_scale_and_parity(
        ra: float, dec: float, angle: float, scale: float, flipped: bool, px: float,
        py: float) -> None:
    s = scale / 3600
    a = math.radians(angle)
    sign = -1.0 if flipped else 1.0  # the sky as seen: east left (CD1_1 < 0)
    cd = [[-sign * s * math.cos(a), s * math.sin(a)], [sign * s * math.sin(a), s * math.cos(a)]]
    data = wcs_file(ra, dec, cd, (px, py))
    found = solution(data)
    assert found.solved, found.problems
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [px, py]
    wcs.wcs.cd = cd
    centre = wcs.all_pix2world([[(1280 + 1) / 2, (1024 + 1) / 2]], 1)[0]
    assert separation(found.ra, found.dec, centre[0] / 15, centre[1]) < 0.01
    assert math.isclose(found.scale, scale, rel_tol=1e-6)
    assert found.parity == (-1 if flipped else 1)
    assert found.index == 4108
    assert math.isclose(found.width, 1280 * scale / 3600, rel_tol=1e-6)
    # astrometry.net's "up is ANGLE degrees E of N" for the sky as seen.
    if not flipped:
        assert abs((found.angle - angle + 180) % 360 - 180) < 1e-6


def test_solve_fields_own_header_is_read() -> None:
    """The numbers of a solve of our simulator's frame (solve-field 0.93 printed: up is
    -0.151811 degrees E of N, parity pos, 53.2125 x 42.5678 arcminutes)."""
    data = wcs_file(83.6802388607, -5.33774943854,
                    [[-0.000692892230974, -1.84367793153e-06],
                     [-1.82799560072e-06, 0.000692847817657]], (624.549423218, 625.510604858))
    found = solution(data)
    assert abs(found.angle - -0.151811) < 1e-5
    assert found.parity == 1
    assert abs(found.width * 60 - 53.2125) < 0.01 and abs(found.height * 60 - 42.5678) < 0.01


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=6000))
def test_any_bytes_give_a_solution_or_problems(data: bytes) -> None:
    found = solution(data)
    assert found.solved or found.problems
    check_image(data)  # never raises


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 2880 + 1280 * 4 * 2 - 1))  # the header, then the data
def test_a_truncated_fits_image_is_refused(cut: int) -> None:
    whole = tobytes(fits.PrimaryHDU(np.zeros((4, 1280), dtype=np.uint16)))
    assert check_image(whole) == ""
    assert check_image(whole[:cut]) != ""


def test_what_is_not_an_image_says_so() -> None:
    assert "not an image" in check_image(b"hello, this is a plan\n")
    assert check_image(b"") == "the file is empty"
    assert check_image(b"\x89PNG\r\n\x1a\n....") == ""
    header_only = tobytes(fits.PrimaryHDU())
    assert "no 2-D image" in check_image(header_only)


def test_cards_are_read_to_end_and_a_header_without_end_is_a_problem() -> None:
    data = tobytes(fits.PrimaryHDU(np.zeros((2, 2), dtype=np.uint8)))
    cards, _comments, problems = read_cards(data)
    assert cards["NAXIS1"] == 2.0 and cards["SIMPLE"] is True and not problems
    assert read_cards(data[:240])[2] == ["the header has no END card (truncated)"]


def test_solve_fields_arguments_follow_the_hints() -> None:
    blind = arguments(Hints(cpulimit=30), "/f/frame.fits", "/f")
    assert blind[0] == "solve-field" and blind[-1] == "/f/frame.fits"
    assert "--ra" not in blind and "--scale-low" not in blind
    assert blind[blind.index("--cpulimit") + 1] == "30"
    hinted = arguments(Hints(ra=5.5, dec=-5.4, radius=2, scale=2.5, parity=1, downsample=2,
                             depth=20, cpulimit=10), "/f/frame.fits", "/f", config="/f/c")
    assert hinted[hinted.index("--ra") + 1] == "82.500000"
    assert hinted[hinted.index("--dec") + 1] == "-5.400000"
    assert hinted[hinted.index("--radius") + 1] == "2"
    assert float(hinted[hinted.index("--scale-low") + 1]) == 2.25
    assert float(hinted[hinted.index("--scale-high") + 1]) == 2.75
    assert hinted[hinted.index("--parity") + 1] == "pos"
    assert hinted[hinted.index("--downsample") + 1] == "2"
    assert hinted[hinted.index("--depth") + 1] == "20"
    assert hinted[hinted.index("--config") + 1] == "/f/c"
    assert "--width" not in hinted and "--x-column" not in hinted
    # A star list (xylist) instead of the image: the frame's size and the list's columns.
    listed = arguments(Hints(cpulimit=10), "/f/stars.xyls", "/f", size=(1280, 1024))
    assert listed[-1] == "/f/stars.xyls"
    assert listed[listed.index("--width") + 1] == "1280"
    assert listed[listed.index("--height") + 1] == "1024"
    assert [listed[listed.index(option) + 1] for option in
            ("--x-column", "--y-column", "--sort-column")] == ["X", "Y", "FLUX"]


def test_the_indexes_a_field_needs_and_those_installed() -> None:
    # The default field, 0.89 degrees: 5.3' to 53' -> 4107, 4108, 4109.
    assert needed_indexes(0.885) == (4107, 4108, 4109)
    assert needed_indexes(3.0) == (4107, 4108, 4109, 4110, 4111, 4112, 4113)
    assert needed_indexes(0.0) == ()
    names = ["index-tycho2-07.littleendian.fits", "index-tycho2-09.bigendian.fits",
             "index-4110.fits", "README", "index-tycho2-xx.fits"]
    assert installed_indexes(names) == {4107, 4109, 4110}
    report = index_report(0.885, {4107})
    assert report.missing == (4108, 4109) and report.usable
    assert report.packages() == ["astrometry-data-tycho2-08", "astrometry-data-tycho2-09"]
    assert not index_report(0.885, set()).usable
    assert "astrometry-data-tycho2-10-19" in index_report(5.0, {4107}).text()


@settings(max_examples=200, deadline=None)
@given(ra=st.floats(0, 23.99), dec=st.floats(-80, 80), dra=st.floats(-60, 60),
       ddec=st.floats(-60, 60), tolerance=st.floats(1, 100), tries=st.integers(1, 10),
       limit=st.integers(1, 10))
def test_the_centrings_verdict(ra: float, dec: float, dra: float, ddec: float,
                               tolerance: float, tries: int, limit: int) -> None:
    there = (ra + dra / 3600 / 15 / math.cos(math.radians(dec))) % 24, \
        max(-90.0, min(90.0, dec + ddec / 3600))
    off = offset(ra, dec, *there)
    flat = math.hypot(dra, there[1] * 3600 - dec * 3600)  # a flat sky: within 1 %
    assert abs(off.total - flat) < 0.01 * flat + 0.01
    verdict = judge(off, tolerance, tries, limit)
    if off.total <= tolerance:
        assert verdict is CentreVerdict.CENTRED
    else:
        assert verdict is (CentreVerdict.SPENT if tries >= limit else CentreVerdict.AGAIN)


@given(st.floats(0.01, 120.0), st.floats(0.0, 30.0), st.floats(0.0, 20.0))
def test_a_failed_solve_is_tried_longer_then_wider_then_given_up(
        seconds: float, radius: float, scale: float) -> None:
    """Issue 89 item 4: the ladder a failed solve climbs before the process ends Alert: try 1
    as asked, try 2 with a longer exposure (twice, at most LONGEST, never shorter), try 3 with
    it and a wider search (a hinted radius widened, at most 30 degrees; blind stays blind; any
    scale), then none; each try says what it changed."""
    hints = Hints(ra=1.0, dec=2.0, radius=radius, scale=scale)
    first, second, third = (rung(n, seconds, hints) for n in (1, 2, 3))
    assert rung(4, seconds, hints) is None
    assert first is not None and second is not None and third is not None
    assert (first.seconds, first.hints) == (seconds, hints)
    assert second.hints == hints and "longer exposure" in second.said
    assert second.seconds == min(2 * seconds, LONGEST) if seconds < LONGEST else seconds
    assert second.seconds >= seconds
    assert third.seconds == second.seconds and "wider search" in third.said
    assert third.hints.scale == 0.0 and (third.hints.ra, third.hints.dec) == (1.0, 2.0)
    if radius:
        assert third.hints.radius >= min(radius, 30.0) and third.hints.radius <= 30.0
        assert third.hints.radius >= min(10.0, 30.0)
    else:
        assert third.hints.radius == 0.0 and "blind" in third.said
