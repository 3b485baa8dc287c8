"""Where the real sky's stars fall on the simulated camera's sensor: pure, time passed in.

The mount's true pointing (JNow: EQUATORIAL_PE, else EQUATORIAL_EOD_COORD, as indilib's CCD
simulator snoops them) is precessed to J2000 to ask the catalogue (`starcatalogue`); each star
is precessed back to the same JNow and placed by the gnomonic (TAN) projection about the
pointing, so the frame is the sky of date, as a camera on a real mount sees it: north up
(towards higher rows, the FITS way), east to the left (lower columns), rotation 0, the plate
scale 206.265 x pixel size (um) / focal length (mm) arcseconds a pixel. A star's flux in ADU a
second at binning 1 is `photometry`'s: a real 80 mm telescope's and sensor's numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from indipycore.astro import precession_matrix

from . import faintstars
from . import photometry
from .starcatalogue import StarCatalogue
from .starcatalogue import jnow_to_j2000

#: The default optics: a 430 mm focal length with 5.2 um pixels, 1280 x 1024: a field of
#: 0.89 x 0.71 degrees at 2.49 arcseconds a pixel, which the Tycho-2 index files 4107-4109
#: solve (fields under about 0.5 degrees they do not).
FOCAL_LENGTH = 430.0
#: The faintest star drawn: below Tycho-2's end (about 12) the stars are `faintstars`'.
MAG_LIMIT = faintstars.FAINT_END


@dataclass(frozen=True, slots=True)
class Optics:
    """The sensor's unbinned size and pixel size, and the focal length (mm)."""

    width: int
    height: int
    pixel_size: float
    focal_length: float = FOCAL_LENGTH

    @property
    def arcsec_per_pixel(self) -> float:
        return 206.264806 * self.pixel_size / self.focal_length

    @property
    def radius(self) -> float:
        """Half the sensor's diagonal, degrees: the cone that holds every star on it."""
        return math.hypot(self.width, self.height) / 2 * self.arcsec_per_pixel / 3600.0


def flux(mag: float) -> float:
    """ADU a second at binning 1 of a star of magnitude `mag` (`photometry`'s chain)."""
    return photometry.adu_per_second(mag)


def project(ra: float, dec: float, ra0: float, dec0: float) -> tuple[float, float] | None:
    """The gnomonic projection of (`ra`, `dec`) about (`ra0`, `dec0`) (all degrees): the
    standard coordinates (xi east, eta north, radians), None behind the tangent plane."""
    a, d, a0, d0 = map(math.radians, (ra, dec, ra0, dec0))
    cos_c = math.sin(d0) * math.sin(d) + math.cos(d0) * math.cos(d) * math.cos(a - a0)
    if cos_c <= 0:
        return None
    xi = math.cos(d) * math.sin(a - a0) / cos_c
    eta = (math.cos(d0) * math.sin(d) - math.sin(d0) * math.cos(d) * math.cos(a - a0)) / cos_c
    return xi, eta


#: The cone asked of the catalogues is kept for a point of a grid this many degrees apart
#: (and this much wider): the frames of one field share it, however the mount wanders.
GRID = 0.1


@lru_cache(maxsize=8)
def _around(catalogue: StarCatalogue, ra: float, dec: float, radius: float,
            mag_limit: float) -> tuple[tuple[float, float, float, float], ...]:
    """Every star within `radius` + `GRID` of (`ra`, `dec`) (J2000 degrees, a grid point): its
    J2000 unit vector and its flux; the catalogue's, brightest first, then `faintstars`'."""
    reach = radius + GRID
    found = [(star.ra, star.dec, star.mag)
             for star in catalogue.cone(ra % 360.0, dec, reach, mag_limit)]
    found += faintstars.cone(ra % 360.0, dec, reach, mag_limit)
    stars = []
    for sra, sdec, mag in found:
        a, d = math.radians(sra), math.radians(sdec)
        stars.append((math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d),
                      flux(mag)))
    return tuple(stars)


def sky_stars(catalogue: StarCatalogue, ra_hours: float, dec: float, when: datetime,
              optics: Optics, mag_limit: float = MAG_LIMIT
              ) -> list[tuple[float, float, float]]:
    """The stars on the sensor when its centre truly points at (`ra_hours`, `dec`) JNow at
    `when`: (x, y) in unbinned pixels from the sensor's corner (pixel edges, as the camera
    draws) and the flux in ADU a second; a margin of a few pixels kept for stars whose light
    spills in. The stars of the catalogues' cone about the nearest `GRID` point, precessed
    and projected (`project`) as dot products of their J2000 unit vectors with the pointing's
    axes taken back to J2000 (`precession_matrix`): the same positions, a frame's worth of
    trigonometry once, not once a star."""
    ra2000, dec2000 = jnow_to_j2000(ra_hours, dec, when)
    scale = math.radians(optics.arcsec_per_pixel / 3600.0)
    margin = 20.0
    cx, cy = optics.width / 2, optics.height / 2
    radius = optics.radius * 1.05 + 0.02
    field = _around(catalogue, round(ra2000 / GRID) * GRID,
                    min(90.0, max(-90.0, round(dec2000 / GRID) * GRID)), radius, mag_limit)
    # The tangent plane's axes at the pointing (JNow): towards it, east, north; as J2000
    # vectors (the precession's transpose), so a star's J2000 vector dots with them.
    a0, d0 = math.radians(ra_hours * 15.0), math.radians(dec)
    axes = ((math.cos(d0) * math.cos(a0), math.cos(d0) * math.sin(a0), math.sin(d0)),
            (-math.sin(a0), math.cos(a0), 0.0),
            (-math.sin(d0) * math.cos(a0), -math.sin(d0) * math.sin(a0), math.cos(d0)))
    rotation = precession_matrix(when)
    (px, py, pz), (ex, ey, ez), (nx, ny, nz) = (
        tuple(sum(rotation[k][i] * axis[k] for k in range(3)) for i in range(3))
        for axis in axes)
    low_x, high_x = -margin, optics.width + margin
    low_y, high_y = -margin, optics.height + margin
    stars = []
    for x0, y0, z0, adu in field:
        cos_c = x0 * px + y0 * py + z0 * pz
        if cos_c <= 0:
            continue
        x = cx - (x0 * ex + y0 * ey + z0 * ez) / cos_c / scale
        y = cy + (x0 * nx + y0 * ny + z0 * nz) / cos_c / scale
        if low_x <= x <= high_x and low_y <= y <= high_y:
            stars.append((x, y, adu))
    return stars
