"""indipysimulators.ccd and skyview: the camera draws the real sky where the mount truly
points, each star where astropy's precession and TAN projection put it (measured with sep)."""

from __future__ import annotations

import math
from datetime import UTC
from datetime import datetime

import numpy as np
import pytest
import sep
from astropy.coordinates import FK5
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astropy.wcs import WCS

from indipycore.astro import precess_from_j2000
from indipydriver.standard.camera import Exposure
from indipysimulators import faintstars
from indipysimulators.ccd import SimulatedCamera
from indipysimulators.skyview import FOCAL_LENGTH
from indipysimulators.skyview import MAG_LIMIT
from indipysimulators.skyview import Optics
from indipysimulators.skyview import flux
from indipysimulators.skyview import project
from indipysimulators.skyview import sky_stars
from indipysimulators.starcatalogue import default_catalogue
from indipysimulators.starcatalogue import jnow_to_j2000

WHEN = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


def expected_pixels(ra_hours: float, dec: float, width: int, height: int,
                    focal_length: float) -> list[tuple[float, float, float]]:
    """The catalogue's stars in the field, placed independently: astropy's FK5 precession to
    the equinox of WHEN and its TAN WCS (north up, east left, 0-based pixel centres)."""
    scale = 206.264806 * 5.2 / focal_length / 3600
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra_hours * 15, dec]
    wcs.wcs.crpix = [width / 2 + 0.5, height / 2 + 0.5]
    wcs.wcs.cd = [[-scale, 0], [0, scale]]
    centre = SkyCoord(ra=ra_hours * 15, dec=dec, unit="deg", frame=FK5(equinox=Time(WHEN)))
    j2000 = centre.transform_to(FK5(equinox=Time("J2000")))
    # The catalogue's stars and the synthetic faint ones (`faintstars`), both on the sky.
    stars = [(s.ra, s.dec, s.mag)
             for s in default_catalogue().cone(j2000.ra.deg, j2000.dec.deg, 0.7)]
    stars += faintstars.cone(j2000.ra.deg, j2000.dec.deg, 0.7, MAG_LIMIT)
    sky = SkyCoord(ra=[s[0] for s in stars], dec=[s[1] for s in stars], unit="deg",
                   frame=FK5(equinox=Time("J2000"))).transform_to(FK5(equinox=Time(WHEN)))
    x, y = wcs.all_world2pix(sky.ra.deg, sky.dec.deg, 0)
    return [(float(px), float(py), s[2]) for px, py, s in zip(x, y, stars)
            if 0 <= px < width and 0 <= py < height]


def measured(camera: SimulatedCamera, seconds: float) -> np.ndarray:
    image = camera.render(Exposure(seconds, 0, 0, 1280, 1024))
    data = np.array(image.pixels, dtype=np.float64).reshape(image.height, image.width)
    background = sep.Background(data)
    return sep.extract(data - background, 5.0, err=background.globalrms, minarea=3)


def test_the_frame_shows_the_catalogue_where_the_mount_truly_points() -> None:
    """M45's field, 1 s: every catalogue star brighter than mag 10 on the frame is found
    within a pixel of where astropy puts it (the plate scale 2.49"/px, 430 mm)."""
    camera = SimulatedCamera()
    camera.fwhm = lambda: 5.0
    camera.clock = lambda: WHEN
    ra, dec = 3.80, 24.30  # JNow
    camera.pointing = lambda: (ra, dec)
    assert FOCAL_LENGTH == 430.0
    objects = measured(camera, 1.0)
    expected = expected_pixels(ra, dec, 1280, 1024, 430.0)
    bright = [(x, y) for x, y, mag in expected if mag < 10 and 5 < x < 1275 and 5 < y < 1019]
    assert len(bright) >= 10
    for x, y in bright:
        # sep's (0, 0) is the centre of the first pixel: astropy's 0-based origin.
        distance = np.hypot(objects["x"] - x, objects["y"] - y).min()
        assert distance < 1.0, (x, y, distance)
    # And nothing that is not a catalogue star (saturated blends aside: within 3 px).
    for obj in objects:
        assert min(math.hypot(obj["x"] - x, obj["y"] - y) for x, y, _ in expected) < 3


def test_the_focal_length_sets_the_scale_and_an_unknown_pointing_the_old_field() -> None:
    camera = SimulatedCamera()
    camera.clock = lambda: WHEN
    camera.pointing = lambda: (3.80, 24.30)
    camera.focal_length = lambda: 860.0
    assert camera.optics().arcsec_per_pixel == 206.264806 * 5.2 / 860
    xy = camera.field_stars()
    expected = expected_pixels(3.80, 24.30, 1280, 1024, 860.0)
    # Every catalogue star at the new scale (the synthetic faint stars besides).
    assert len([1 for x, y, _ in xy if 0 <= x < 1280 and 0 <= y < 1024]) >= len(expected)
    for ex, ey, _ in expected:
        # (the camera counts from pixel edges, astropy from centres: half a pixel each way)
        assert min(math.hypot(ex - x, ey - y) for x, y, _ in xy) < 1.0, (ex, ey)
    camera.pointing = lambda: None
    assert camera.field_stars() == camera.stars


@pytest.mark.parametrize(("ra", "dec", "focal_length"), [
    (3.80, 24.30, 430.0), (0.001, 0.0, 430.0), (23.999, -45.0, 200.0), (12.0, 89.8, 430.0),
    (7.5, -89.7, 430.0), (2.35, 57.14, 1000.0)])
def test_sky_stars_are_each_stars_precession_and_projection(
        ra: float, dec: float, focal_length: float) -> None:
    """`sky_stars` (the catalogues' cone kept about a grid point, each star placed by dot
    products) gives the stars each star's own `precess_from_j2000` and `project` place, in
    the same order, within a millionth of a pixel: at the poles, across RA 0 and at a field's
    edge of its grid cell."""
    optics = Optics(1280, 1024, 5.2, focal_length)
    catalogue = default_catalogue()
    ra2000, dec2000 = jnow_to_j2000(ra, dec, WHEN)
    scale = math.radians(optics.arcsec_per_pixel / 3600.0)
    radius = optics.radius * 1.05 + 0.02
    found = [(s.ra, s.dec, s.mag) for s in catalogue.cone(ra2000, dec2000, radius, MAG_LIMIT)]
    found += faintstars.cone(ra2000, dec2000, radius, MAG_LIMIT)
    expected = []
    for sra, sdec, mag in found:
        now = precess_from_j2000(sra / 15.0, sdec, WHEN)
        plane = project(now[0] * 15.0, now[1], ra * 15.0, dec)
        assert plane is not None
        x, y = 640 - plane[0] / scale, 512 + plane[1] / scale
        if -20 <= x <= 1300 and -20 <= y <= 1044:
            expected.append((x, y, flux(mag)))
    placed = sky_stars(catalogue, ra, dec, WHEN, optics)
    assert len(placed) == len(expected) > 100
    for got, want in zip(placed, expected):
        assert got[2] == want[2]
        assert got[:2] == pytest.approx(want[:2], abs=1e-6)
