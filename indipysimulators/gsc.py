"""``gsc``: the star-catalogue program indilib's CCD simulator runs, answered from Tycho-2.

indilib's ``indi_simulator_ccd`` (and its guide head) draws stars only by running::

    gsc -c RA DEC -r ARCMIN -m 0 MAGLIMIT -n 3000

(``ccd_simulator.cpp``: RA and DEC J2000 degrees as ``%8.6f %+8.6f``, the radius in arcminutes,
the magnitude range, the most stars wanted) and reading each line it prints with
``sscanf("%10s %f %f %f %f %f %d %d %4s %2s %f %d")``: id, ra, dec, position error, magnitude,
magnitude error, band, class, plate, origin, distance, direction; a line that does not give 12
fields is skipped. No ``gsc`` is packaged for Debian, so it logs ``sh: gsc: not found`` and
draws no stars. This one answers from the Tycho-2 catalogue `indipysimulators.starcatalogue`
reads (Debian's ``astrometry-data-tycho2-07``), the brightest stars first, so indilib's
simulator renders the real sky too.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys

from .starcatalogue import CatalogueError
from .starcatalogue import Star
from .starcatalogue import default_catalogue

logger = logging.getLogger(__name__)

#: The Tycho-2 positions' error (arcseconds, a typical 60 mas written as GSC gives it, in
#: arcseconds) and the magnitudes' (Tycho's VT to mag 11: about 0.1).
POSITION_ERROR = 0.1
MAGNITUDE_ERROR = 0.1


def separation(ra1: float, dec1: float, ra2: float, dec2: float) -> tuple[float, float]:
    """The angle from the first point to the second (arcminutes) and its position angle
    (degrees east of north, [0, 360)), all in degrees of J2000."""
    a1, d1, a2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    da = a2 - a1
    # The haversine form: exact at the small angles a field holds.
    h = (math.sin((d2 - d1) / 2) ** 2
         + math.cos(d1) * math.cos(d2) * math.sin(da / 2) ** 2)
    angle = 2 * math.asin(min(1.0, math.sqrt(h)))
    bearing = math.atan2(math.sin(da) * math.cos(d2),
                         math.cos(d1) * math.sin(d2) - math.sin(d1) * math.cos(d2) * math.cos(da))
    return math.degrees(angle) * 60.0, math.degrees(bearing) % 360.0


def gsc_line(star: Star, ra: float, dec: float) -> str:
    """`star` as the twelve fields indilib's simulator reads, measured from (`ra`, `dec`)."""
    distance, direction = separation(ra, dec, star.ra, star.dec)
    # id %10s (ten characters, no space); band 0 and class 0 (a star: GSC's class 3 is not);
    # plate %4s and origin %2s, four and two characters.
    return (f"T{star.index:09d} {star.ra:10.6f} {star.dec:+10.6f} {POSITION_ERROR:.1f} "
            f"{star.mag:5.2f} {MAGNITUDE_ERROR:.2f} 0 0 TYC2 AN {distance:7.3f} "
            f"{round(direction) % 360:d}")


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(
        prog="gsc", description="Stars of Tycho-2 around a J2000 position, in the lines "
        "of the Guide Star Catalog's gsc program (what indilib's CCD simulator runs).")
    made.add_argument("-c", nargs=2, type=float, required=True, metavar=("RA", "DEC"),
                      help="the centre, J2000 degrees")
    made.add_argument("-r", type=float, default=10.0, metavar="ARCMIN",
                      help="the radius in arcminutes (10)")
    made.add_argument("-m", nargs=2, type=float, default=(-5.0, 99.0),
                      metavar=("MIN", "MAX"), help="the magnitude range")
    made.add_argument("-n", type=int, default=0, metavar="N",
                      help="at most N stars, the brightest (0: all)")
    return made


def query(ra: float, dec: float, radius_arcmin: float, mag_min: float, mag_max: float,
          most: int) -> list[Star]:
    """The stars `gsc` prints: within the radius and the magnitudes, the brightest `most`."""
    stars = [star for star in default_catalogue().cone(ra % 360.0, dec, radius_arcmin / 60.0,
                                                       mag_max)
             if star.mag >= mag_min]
    return stars[:most] if most > 0 else stars


def main(argv: list[str] | None = None) -> None:
    """``gsc -c RA DEC -r ARCMIN -m MIN MAX -n N``: one line a star on standard output."""
    args = parser().parse_args(argv)
    ra, dec = args.c
    if not -90.0 <= dec <= 90.0 or not math.isfinite(ra) or not args.r >= 0:
        sys.exit(f"gsc: no such field: -c {ra} {dec} -r {args.r}")
    try:
        stars = query(ra, dec, args.r, args.m[0], args.m[1], args.n)
    except CatalogueError as exc:
        sys.exit(f"gsc: {exc}")
    sys.stdout.write("".join(gsc_line(star, ra % 360.0, dec) + "\n" for star in stars))


if __name__ == "__main__":
    main()
