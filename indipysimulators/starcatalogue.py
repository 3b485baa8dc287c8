"""The real sky's stars: Tycho-2 read out of astrometry.net's index files, as Debian packs them.

Debian's ``astrometry-data-tycho2-07`` (the index 4107, scales 22'-30', 88 MB to download,
137 MB installed) holds 1,871,011 Tycho-2 stars with their J2000 (ICRS) positions and Tycho
V magnitudes (MAG_VT, 0.1 to about 12.7): the brightest ten of each 22.5' HEALPix cell (its
header's CUTNSIDE 156, CUTNSWEP 10), about 30 in a 0.9 x 0.7 degree field. The same package
is what the solver (``solve-field``) needs for such a field, so the simulated sky and the
solver stand on one install (``scripts/run-tests`` installs it); nothing is downloaded at run
time. ``-08``, ``-09`` and ``-10-19`` are read too when ``-07`` is missing (fewer stars each).

The file is memory-mapped and read where it lies: the star kd-tree's data (three native-endian
u32 per star, a unit vector scaled by its range table), its leaves' last indices (LR) and its
splits (the split dimension in the low two bits) walk a cone query down to the few leaves
that can hold its stars; the magnitudes are a FITS column (big-endian float32). Nothing is
loaded or built at start, and a query's cost is the leaves it touches (about a millisecond
for a 0.6 degree cone), standard library only.

`find_catalogue` picks the file (``INDIPY_STAR_CATALOGUE`` names one), `StarCatalogue.cone`
answers (J2000 in, J2000 out), `jnow_to_j2000` converts a mount's pointing with the core's
IAU 1976 precession (`indipycore.astro`).
"""

from __future__ import annotations

import math
import mmap
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from indipycore.astro import precess_to_j2000

#: Where Debian's astrometry.net index packages put their files.
INDEX_DIR = Path("/usr/share/astrometry")
#: The Tycho-2 index files, most stars first (4107's cells are the finest).
INDEX_NAMES = ("index-tycho2-07", "index-tycho2-08", "index-tycho2-09", "index-tycho2-10")
#: The environment variable naming a catalogue file instead.
ENV = "INDIPY_STAR_CATALOGUE"
#: The Debian package to install when none is found.
PACKAGE = "astrometry-data-tycho2-07"

_BLOCK = 2880
_CARD = 80


class CatalogueError(Exception):
    """No catalogue, or a file that is not an astrometry.net star index this reader knows."""


@dataclass(frozen=True, slots=True)
class Star:
    """One catalogue star: J2000 (ICRS) right ascension and declination in degrees, its
    Tycho V magnitude, and its row in the index (a stable id)."""

    ra: float
    dec: float
    mag: float
    index: int


