"""What to ask ``solve-field``, and with which index files: pure, no I/O.

`Hints` is AGENT_PLATESOLVER_HINTS made a value (J2000 here: the agent precesses a JNow hint
first); `arguments` the command line astrometry.net 0.93's ``solve-field`` takes for it: only
the ``.wcs`` file written, the reference pixel at the frame's centre, the hints as ranges
(the scale +-`SCALE_SLACK`), at most `MAX_OBJECTS` stars tried, and neither of the Python
helpers it starts by default (removelines, uniformize); for a star list (xylist) instead of an
image, the frame's size and the list's columns.

`needed_indexes` chooses the Tycho-2 index files (Debian's ``astrometry-data-tycho2-*``) a
field needs: those whose skymark scales meet 10 % to 100 % of the field's width, astrometry.net's
and Ekos's rule; `installed_indexes` reads the index numbers out of a folder's file names;
`index_report` says which are needed, installed, missing, and which Debian package brings them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["INDEX_SCALES", "MAX_OBJECTS", "SCALE_SLACK", "Hints", "IndexReport", "arguments",
           "index_report", "installed_indexes", "needed_indexes", "package_of", "plate_scale"]

#: Tycho-2's index files: number -> skymark scale range in arcminutes (astrometry.net's).
INDEX_SCALES: dict[int, tuple[float, float]] = {
    4107: (22, 30), 4108: (30, 42), 4109: (42, 60), 4110: (60, 85), 4111: (85, 120),
    4112: (120, 170), 4113: (170, 240), 4114: (240, 340), 4115: (340, 480),
    4116: (480, 680), 4117: (680, 1000), 4118: (1000, 1400), 4119: (1400, 2000)}
#: The scale hint's slack either side: a focal length is known to a few per cent.
SCALE_SLACK = 0.1
#: The brightest stars solve-field tries: enough for a 1 degree field, and a hopeless frame
#: gives up sooner.
MAX_OBJECTS = 100
_INDEX_FILE = re.compile(r"index-(?:tycho2-(\d\d)|(4[12]\d\d))\D")


@dataclass(frozen=True, slots=True)
class Hints:
    """A solve's hints: the position (J2000, `ra` hours, `dec` degrees) within `radius`
    degrees (0: anywhere), `scale` arcsec a pixel (0: any), `parity` (1 normal, -1
    flipped, 0 either), `downsample` (0 or 1: none), `depth` (0: solve-field's), `cpulimit`
    seconds."""

    ra: float = 0.0
    dec: float = 0.0
    radius: float = 0.0
    scale: float = 0.0
    parity: int = 0
    downsample: int = 0
    depth: int = 0
    cpulimit: float = 180.0


def plate_scale(pixel_size: float | None, focal_length: float | None,
                binning: int = 1) -> float:
    """Arcseconds a pixel of `pixel_size` um at `focal_length` mm (0 when either unknown)."""
    if not pixel_size or not focal_length or pixel_size <= 0 or focal_length <= 0:
        return 0.0
    return 206.264806 * pixel_size * binning / focal_length


def arguments(hints: Hints, image: str, folder: str, *, program: str = "solve-field",
              config: str | None = None, size: tuple[int, int] | None = None) -> list[str]:
    """``solve-field``'s command line for `image`, writing into `folder` (only
    ``solve.wcs``), with astrometry.net's configuration file `config` when given; with
    `size` (width, height in pixels), `image` is a star list (columns X, Y, FLUX)."""
    # --no-remove-lines and --uniformize 0 skip two Python helpers solve-field would start
    # (measured here: a hinted solve in 2.7 s instead of 6.2 s on a loaded machine).
    args = [program, "--overwrite", "--no-plots", "--no-verify", "--crpix-center",
            "--no-remove-lines", "--uniformize", "0",
            "--dir", folder, "--out", "solve", "--temp-axy", "--new-fits", "none",
            "--index-xyls", "none", "--rdls", "none", "--corr", "none", "--match", "none",
            "--solved", "none", "--objs", str(MAX_OBJECTS),
            "--cpulimit", str(max(1, math.ceil(hints.cpulimit)))]
    if config:
        args += ["--config", config]
    if hints.radius > 0:
        args += ["--ra", f"{hints.ra * 15.0:.6f}", "--dec", f"{hints.dec:.6f}",
                 "--radius", f"{hints.radius:g}"]
    if hints.scale > 0:
        args += ["--scale-units", "arcsecperpix",
                 "--scale-low", f"{hints.scale * (1 - SCALE_SLACK):.4f}",
                 "--scale-high", f"{hints.scale * (1 + SCALE_SLACK):.4f}"]
    if hints.parity:
        args += ["--parity", "pos" if hints.parity > 0 else "neg"]
    if hints.downsample > 1:
        args += ["--downsample", str(hints.downsample)]
    if hints.depth > 0:
        args += ["--depth", str(hints.depth)]
    if size is not None:
        args += ["--width", str(size[0]), "--height", str(size[1]), "--x-column", "X",
                 "--y-column", "Y", "--sort-column", "FLUX"]
    args.append(image)
    return args


def needed_indexes(field_width: float) -> tuple[int, ...]:
    """The index files a field `field_width` degrees wide needs: skymark scales meeting
    10 % to 100 % of the width; none for a width of 0 (unknown)."""
    if not field_width > 0:
        return ()
    low, high = 0.1 * field_width * 60.0, field_width * 60.0
    return tuple(number for number, (small, large) in INDEX_SCALES.items()
                 if small <= high and large >= low)


def installed_indexes(names: Iterable[str]) -> frozenset[int]:
    """The index numbers among file `names` (``index-tycho2-07.littleendian.fits`` is
    4107, ``index-4108.fits`` 4108)."""
    found: set[int] = set()
    for name in names:
        match = _INDEX_FILE.match(name)
        if match:
            found.add(4100 + int(match.group(1)) if match.group(1) else int(match.group(2)))
    return frozenset(found)


def package_of(index: int) -> str:
    """The Debian package that brings a Tycho-2 index file."""
    number = index - 4100
    if 7 <= number <= 9:
        return f"astrometry-data-tycho2-{number:02d}"
    if 10 <= number <= 19:
        return "astrometry-data-tycho2-10-19"
    return f"an index {index} (no Debian package)"


@dataclass(frozen=True, slots=True)
class IndexReport:
    """The indexes a field needs, those installed, and those missing."""

    needed: tuple[int, ...]
    installed: tuple[int, ...]

    @property
    def missing(self) -> tuple[int, ...]:
        return tuple(index for index in self.needed if index not in self.installed)

    @property
    def usable(self) -> bool:
        """Whether at least one needed index is there (or nothing is known of the field)."""
        return not self.needed or len(self.missing) < len(self.needed)

    def packages(self) -> list[str]:
        return sorted({package_of(index) for index in self.missing})

    def text(self) -> str:
        if not self.needed:
            return "the field's size is not known yet"
        said = f"needs {_names(self.needed)}; installed {_names(self.installed) or 'none'}"
        if self.missing:
            said += f"; missing {_names(self.missing)} ({', '.join(self.packages())})"
        return said


def _names(indexes: Iterable[int]) -> str:
    return ", ".join(str(index) for index in indexes)


def index_report(field_width: float, installed: Iterable[int]) -> IndexReport:
    needed = needed_indexes(field_width)
    have = frozenset(installed)
    return IndexReport(needed, tuple(index for index in needed if index in have))
