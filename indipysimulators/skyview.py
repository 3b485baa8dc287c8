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

from indipycore.astro import precess_from_j2000

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


def sky_stars(catalogue: StarCatalogue, ra_hours: float, dec: float, when: datetime,
              optics: Optics, mag_limit: float = MAG_LIMIT
              ) -> list[tuple[float, float, float]]:
    """The stars on the sensor when its centre truly points at (`ra_hours`, `dec`) JNow at
    `when`: (x, y) in unbinned pixels from the sensor's corner (pixel edges, as the camera
    draws) and the flux in ADU a second; a margin of a few pixels kept for stars whose light
    spills in."""
    ra2000, dec2000 = jnow_to_j2000(ra_hours, dec, when)
    scale = math.radians(optics.arcsec_per_pixel / 3600.0)
    margin = 20.0
    cx, cy = optics.width / 2, optics.height / 2
    stars = []
    radius = optics.radius * 1.05 + 0.02
    found = [(star.ra, star.dec, star.mag)
             for star in catalogue.cone(ra2000, dec2000, radius, mag_limit)]
    found += faintstars.cone(ra2000, dec2000, radius, mag_limit)
    for sra, sdec2000, mag in found:
        ra, sdec = precess_from_j2000(sra / 15.0, sdec2000, when)
        plane = project(ra * 15.0, sdec, ra_hours * 15.0, dec)
        if plane is None:
            continue
        x, y = cx - plane[0] / scale, cy + plane[1] / scale
        if -margin <= x <= optics.width + margin and -margin <= y <= optics.height + margin:
            stars.append((x, y, flux(mag)))
    return stars