def _hdus(data: mmap.mmap) -> Iterator[tuple[dict[str, str], int, int]]:
    """Each HDU's header cards (keyword -> raw value text), data offset and data length."""
    offset = 0
    size = len(data)
    while offset < size:
        cards: dict[str, str] = {}
        end = False
        while not end:
            if offset + _BLOCK > size:
                raise CatalogueError("truncated FITS header")
            block = data[offset:offset + _BLOCK].decode("ascii", "replace")
            offset += _BLOCK
            for start in range(0, _BLOCK, _CARD):
                card = block[start:start + _CARD]
                key = card[:8].strip()
                if key == "END":
                    end = True
                    break
                if card[8:10] == "= ":
                    cards.setdefault(key, card[10:].split("/")[0].strip().strip("'").strip())
        length = 0
        if int(cards.get("NAXIS", "0")) > 0:
            length = abs(int(cards.get("BITPIX", "8"))) // 8
            for axis in range(1, int(cards["NAXIS"]) + 1):
                length *= int(cards.get(f"NAXIS{axis}", "0"))
            length += int(cards.get("PCOUNT", "0"))
        yield cards, offset, length
        offset += -(-length // _BLOCK) * _BLOCK


class StarCatalogue:
    """A cone search over one astrometry.net index file's stars (J2000 degrees)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as file:
                self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise CatalogueError(f"cannot read the star catalogue {self.path}: {exc}") from exc
        tables: dict[str, tuple[int, int]] = {}
        endian = ""
        for cards, offset, length in _hdus(self._map):
            endian = endian or cards.get("ENDIAN", "")
            if "TTYPE1" in cards:
                tables[cards["TTYPE1"]] = (offset, length)
        wanted = ("kdtree_data_stars", "kdtree_lr_stars", "kdtree_split_stars",
                  "kdtree_range_stars", "MAG_VT")
        missing = [name for name in wanted if name not in tables]
        if missing:
            raise CatalogueError(f"{self.path} is no star index with magnitudes: "
                                 f"no {', '.join(missing)}")
        # "04:03:02:01": the u32 0x01020304 was written little-endian (the ENDIAN card).
        native = "04:03:02:01" if sys.byteorder == "little" else "01:02:03:04"
        if endian != native:
            raise CatalogueError(f"{self.path} is written {endian or 'in no stated order'}; "
                                 f"this machine needs the {sys.byteorder}-endian package")
        view = memoryview(self._map)
        self._data = self._u32(view, tables["kdtree_data_stars"])
        self._lr = self._u32(view, tables["kdtree_lr_stars"])
        self._split = self._u32(view, tables["kdtree_split_stars"])
        self._mag_offset = tables["MAG_VT"][0]
        offset, _ = tables["kdtree_range_stars"]
        ranges = struct.unpack_from("=7d", self._map, offset)
        self._low = ranges[:3]
        self._scale = ranges[6]
        self.count = len(self._data) // 3
        self._interior = len(self._split)
        if len(self._lr) != self._interior + 1 or tables["MAG_VT"][1] != 4 * self.count:
            raise CatalogueError(f"{self.path}: a star tree this reader does not know")

    @staticmethod
    def _u32(view: memoryview, where: tuple[int, int]) -> memoryview:
        offset, length = where
        return view[offset:offset + length].cast("I")

    def close(self) -> None:
        """Let go of the mapped file (the views first)."""
        for view in (self._data, self._lr, self._split):
            view.release()
        self._map.close()

    def star(self, index: int) -> Star:
        """The star at row `index` of the index file."""
        d = self._data
        x, y, z = (self._low[k] + d[3 * index + k] / self._scale for k in range(3))
        ra = math.degrees(math.atan2(y, x)) % 360.0
        dec = math.degrees(math.asin(max(-1.0, min(1.0, z))))
        (mag,) = struct.unpack_from(">f", self._map, self._mag_offset + 4 * index)
        return Star(ra, dec, mag, index)

    def cone(self, ra: float, dec: float, radius: float,
             mag_limit: float = 99.0) -> list[Star]:
        """The stars within `radius` degrees of (`ra`, `dec`) (J2000 degrees) and no fainter
        than `mag_limit`, brightest first."""
        if not radius >= 0 or not math.isfinite(ra) or not -90.0 <= dec <= 90.0:
            raise ValueError(f"no such cone: ra {ra}, dec {dec}, radius {radius}")
        a, d = math.radians(ra), math.radians(dec)
        centre = (math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d))
        # The chord a point within `radius` is from the centre: the box's half side.
        chord = 2.0 * math.sin(math.radians(min(radius, 180.0)) / 2.0)
        limit = chord * chord
        low = [math.floor((c - chord - lo) * self._scale) for c, lo in zip(centre, self._low)]
        high = [math.ceil((c + chord - lo) * self._scale) for c, lo in zip(centre, self._low)]
        data, lr, split = self._data, self._lr, self._split
        found: list[Star] = []
        nodes = [0]
        while nodes:
            node = nodes.pop()
            if node < self._interior:
                packed = split[node]
                dim, at = packed & 3, packed & ~3
                # libkd: the left child holds the points on the low side of the plane, the
                # right the high side; a point on the plane's 4-unit step may be on either.
                if low[dim] <= at + 3:
                    nodes.append(2 * node + 1)
                if high[dim] >= at:
                    nodes.append(2 * node + 2)
                continue
            leaf = node - self._interior
            first = lr[leaf - 1] + 1 if leaf else 0
            for index in range(first, lr[leaf] + 1):
                x = self._low[0] + data[3 * index] / self._scale - centre[0]
                y = self._low[1] + data[3 * index + 1] / self._scale - centre[1]
                z = self._low[2] + data[3 * index + 2] / self._scale - centre[2]
                if x * x + y * y + z * z <= limit:
                    star = self.star(index)
                    if star.mag <= mag_limit:
                        found.append(star)
        found.sort(key=lambda star: (star.mag, star.index))
        return found


def find_catalogue(directory: Path = INDEX_DIR) -> Path:
    """The catalogue file: ``$INDIPY_STAR_CATALOGUE``, else the deepest Tycho-2 index file
    installed in `directory` (CatalogueError naming the package to install when none is)."""
    named = os.environ.get(ENV)
    if named:
        return Path(named)
    for name in INDEX_NAMES:
        for path in sorted(directory.glob(f"{name}*.fits")):
            if sys.byteorder in path.name or "endian" not in path.name:
                return path
    raise CatalogueError(f"no star catalogue in {directory}: install the Debian package "
                         f"{PACKAGE} (apt-get install {PACKAGE}), or set {ENV}")


@lru_cache(maxsize=4)
def _open(path: Path) -> StarCatalogue:
    return StarCatalogue(path)


def default_catalogue() -> StarCatalogue:
    """The installed catalogue, opened once a process (CatalogueError when there is none)."""
    return _open(find_catalogue())


def jnow_to_j2000(ra_hours: float, dec: float, when: datetime) -> tuple[float, float]:
    """A mount's JNow pointing (INDI's EQUATORIAL_EOD_COORD: hours, degrees; the mean equator
    and equinox of `when`, precession only) as J2000 degrees, the catalogue's frame."""
    ra, dec2000 = precess_to_j2000(ra_hours, dec, when)
    return ra * 15.0, dec2000
